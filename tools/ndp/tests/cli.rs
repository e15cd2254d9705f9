//! The command line without a network: help, and the one-line errors
//! with exit status 2 for bad arguments and bad configuration files.
//! (What `ndp` does on a link is in tests/netns.rs, which needs root.)
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::process::{Command, Output};

fn ndp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndp"))
        .args(args)
        .output()
        .expect("run ndp")
}

/// Exit status 2 and exactly one line on stderr, starting `ndp: `.
fn usage_error(args: &[&str]) -> String {
    let o = ndp(args);
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "ndp {args:?}: {err}");
    assert_eq!(
        err.lines().count(),
        1,
        "ndp {args:?} printed more than one line:\n{err}"
    );
    assert!(err.starts_with("ndp: "), "{err}");
    assert!(o.stdout.is_empty());
    err
}

#[test]
fn help_names_every_subcommand_and_option() {
    let o = ndp(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    for sub in ["listen", "rs", "ns", "proxy"] {
        assert!(text.contains(sub), "--help lacks {sub}:\n{text}");
    }
    let sub_help = |sub: &str| {
        let o = ndp(&[sub, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{sub} --help");
        String::from_utf8(o.stdout).unwrap()
    };
    for sub in ["listen", "rs", "ns", "proxy"] {
        let h = sub_help(sub);
        assert!(h.contains("-i, --iface <IFACE>"), "{sub} --help:\n{h}");
    }
    let p = sub_help("proxy");
    for opt in [
        "--prefix <P/LEN>",
        "--allow <ADDR|P/LEN>",
        "--deny <ADDR|P/LEN>",
        "--config <FILE>",
        "--json",
    ] {
        assert!(p.contains(opt), "proxy --help lacks {opt}:\n{p}");
    }
    assert!(sub_help("listen").contains("--json"));
}

#[test]
fn bad_arguments_give_one_line_and_status_2() {
    assert!(usage_error(&[]).contains("subcommand"));
    assert!(usage_error(&["ns", "-i", "lo"]).contains("<ADDR>"));
    assert!(usage_error(&["ns", "-i", "lo", "not-an-address"]).contains("not-an-address"));
    assert!(usage_error(&["ns", "-i", "lo", "ff02::1"]).contains("not a unicast address"));
    assert!(usage_error(&["rs"]).contains("--iface"));
    assert!(usage_error(&["rs", "-i", "lo", "--retries", "0"]).contains("0"));
    assert!(usage_error(&["listen", "-i", "lo", "--bogus"]).contains("--bogus"));
    assert!(usage_error(&["frobnicate"]).contains("frobnicate"));
    assert!(usage_error(&["listen", "-i", "no-such-interface0"]).contains("no interface named"));
}

#[test]
fn bad_proxy_rules_give_one_line_and_status_2() {
    assert!(usage_error(&["proxy", "-i", "lo"]).contains("no prefix to proxy"));
    assert!(
        usage_error(&["proxy", "-i", "lo", "--prefix", "2001:db8::42"])
            .contains("expected PREFIX/LEN")
    );
    assert!(
        usage_error(&["proxy", "-i", "lo", "--prefix", "2001:db8::/129"]).contains("above 128")
    );
    assert!(
        usage_error(&["proxy", "-i", "lo", "--prefix", "fe80::/64"]).contains("cannot be proxied")
    );
    assert!(
        usage_error(&[
            "proxy",
            "-i",
            "lo",
            "--prefix",
            "2001:db8::/64",
            "--deny",
            "2001:db8::zz"
        ])
        .contains("--deny")
    );
    let five: Vec<String> = (1..=5).map(|i| format!("2001:db8:{i}::/64")).collect();
    let mut args = vec!["proxy", "-i", "lo"];
    for p in &five {
        args.extend(["--prefix", p.as_str()]);
    }
    assert!(usage_error(&args).contains("more than 4 prefixes"));
}

#[test]
fn bad_config_files_name_the_line() {
    let dir = std::env::temp_dir().join(format!("ndp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proxy.conf");
    let f = file.to_str().unwrap();
    std::fs::write(&file, "# rules\nprefix 2001:db8:2::/64\nbogus 1\n").unwrap();
    let e = usage_error(&["proxy", "-i", "lo", "--config", f]);
    assert!(e.contains("proxy.conf:3: unknown keyword `bogus`"), "{e}");
    std::fs::write(&file, "prefix 2001:db8:2::/64\nrouter maybe\n").unwrap();
    assert!(
        usage_error(&["proxy", "-i", "lo", "--config", f]).contains(":2: router takes on or off")
    );
    let missing = dir.join("missing.conf");
    assert!(
        usage_error(&["proxy", "-i", "lo", "--config", missing.to_str().unwrap()])
            .contains("missing.conf")
    );
    // A file with only a deny list has no prefix either.
    std::fs::write(&file, "deny 2001:db8:2::1\n").unwrap();
    assert!(usage_error(&["proxy", "-i", "lo", "--config", f]).contains("no prefix to proxy"));
    let _ = std::fs::remove_dir_all(&dir);
}
