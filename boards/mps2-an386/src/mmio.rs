//! 32-bit register access: the one place with `unsafe`.

/// A block of 32-bit registers addressed by byte offset.
pub trait Bus {
    /// Read the register at `offset`.
    fn read(&self, offset: usize) -> u32;
    /// Write `value` to the register at `offset`.
    fn write(&self, offset: usize, value: u32);
}

/// Memory-mapped registers at a fixed base address.
#[derive(Debug, Clone, Copy)]
pub struct Mmio {
    base: usize,
}

impl Mmio {
    /// The register block at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be the address of a device's register block, mapped for
    /// as long as the returned value and its copies are used, and every
    /// offset later passed to [`Bus`] must be a register of that block.
    #[allow(unsafe_code)]
    pub const unsafe fn new(base: usize) -> Self {
        Mmio { base }
    }

    fn addr(&self, offset: usize) -> *mut u32 {
        self.base.wrapping_add(offset) as *mut u32
    }
}

impl Bus for Mmio {
    #[allow(unsafe_code)]
    fn read(&self, offset: usize) -> u32 {
        // SAFETY: `Mmio::new`'s contract: base + offset is a mapped,
        // aligned device register.
        unsafe { core::ptr::read_volatile(self.addr(offset)) }
    }

    #[allow(unsafe_code)]
    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(self.addr(offset), value) }
    }
}
