//! `ndp listen`: every Neighbor Discovery and MLD message on the
//! interface, as it arrives.

use crate::decode::{decode, to_json, to_text};
use crate::link::Link;
use crate::{Failure, ListenArgs, TICK, out, time_of_day, wall_clock};

pub fn run(args: &ListenArgs) -> Result<(), Failure> {
    let mut link = Link::open(&args.iface.iface, !args.no_promisc, TICK)?;
    eprintln!(
        "ndp: listening on {} ({}) for neighbor discovery and MLD",
        link.name, link.mac
    );
    let mut shown: u64 = 0;
    loop {
        if args.count.is_some_and(|c| shown >= c) {
            return Ok(());
        }
        let Some(frame) = link.recv()? else {
            continue;
        };
        let Some(d) = decode(frame) else {
            continue;
        };
        let now = wall_clock();
        if args.json {
            let mut v = to_json(&d);
            if let Some(o) = v.as_object_mut() {
                o.insert("time".into(), serde_json::json!(now));
            }
            out(&v.to_string())?;
        } else {
            out(&format!("{} {}", time_of_day(now), to_text(&d)))?;
        }
        shown = shown.saturating_add(1);
    }
}
