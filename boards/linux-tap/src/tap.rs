//! A Linux TAP device as a smoltcp Ethernet `Device` that never panics:
//! read and write errors (a TAP whose link was taken down answers writes
//! with EIO) are counted and the frame dropped, as a NIC would.

use std::io::{self, ErrorKind};
use std::os::unix::io::{AsRawFd, RawFd};
use std::process::Command;

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Largest Ethernet frame without FCS: 1500 bytes of payload plus header.
const MAX_FRAME: usize = 1514;

pub struct Tap {
    iface: tun_tap::Iface,
    frame_len: usize,
    pub rx_errors: u32,
    pub tx_errors: u32,
}

impl Tap {
    /// Attach to TAP device `name`, creating it if missing, non-blocking,
    /// and bring its link up with `ip link set dev NAME up`.
    pub fn open(name: &str) -> Result<Tap, String> {
        let iface = tun_tap::Iface::without_packet_info(name, tun_tap::Mode::Tap).map_err(|e| {
            format!("cannot attach to TAP device {name}: {e} (needs root or CAP_NET_ADMIN)")
        })?;
        iface
            .set_non_blocking()
            .map_err(|e| format!("cannot make {name} non-blocking: {e}"))?;
        let status = Command::new("ip")
            .args(["link", "set", "dev", name, "up"])
            .status()
            .map_err(|e| {
                format!(
                    "cannot run `ip link set dev {name} up`: {e}; install iproute2 \
                     (apt-get install -y iproute2)"
                )
            })?;
        if !status.success() {
            return Err(format!("`ip link set dev {name} up` failed: {status}"));
        }
        // The kernel side's MTU bounds what it sends us.
        let mtu = std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(1500);
        Ok(Tap {
            iface,
            frame_len: (mtu + 14).min(MAX_FRAME),
            rx_errors: 0,
            tx_errors: 0,
        })
    }
}

impl AsRawFd for Tap {
    fn as_raw_fd(&self) -> RawFd {
        self.iface.as_raw_fd()
    }
}

pub struct RxToken(Vec<u8>);

pub struct TxToken<'a>(&'a mut Tap);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let r = f(&mut frame);
        match self.0.iface.send(&frame) {
            Ok(_) => {}
            // A full queue drops the frame, like a busy NIC.
            Err(_) => self.0.tx_errors = self.0.tx_errors.saturating_add(1),
        }
        r
    }
}

impl Device for Tap {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken, TxToken<'_>)> {
        // Room for a frame larger than the MTU, so it is seen and dropped
        // by the adapter rather than truncated.
        let mut buf = vec![0; MAX_FRAME + 4];
        match self.iface.recv(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                Some((RxToken(buf), TxToken(self)))
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => None,
            Err(e) if e.kind() == ErrorKind::Interrupted => None,
            Err(_) => {
                self.rx_errors = self.rx_errors.saturating_add(1);
                None
            }
        }
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(self))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = self.frame_len;
        caps
    }
}

/// Wait until the TAP has a frame or `timeout` passes; a signal ends the
/// wait early.
pub fn wait(tap: &Tap, timeout: smoltcp::time::Duration) -> io::Result<()> {
    match phy::wait(tap.as_raw_fd(), Some(timeout)) {
        Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
        other => other,
    }
}
