//! `cargo xtask demo`.

use std::process::ExitCode;

use crate::runner::Ctx;

/// TODO(linux-tap): run the demo application on the linux-tap board here
/// (DESIGN.md "Boards"). Until that board exists there is nothing to run.
pub fn run(_ctx: &Ctx) -> ExitCode {
    eprintln!(
        "cargo xtask demo: there is no demo yet. It arrives with the linux-tap board \
         (boards/linux-tap, see DESIGN.md \"Boards\")."
    );
    ExitCode::from(2)
}
