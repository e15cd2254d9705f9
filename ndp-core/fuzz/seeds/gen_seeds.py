#!/usr/bin/env python3
"""Write the fuzz seeds from captures/linux-radvd.pcap (see README.md).

    python3 ndp-core/fuzz/seeds/gen_seeds.py          # (re)write the seeds
    python3 ndp-core/fuzz/seeds/gen_seeds.py --check  # fail if any differs

Standard library only; the output depends on nothing but the capture, so
running it twice gives the same files.

- wire_roundtrip/: every NDP, MLD and Destination Unreachable message, in
  that target's layout, named by the SHA-1 of the content.
- stack_ops/: operation sequences for fuzz_targets/stack_ops.rs (its module
  documentation defines the layout), seen from host A of the capture, whose
  MAC the fuzzed stack has: the capture replayed, and a few scenarios.
"""

import hashlib
import ipaddress
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
CAPTURE = HERE.parents[2] / "captures" / "linux-radvd.pcap"

ROUTER_MAC = bytes.fromhex("02005e005301")
HOST_A_MAC = bytes.fromhex("02005e005310")
HOST_B_MAC = bytes.fromhex("02005e005320")

ND_MLD_UNREACHABLE = {1, 130, 131, 132, 133, 134, 135, 136, 137, 143}
ECHO_REQUEST = 128


def a(s):
    return ipaddress.IPv6Address(s).packed


# Host A's addresses in the capture, as the selectors of our own: the
# link-local address is our first, then one per prefix in the RA's order.
HOST_A = {
    a("fe80::4ef8:abfd:3ec:e44d"): 0,
    a("2001:db8:1:0:769:5b2d:89ff:6ff4"): 1,
    a("fd00:1234::d30b:a399:fc44:393d"): 2,
    a("ff02::1:ffec:e44d"): 4,
    a("ff02::1:ffff:6ff4"): 5,
    a("ff02::1:ff44:393d"): 6,
}

# Selectors 8-31: FIXED in fuzz_targets/stack_ops.rs, in the same order.
FIXED = [
    "::", "ff02::1", "ff02::2", "ff02::16",
    "fe80::280b:6dff:feee:f2a4", "fe80::1",
    "fe80::5eff:fe00:5320", "fe80::99",
    "2001:db8:1::1", "2001:db8:99::1", "fd00:1234::1", "2001:db8:1::5eff:fe00:5320",
    "fe80::100", "fe80::101", "fe80::102", "fe80::103",
    "fe80::104", "fe80::105", "fe80::106", "fe80::107",
    "2001:db8:ff::1", "ff02::1:ffee:f2a4", "2001:db8:1::dead",
    "2001:db8:1:0:769:5b2d:89ff:6ff4",
]
SEL = {a(s): 8 + i for i, s in enumerate(FIXED)}
SEL_LL, SEL_GLOBAL, SEL_GLOBAL_GROUP = 0, 1, 5
SEL_UNSPECIFIED, SEL_ALL_NODES = SEL[a("::")], SEL[a("ff02::1")]
SEL_ROUTER_GLOBAL = SEL[a("2001:db8:1::1")]
SEL_POOL = SEL[a("fe80::100")]


class Frame:
    def __init__(self, number, time_us, data):
        self.number, self.time_us = number, time_us
        self.eth_src = data[6:12]
        ip = data[14:]
        self.hop = ip[7]
        self.src, self.dst = ip[8:24], ip[24:40]
        nh, rest = ip[6], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
        if nh == 0:  # Hop-by-Hop (MLD's Router Alert)
            nh, rest = rest[0], rest[(rest[1] + 1) * 8:]
        assert nh == 58, f"frame {number} is not ICMPv6"
        self.icmp = rest
        self.type = rest[0]


