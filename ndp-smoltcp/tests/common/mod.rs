//! An in-memory Ethernet cable between smoltcp devices, for the adapter
//! tests.
#![allow(dead_code)]

pub mod node;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

pub type Frames = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of the cable: frames it receives, frames it sends, and a log
/// of everything it sent.
pub struct Nic {
    pub rx: Frames,
    pub tx: Frames,
    pub sent: Rc<RefCell<Vec<Vec<u8>>>>,
    /// No room to transmit while set (a NIC whose queue is full).
    pub busy: Rc<std::cell::Cell<bool>>,
}

pub fn cable() -> (Nic, Nic) {
    let (ab, ba): (Frames, Frames) = Default::default();
    let a = Nic {
        rx: ba.clone(),
        tx: ab.clone(),
        sent: Default::default(),
        busy: Default::default(),
    };
    let b = Nic {
        rx: ab,
        tx: ba,
        sent: Default::default(),
        busy: Default::default(),
    };
    (a, b)
}

/// A NIC with nothing at the other end.
pub fn lone_nic() -> Nic {
    Nic {
        rx: Default::default(),
        tx: Default::default(),
        sent: Default::default(),
        busy: Default::default(),
    }
}

pub struct RxT(Vec<u8>);
pub struct TxT<'a>(&'a Nic);

impl phy::RxToken for RxT {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxT<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        self.0.sent.borrow_mut().push(frame.clone());
        self.0.tx.borrow_mut().push_back(frame);
        r
    }
}

impl Device for Nic {
    type RxToken<'a> = RxT;
    type TxToken<'a> = TxT<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxT, TxT<'_>)> {
        if self.busy.get() {
            return None;
        }
        let f = self.rx.borrow_mut().pop_front()?;
        Some((RxT(f), TxT(self)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxT<'_>> {
        (!self.busy.get()).then_some(TxT(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
}
