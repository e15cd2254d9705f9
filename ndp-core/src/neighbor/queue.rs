//! Packets waiting for address resolution ([RFC 4861 §7.2.2]).
//!
//! A fixed number of slots and a fixed byte budget shared by all
//! neighbors. Packets are stored back to back in slot order; removing one
//! moves the bytes after it down, which is cheap for a few kilobytes and
//! keeps the store free of fragmentation.
//!
//! Rules:
//! - at most `per_neighbor` packets per neighbor; a new arrival replaces
//!   that neighbor's oldest ([RFC 4861 §7.2.2]: "the new arrival SHOULD
//!   replace the oldest entry");
//! - a packet that does not fit the slots or the byte budget is refused;
//! - when resolution fails the neighbor's packets are kept, marked failed,
//!   until the engine has answered each with a Destination Unreachable.
//!
//! [RFC 4861 §7.2.2]: https://www.rfc-editor.org/rfc/rfc4861#section-7.2.2

/// Who a queued packet waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The neighbor cache entry at this index.
    Neighbor(u16),
    /// Resolution failed: only the error remains to be sent.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    owner: Owner,
    len: u16,
}

/// Why a packet was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Larger than the whole byte budget (or than 65535 bytes).
    TooBig,
    /// No free slot or not enough free bytes.
    NoSpace,
}

#[derive(Debug, Clone)]
pub(crate) struct PacketQueue<const SLOTS: usize, const BYTES: usize> {
    slots: heapless::Vec<Slot, SLOTS>,
    data: [u8; BYTES],
}

impl<const SLOTS: usize, const BYTES: usize> PacketQueue<SLOTS, BYTES> {
    pub fn new() -> Self {
        PacketQueue {
            slots: heapless::Vec::new(),
            data: [0; BYTES],
        }
    }

    fn used(&self) -> usize {
        self.slots
            .iter()
            .map(|s| usize::from(s.len))
            .fold(0, usize::saturating_add)
    }