def frames():
    raw = CAPTURE.read_bytes()
    magic = raw[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        end, scale = "<", 1
    elif magic == b"\xa1\xb2\xc3\xd4":
        end, scale = ">", 1
    elif magic == b"\x4d\x3c\xb2\xa1":
        end, scale = "<", 1000
    else:
        raise SystemExit(f"{CAPTURE}: not a pcap file")
    assert struct.unpack(end + "I", raw[20:24])[0] == 1, "Ethernet"
    out, off = [], 24
    while off < len(raw):
        sec, frac, incl, _ = struct.unpack(end + "IIII", raw[off:off + 16])
        data = raw[off + 16:off + 16 + incl]
        off += 16 + incl
        out.append(Frame(len(out) + 1, sec * 1_000_000 + frac // scale, data))
    assert len(out) == 70, "the capture's README says 70 frames"
    t0 = out[0].time_us
    for f in out:
        f.ms = (f.time_us - t0) // 1000
    return out


# ---------------------------------------------------------------- wire_roundtrip

def wire_roundtrip_seeds(fs):
    seeds = {}
    for f in fs:
        if f.type in ND_MLD_UNREACHABLE:
            body = b"\x01" + f.src + f.dst + bytes([f.hop]) + f.icmp
            seeds[hashlib.sha1(body).hexdigest()] = body
    return seeds


# ---------------------------------------------------------------- stack_ops

def config(stable=False, optimistic=True, dad=1, rs=True, gna=3, one_per_neighbor=False):
    return bytes([
        int(stable) | (0 if optimistic else 2) | (dad << 2) | (0 if rs else 0x10)
        | (gna << 5) | (0x80 if one_per_neighbor else 0)
    ])


def time_codes(ms):
    """Time codes adding up to `ms`."""
    out = []
    while ms >= 64_000:
        s = min(ms // 1000, 63)
        out.append(0x80 | s)
        ms -= s * 1000
    while ms >= 100:
        t = min(ms // 100, 63)
        out.append(0x40 | t)
        ms -= t * 100
    if ms >= 64:
        out.append(63)
        ms -= 63
    if ms or not out:
        out.append(ms)
    return out


def step(ms):
    """Advance by `ms` in steps (advance + drain)."""
    return b"".join(bytes([1, t]) for t in time_codes(ms))


def hours(h):
    return bytes([1, 0xC0 | (h * 6)]) if h * 6 < 48 else None


def sel(addr):
    if addr in HOST_A:
        return bytes([HOST_A[addr]])
    if addr in SEL:
        return bytes([SEL[addr]])
    return b"\xff" + addr


def receive(f, dst=None, target=None, icmp=None):
    """Receive frame `f`, host A's addresses replaced by ours."""
    icmp = f.icmp if icmp is None else icmp
    flags = 0  # checksum fixed up: the addresses change
    if target is None and len(icmp) >= 24 and f.type in (135, 136, 137) and icmp[8:24] in HOST_A:
        target = HOST_A[icmp[8:24]]
    if target is not None:
        flags |= 2
    flags |= {ROUTER_MAC: 1 << 2, HOST_B_MAC: 2 << 2}.get(f.eth_src, 0)
    return (bytes([2, flags]) + sel(f.src) + (sel(f.dst) if dst is None else bytes([dst]))
            + bytes([f.hop, 0 if target is None else target])
            + struct.pack(">H", len(icmp)) + icmp)


def send(src, dst, payload_bytes=64, next_header=1):
    """send(): next_header 0 UDP, 1 ICMPv6, 2 TCP, 3 none."""
    return bytes([5, next_header << 1, src, dst, payload_bytes // 8])


def drain():
    return bytes([3, 0])


EVENTS = bytes([8])
LINK_UP = bytes([7])


def loopback(k=0):
    return bytes([9, k])


def route(s):
    return bytes([4, s])


def confirm(s):
    return bytes([6, s])


# Host A's pings in the capture, replayed as send() calls from our
# addresses (and a drain, for the engine to resolve the next hop) where
# host A's first frame for each is: its NS, or the echo request itself.
APP_SENDS = {
    30: send(SEL_GLOBAL, SEL_ROUTER_GLOBAL),          # ping 2001:db8:1::1
    36: send(SEL_LL, SEL_ALL_NODES),                   # ping ff02::1
    41: send(SEL_GLOBAL, SEL[a("2001:db8:1::5eff:fe00:5320")]),  # ping host B
    53: send(SEL_GLOBAL, SEL[a("2001:db8:99::1")]),    # ping off-link: Redirect
}

# The router never answered the engine's probes of its link-local address
# (it was not in the capture): its NA of frame 31, for that address
# instead, after the frames where the engine has probed it.
ROUTER_ANSWERS_AFTER = {19, 45, 63}


def replay(fs, header):
    """The capture as host A lived it: steps to each frame's time, host A's
    pings as send(), everything others sent received, events read along."""
    out, now = bytearray(header), 0
    for f in fs:
        if f.ms > now:
            out += step(f.ms - now)
            now = f.ms
        if f.eth_src == HOST_A_MAC:
            if f.number in APP_SENDS:
                out += APP_SENDS[f.number] + drain()
        else:
            out += receive(f)
        if f.number in ROUTER_ANSWERS_AFTER:
            out += drain() + router_na(fs)
        if f.number % 10 == 0:
            out += EVENTS
    # Then the lifetimes run out: DNS (600 s), routes (1,800 s), the ULA
    # (7,200 s), the rest (a day).
    out += drain() + step(0) + EVENTS
    for h in (1, 2, 3, 7):
        out += hours(h) + EVENTS
    out += bytes([1, 0xC0 | 49]) + EVENTS  # two days
    return bytes(out)


def by_number(fs, n):
    return fs[n - 1]


def router_na(fs):
    """radvd's router's NA (frame 31, R=1 S=1 O=1, its MAC) for its
    link-local address, to our link-local address."""
    na = by_number(fs, 31)
    return (bytes([2, 2 | 1 << 2, SEL[a("fe80::280b:6dff:feee:f2a4")], SEL_LL, 255,
                   SEL[a("fe80::280b:6dff:feee:f2a4")]])
            + struct.pack(">H", len(na.icmp)) + na.icmp)


def configured(fs, header):
    """Boot, then radvd's RA (frame 12) at 1 s, the router's answer to
    the engine's probe, then 100 ms."""
    return header + step(1000) + receive(by_number(fs, 12)) + drain() + router_na(fs) + step(100)


def scenarios(fs):
    ra = by_number(fs, 12)
    stop_ra = by_number(fs, 70)
    probe_b = by_number(fs, 16)  # host B's DAD probe (with a nonce)
    ns_b = by_number(fs, 38)     # host B resolves host A's link-local
    na_router = by_number(fs, 31)
    redirect = by_number(fs, 54)
    eui64, stable = config(), config(stable=True)
    s = {}
    s["replay-eui64"] = replay(fs, eui64 + b"\x01\x00")
    s["replay-stable"] = replay(fs, stable + b"\x02\x00")
    s["replay-slow-dad"] = replay(fs, config(optimistic=False, dad=2, gna=1) + b"\x03\x00")
    s["replay-no-dad-no-rs"] = replay(fs, config(dad=0, rs=False, gna=0, one_per_neighbor=True)
                                      + b"\x04\x07")
    # Someone else probes our new global address while it is optimistic:
    # RFC 7217 picks another identifier; three times, then it gives up.
    conflict = configured(fs, stable + b"\x05\x00")
    for _ in range(4):
        conflict += (receive(probe_b, dst=SEL_GLOBAL_GROUP, target=SEL_GLOBAL)
                     + step(0) + EVENTS + step(1500))
    s["dad-conflict-stable"] = conflict + step(5000) + EVENTS
    # The same against the MAC-based link-local address: IPv6 goes off.
    s["dad-conflict-eui64-link-local"] = (
        eui64 + b"\x06\x00" + step(0)
        + receive(probe_b, dst=4, target=SEL_LL) + step(0) + EVENTS + step(2000))
    # A link that loops multicast back: our own probes come back (RFC 7527).
    looped = stable + b"\x07\x00" + step(0) + loopback(0) + step(1000)
    looped += receive(ra) + step(0) + loopback(0) + loopback(1) + step(1000)
    s["dad-loopback"] = looped + loopback(0) + step(3000) + EVENTS
    # Address resolution: answered (frame 31), and never answered for
    # eight neighbors (the cache fills, errors go back to the sender).
    resolve = configured(fs, eui64 + b"\x08\x00") + step(1000)
    resolve += send(SEL_GLOBAL, SEL_ROUTER_GLOBAL) + step(0) + receive(na_router) + step(0)
    for i in range(8):
        resolve += send(SEL_LL, SEL_POOL + i, 8 * i, i % 4)
    resolve += step(0) + step(1000) + step(1000) + step(1000) + step(1000) + EVENTS
    s["resolution"] = resolve
    # NUD: REACHABLE, STALE after ReachableTime, DELAY on use, PROBE, gone;
    # an upper-layer hint in between.
    nud = configured(fs, eui64 + b"\x09\x00") + receive(ns_b, dst=4, target=SEL_LL) + step(0)
    nud += send(SEL_LL, SEL[a("fe80::5eff:fe00:5320")]) + step(0)
    nud += confirm(SEL[a("fe80::5eff:fe00:5320")]) + step(50_000)
    nud += send(SEL_LL, SEL[a("fe80::5eff:fe00:5320")]) + step(6000) + step(1000)
    s["nud"] = nud + step(1000) + step(1000) + step(1000) + EVENTS
    # Off-link traffic, the router's Redirect, then the router leaves.
    redir = configured(fs, eui64 + b"\x0a\x00") + step(1000)
    redir += route(SEL[a("2001:db8:99::1")]) + send(SEL_GLOBAL, SEL[a("2001:db8:99::1")])
    redir += step(0) + receive(redirect) + step(0) + route(SEL[a("2001:db8:99::1")])
    redir += step(1000) + receive(stop_ra) + step(0) + route(SEL[a("2001:db8:99::1")])
    s["redirect-then-router-leaves"] = redir + EVENTS
    # The cable comes back: DAD, MLD and RS again.
    s["link-up"] = (configured(fs, stable + b"\x0b\x00") + step(3000) + LINK_UP + step(0)
                    + step(1000) + LINK_UP + step(500) + step(1000) + EVENTS)
    # Small transmit buffers: everything dropped and counted.
    s["small-buffers"] = configured(fs, eui64 + b"\x0c\x00") + bytes([3, 0xf0, 3, 0xf4, 3, 0xf8])
    # An ND proxy for 2001:db8:99::/64 (Router flag on): host B asks for
    # 2001:db8:99::1 (answered), probes it for DAD (not answered), then
    # the target is denied, then the proxy is cleared (op bytes 252-255,
    # `len addr`; the length byte 193 is /64 with its top bit set).
    proxied = a("2001:db8:99::1")

    def ask(f):
        group = a("ff02::1:ff00:1")
        flags = 2 | (2 << 2)  # patch the target; host B's MAC
        return (bytes([2, flags]) + sel(f.src) + b"\xff" + group
                + bytes([255, SEL[proxied]]) + struct.pack(">H", len(f.icmp)) + f.icmp)

    proxy = configured(fs, eui64 + b"\x0e\x00") + step(1000)
    proxy += bytes([252, 193]) + sel(proxied) + ask(ns_b) + step(0) + EVENTS
    proxy += ask(probe_b) + step(0)
    proxy += bytes([254, 128]) + sel(proxied) + ask(ns_b) + step(0)
    proxy += bytes([255, 0]) + sel(proxied) + ask(ns_b) + step(0) + EVENTS
    s["proxy"] = proxy
    # Every message others sent, each on its own after the RA.
    seen = set()
    for f in fs:
        if f.eth_src == HOST_A_MAC or f.type not in ND_MLD_UNREACHABLE or f.icmp in seen:
            continue
        seen.add(f.icmp)
        s[f"frame-{f.number:02}"] = configured(fs, eui64 + b"\x0d\x00") + receive(f) + step(0) + EVENTS
    return s


# ---------------------------------------------------------------- output

def write(directory, seeds, check):
    directory.mkdir(exist_ok=True)
    ok = True
    existing = {p.name for p in directory.iterdir() if p.is_file()}
    for name, body in sorted(seeds.items()):
        path = directory / name
        if check:
            if not path.is_file() or path.read_bytes() != body:
                print(f"{path}: differs or missing")
                ok = False
        else:
            path.write_bytes(body)
    for name in sorted(existing - set(seeds)):
        if check:
            print(f"{directory / name}: not generated")
            ok = False
        else:
            (directory / name).unlink()
    return ok


def main():
    check = "--check" in sys.argv[1:]
    fs = frames()
    ok = write(HERE / "wire_roundtrip", wire_roundtrip_seeds(fs), check)
    ok &= write(HERE / "stack_ops", scenarios(fs), check)
    if check and not ok:
        raise SystemExit("seeds differ from gen_seeds.py's output")
    if not check:
        print(f"wrote {HERE / 'wire_roundtrip'} and {HERE / 'stack_ops'}")


if __name__ == "__main__":
    main()
