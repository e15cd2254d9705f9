//! Parse arbitrary bytes as any NDP/MLD message; when parsing succeeds,
//! emit, re-parse, and require the same message (the round-trip oracle).
//!
//! Input layout: one flag byte, then the IPv6 source (16), destination (16),
//! hop limit (1), then the ICMPv6 message. Unless bit 0 of the flag byte
//! is set, the checksum is fixed up first so the fuzzer explores message
//! contents rather than checksums.
#![no_main]

use core::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use ndp_core::wire::{self, IpMeta, Message, NdOption, Options, icmpv6};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Some((addrs, rest)) = rest.split_first_chunk::<33>() else { return };
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&addrs[..16]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&addrs[16..32]).unwrap());
    let meta = IpMeta { src, dst, hop_limit: addrs[32] };
    let mut icmp = rest.to_vec();
    if flags & 1 == 0 && icmp.len() >= icmpv6::HEADER_LEN {
        icmpv6::fill_checksum(&mut icmp, &src, &dst).unwrap();
    }

    // The full receive path must never panic, whatever it decides.
    let _ = wire::parse_received(&meta, &icmp);

    let Ok(msg) = Message::parse_checked(&src, &dst, &icmp) else { return };
    let mut out = vec![0u8; msg.buffer_len()];
    let n = msg.emit(&src, &dst, &mut out).expect("a parsed message re-emits");
    assert_eq!(n, out.len());
    let again = Message::parse_checked(&src, &dst, &out).expect("an emitted message parses");
    assert_eq!(msg, again);

    // Typed option emission: every well-formed option, emitted on its own,
    // parses back to itself; and the list of them re-emitted in one piece
    // yields the same sequence.
    if let Some(opts) = msg.options() {
        let good: Vec<NdOption<'_>> = opts.iter().filter_map(Result::ok).collect();
        for o in &good {
            let mut b = vec![0u8; o.buffer_len()];
            assert_eq!(o.emit(&mut b), Ok(b.len()));
            let parsed = Options::parse(&b).expect("an emitted option frames");
            let items: Vec<_> = parsed.iter().collect();
            assert_eq!(items, vec![Ok(*o)]);
        }
        let list = Options::from_list(&good);
        let mut b = vec![0u8; list.buffer_len()];
        assert_eq!(list.emit(&mut b), Ok(b.len()));
        assert_eq!(Options::parse(&b).expect("emitted options frame"), list);
    }
});
