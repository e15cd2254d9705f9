//! Debian packages the steps need: installed with apt-get when running as
//! root, otherwise the exact install line and a failure.

use std::path::Path;

use anyhow::{Result, bail};

use crate::runner::Ctx;

/// A program a step runs and the Debian package that provides it.
pub type Tool = (&'static str, &'static str);

/// True when this process runs as root.
pub fn is_root(ctx: &Ctx) -> bool {
    ctx.sh
        .cmd("id")
        .arg("-u")
        .quiet()
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}

/// Whether `program` is on PATH or in the sbin directories (where `ip` and
/// radvd live, and which a non-root PATH may lack).
pub fn has(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(Into::into))
        .any(|dir| Path::new(&dir).join(program).is_file())
}

/// Make sure every tool is there: install the missing ones with apt-get
/// when root, otherwise fail with the command to run.
pub fn ensure(ctx: &Ctx, tools: &[Tool]) -> Result<()> {
    let mut missing: Vec<&str> = tools
        .iter()
        .filter(|(program, _)| !has(program))
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!("sudo apt-get install -y {}", missing.join(" "));
    if !is_root(ctx) {
        bail!("missing Debian packages; install them with:\n    {line}");
    }
    eprintln!(
        "installing {} with apt-get (running as root)",
        missing.join(", ")
    );
    ctx.run(ctx.sh.cmd("apt-get").arg("update"))?;
    ctx.run(
        ctx.sh
            .cmd("apt-get")
            .args(["install", "-y"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if let Some((program, package)) = tools.iter().find(|(p, _)| !has(p)) {
        bail!("apt-get installed {package} but `{program}` is still not found");
    }
    Ok(())
}
