//! Put memory.x where cortex-m-rt's link.x finds it.

use std::path::PathBuf;

fn main() -> Result<(), String> {
    let out = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .ok_or("cargo sets OUT_DIR for build scripts")?;
    std::fs::copy("memory.x", out.join("memory.x"))
        .map_err(|e| format!("cannot copy memory.x to {}: {e}", out.display()))?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    Ok(())
}
