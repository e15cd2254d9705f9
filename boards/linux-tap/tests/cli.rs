//! linux-tap's command-line contract for bad arguments: a one-line error
//! on stderr, nothing on stdout, exit code 2. Needs no root: every case
//! fails before the TAP device is touched.

mod common;

use std::process::Command;

use common::{BIN, SECRET};

fn bad(args: &[&str], mentions: &str) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line:\n{stderr}"
    );
    assert!(stderr.starts_with("linux-tap: "), "{stderr}");
    assert!(
        stderr.contains(mentions),
        "{args:?}: {stderr:?} lacks {mentions:?}"
    );
}

#[test]
fn missing_required_arguments() {
    bad(&[], "--iface <NAME> --mac <MAC> --secret <HEX>");
    bad(
        &["--iface", "tap0", "--mac", "02:00:5e:00:53:10"],
        "--secret",
    );
}

#[test]
fn malformed_mac_addresses() {
    for mac in [
        "02:00:5e:00:53",
        "02-00-5e-00-53-10",
        "02:00:5e:00:53:1g",
        "2:0:5e:0:53:10",
    ] {
        bad(
            &["--iface", "tap0", "--mac", mac, "--secret", SECRET],
            "--mac",
        );
    }
    // A group address cannot be an interface's.
    bad(
        &[
            "--iface",
            "tap0",
            "--mac",
            "03:00:5e:00:53:10",
            "--secret",
            SECRET,
        ],
        "multicast",
    );
}

#[test]
fn secrets_must_be_32_hex_digits() {
    for s in [
        &SECRET[..30],
        "000102030405060708090a0b0c0d0e0f00",
        "zz0102030405060708090a0b0c0d0e0f",
    ] {
        bad(
            &[
                "--iface",
                "tap0",
                "--mac",
                "02:00:5e:00:53:10",
                "--secret",
                s,
            ],
            "32 hex digits",
        );
    }
}

#[test]
fn numbers_and_names_are_checked() {
    let base = ["--mac", "02:00:5e:00:53:10", "--secret", SECRET];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut v = vec!["--iface", "tap0"];
        v.extend_from_slice(&base);
        v.extend_from_slice(extra);
        v
    };
    bad(&with(&["--dad-transmits", "256"]), "--dad-transmits");
    bad(&with(&["--gratuitous-na", "300"]), "--gratuitous-na");
    bad(&with(&["--gratuitous-na=-1"]), "--gratuitous-na");
    bad(&with(&["--seed", "x"]), "--seed");
    bad(&with(&["--frobnicate"]), "--frobnicate");
    let mut long = vec!["--iface", "a-name-longer-than-15"];
    long.extend_from_slice(&base);
    bad(&long, "15 characters");
}

#[test]
fn help_is_not_an_error() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--iface",
        "--mac",
        "--secret",
        "--seed",
        "--no-optimistic",
        "--dad-transmits",
        "--gratuitous-na",
        "--eui64",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
}
