//! ndp on ST's NUCLEO-F767ZI, the embassy way: embassy's executor,
//! embassy-net with its DHCPv4 client, and ndp-embassy for IPv6.
//!
//! The hardware is set up as in the plain image (src/main.rs: clocks,
//! RMII pins, RNG, the RFC 7217 secret in flash sector 11, the MAC from
//! the unique ID); embassy-time runs on TIM5. Three tasks:
//!
//! - embassy-net's runner, over the Ethernet driver wrapped by
//!   ndp-embassy (`NdpDriver`);
//! - ndp-embassy's `Control::run`, which gives embassy-net the engine's
//!   address, router and DNS servers and logs every event;
//! - a UDP echo on port 7 (IPv6 and IPv4).
//!
//! embassy-net answers ping. Logs: defmt over RTT (`cargo xtask flash
//! nucleo-f767zi-embassy`).
#![no_std]
#![no_main]

use defmt::{info, warn};
use defmt_rtt as _;
use embassy_executor::Spawner;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{Runner, Stack, StackResources};
use embassy_stm32::eth::{self, Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::flash::Flash;
use embassy_stm32::peripherals::{ETH, ETH_SMA, RNG};
use embassy_stm32::{bind_interrupts, rng};
use ndp_embassy::{Config, Control, MacAddr, NdpDriver, State};
use nucleo_f767zi::hw::{self, rcc_config};
use nucleo_f767zi::mac_from_uid;
use panic_probe as _;
use static_cell::StaticCell;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    RNG => rng::InterruptHandler<RNG>;
});

/// UDP echo port (RFC 862).
const ECHO_PORT: u16 = 7;

type Eth = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, NdpDriver<'static, Eth>>) -> ! {
    runner.run().await
}

#[embassy_executor::task]
async fn ndp_task(control: Control<'static>, stack: Stack<'static>) -> ! {
    control.run(stack, |event| info!("ndp: {}", event)).await
}

/// Echo every UDP datagram on port 7 back to its sender.
#[embassy_executor::task]
async fn echo_task(stack: Stack<'static>) -> ! {
    let mut rx_meta = [PacketMetadata::EMPTY; 4];
    let mut rx_buf = [0; 1536];
    let mut tx_meta = [PacketMetadata::EMPTY; 4];
    let mut tx_buf = [0; 1536];
    let mut socket = UdpSocket::new(stack, &mut rx_meta, &mut rx_buf, &mut tx_meta, &mut tx_buf);
    if let Err(e) = socket.bind(ECHO_PORT) {
        warn!("udp echo: {}", e);
    }
    let mut buf = [0; 1500];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, meta)) => {
                let data = buf.get(..n).unwrap_or(&[]);
                if let Err(e) = socket.send_to(data, meta.endpoint).await {
                    warn!("udp echo: {}", e);
                }
            }
            Err(e) => warn!("udp echo: {}", e),
        }
    }
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_stm32::init(rcc_config());

    // Entropy: the RNG (reads bounded in nucleo_f767zi::hw), and the
    // RFC 7217 secret kept in sector 11.
    let _rng = rng::Rng::new(p.RNG, Irqs);
    let seed = hw::seed(0);
    let secret = hw::secret(Flash::new_blocking(p.FLASH));

    let mac = mac_from_uid(&embassy_stm32::uid::uid());
    static QUEUE: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let eth = Ethernet::new(
        QUEUE.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        mac,
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );

    // IPv6 is the engine's; embassy-net keeps IPv4 (DHCP).
    static NDP: StaticCell<State> = StaticCell::new();
    let config = Config::stable(MacAddr(mac), seed, secret);
    let (driver, control) = match ndp_embassy::new(eth, config, NDP.init(State::new())) {
        Ok(pair) => pair,
        Err(e) => defmt::panic!("ndp-embassy: {}", e),
    };
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        driver,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    info!("ethernet up; MAC {=[u8]:02x}", mac);
    for spawned in [
        spawner.spawn(net_task(runner)),
        spawner.spawn(ndp_task(control, stack)),
        spawner.spawn(echo_task(stack)),
    ] {
        if spawned.is_err() {
            defmt::panic!("a task could not be spawned");
        }
    }
}