    /// Start offset of slot `i`.
    fn offset(&self, i: usize) -> usize {
        self.slots
            .iter()
            .take(i)
            .map(|s| usize::from(s.len))
            .fold(0, usize::saturating_add)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn count(&self, owner: Owner) -> usize {
        self.slots.iter().filter(|s| s.owner == owner).count()
    }

    /// Queue `packet` for neighbor `owner`. Returns whether an older
    /// packet of that neighbor was replaced. A refused packet leaves the
    /// queue unchanged.
    pub fn push(
        &mut self,
        owner: u16,
        packet: &[u8],
        per_neighbor: usize,
    ) -> Result<bool, Refused> {
        let len = u16::try_from(packet.len()).map_err(|_| Refused::TooBig)?;
        if packet.len() > BYTES {
            return Err(Refused::TooBig);
        }
        let owner = Owner::Neighbor(owner);
        // RFC 4861 §7.2.2: a full per-neighbor queue gives up its oldest.
        let replace = if self.count(owner) >= per_neighbor.max(1) {
            self.slots.iter().position(|s| s.owner == owner)
        } else {
            None
        };
        let freed = replace
            .and_then(|i| self.slots.get(i))
            .map_or(0, |s| usize::from(s.len));
        let free_slots = SLOTS
            .saturating_sub(self.slots.len())
            .saturating_add(usize::from(replace.is_some()));
        let free_bytes = BYTES.saturating_sub(self.used()).saturating_add(freed);
        if free_slots == 0 || free_bytes < packet.len() {
            return Err(Refused::NoSpace);
        }
        if let Some(i) = replace {
            self.remove(i);
        }
        let start = self.used();
        let end = start.saturating_add(packet.len());
        let dst = self.data.get_mut(start..end).ok_or(Refused::NoSpace)?;
        dst.copy_from_slice(packet);
        self.slots
            .push(Slot { owner, len })
            .map_err(|_| Refused::NoSpace)?;
        Ok(replace.is_some())
    }

    /// The first packet whose owner satisfies `pred`, as (slot, owner).
    pub fn find(&self, pred: impl Fn(Owner) -> bool) -> Option<(usize, Owner)> {
        self.slots
            .iter()
            .enumerate()
            .find(|(_, s)| pred(s.owner))
            .map(|(i, s)| (i, s.owner))
    }

    /// The bytes of slot `i`.
    pub fn packet(&self, i: usize) -> &[u8] {
        let Some(slot) = self.slots.get(i) else {
            return &[];
        };
        let start = self.offset(i);
        self.data
            .get(start..start.saturating_add(usize::from(slot.len)))
            .unwrap_or(&[])
    }

    /// Drop slot `i` and close the gap.
    pub fn remove(&mut self, i: usize) {
        let Some(slot) = self.slots.get(i).copied() else {
            return;
        };
        let start = self.offset(i);
        let end = start.saturating_add(usize::from(slot.len));
        let used = self.used();
        if end <= used && used <= BYTES {
            self.data.copy_within(end..used, start);
        }
        self.slots.remove(i);
    }

    /// Mark every packet of `owner` failed; returns how many.
    pub fn fail(&mut self, owner: u16) -> usize {
        let mut n = 0usize;
        for s in self
            .slots
            .iter_mut()
            .filter(|s| s.owner == Owner::Neighbor(owner))
        {
            s.owner = Owner::Failed;
            n = n.saturating_add(1);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_neighbor_overflow_replaces_the_oldest() {
        let mut q = PacketQueue::<8, 64>::new();
        assert_eq!(q.push(1, &[1; 4], 2), Ok(false));
        assert_eq!(q.push(2, &[9; 4], 2), Ok(false));
        assert_eq!(q.push(1, &[2; 4], 2), Ok(false));
        assert_eq!(q.push(1, &[3; 4], 2), Ok(true));
        assert_eq!(q.count(Owner::Neighbor(1)), 2);
        let (i, _) = q.find(|o| o == Owner::Neighbor(1)).unwrap();
        assert_eq!(q.packet(i), &[2; 4]);
        // Neighbor 2's packet is intact after the compaction.
        let (j, _) = q.find(|o| o == Owner::Neighbor(2)).unwrap();
        assert_eq!(q.packet(j), &[9; 4]);
    }

    #[test]
    fn byte_budget_and_slots_are_hard_limits() {
        let mut q = PacketQueue::<2, 10>::new();
        assert_eq!(q.push(1, &[0; 11], 2), Err(Refused::TooBig));
        assert_eq!(q.push(1, &[1; 6], 2), Ok(false));
        assert_eq!(q.push(2, &[2; 5], 2), Err(Refused::NoSpace));
        assert_eq!(q.push(2, &[2; 4], 2), Ok(false));
        assert_eq!(q.push(3, &[3; 1], 2), Err(Refused::NoSpace));
        assert_eq!(q.len(), 2);
        // Replacing neighbor 1's packet with a larger one that does not fit
        // the budget is refused and keeps the old packet.
        assert_eq!(q.push(1, &[7; 7], 1), Err(Refused::NoSpace));
        assert_eq!(q.packet(0), &[1; 6]);
        // A replacement that fits the space freed is fine.
        assert_eq!(q.push(1, &[8; 5], 1), Ok(true));
        assert_eq!((q.packet(0), q.packet(1)), (&[2u8; 4][..], &[8u8; 5][..]));
        q.remove(0);
        assert_eq!(q.packet(0), &[8; 5]);
        assert_eq!(q.push(3, &[3; 5], 2), Ok(false));
        assert_eq!(q.packet(1), &[3; 5]);
    }

    #[test]
    fn failing_marks_only_that_neighbor() {
        let mut q = PacketQueue::<4, 64>::new();
        q.push(1, &[1], 2).unwrap();
        q.push(2, &[2], 2).unwrap();
        q.push(1, &[3], 2).unwrap();
        assert_eq!(q.fail(1), 2);
        assert_eq!(q.count(Owner::Failed), 2);
        assert_eq!(q.count(Owner::Neighbor(2)), 1);
        assert_eq!(q.fail(7), 0);
    }
}
