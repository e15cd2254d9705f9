//! A tiny step runner: a list of named steps, run in order, stopping at the
//! first failure, with a summary at the end (also after a failure).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use xshell::{Cmd, Shell};

/// What every step gets: a shell whose current directory is the workspace
/// root, and that root.
pub struct Ctx {
    pub sh: Shell,
    pub root: PathBuf,
}

impl Ctx {
    pub fn new(root: PathBuf) -> Result<Ctx> {
        let sh = Shell::new().context("cannot set up a shell")?;
        sh.change_dir(&root);
        Ok(Ctx { sh, root })
    }

    /// Runs `cmd` with inherited stdout/stderr after echoing it (with the
    /// directory it runs in when that is not the workspace root). A non-zero
    /// exit status is an error naming the command.
    pub fn run(&self, cmd: Cmd<'_>) -> Result<()> {
        self.echo(&cmd);
        cmd.quiet().run()?;
        Ok(())
    }

    /// Echoes `cmd` like [`Ctx::run`]; for commands whose output is captured.
    pub fn echo(&self, cmd: &Cmd<'_>) {
        let cwd = self.sh.current_dir();
        match cwd.strip_prefix(&self.root) {
            Ok(rel) if rel == Path::new("") => eprintln!("$ {cmd}"),
            Ok(rel) => eprintln!("$ (cd {} && {cmd})", rel.display()),
            Err(_) => eprintln!("$ (cd {} && {cmd})", cwd.display()),
        }
    }
}

/// How a step that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed; the note (if any) is shown in the summary.
    Passed(Option<String>),
    /// Deliberately not run; the reason is shown loudly and in the summary.
    Skipped(String),
}

impl Outcome {
    pub fn passed() -> Outcome {
        Outcome::Passed(None)
    }
}

type StepFn<'a> = Box<dyn Fn(&Ctx) -> Result<Outcome> + 'a>;

/// One named step. Build lists of these; see `test_steps::steps`.
pub struct Step<'a> {
    pub name: String,
    run: StepFn<'a>,
}

impl<'a> Step<'a> {
    /// A step running arbitrary code.
    pub fn new(name: impl Into<String>, run: impl Fn(&Ctx) -> Result<Outcome> + 'a) -> Step<'a> {
        Step {
            name: name.into(),
            run: Box::new(run),
        }
    }

    /// A step running one fixed command from the workspace root.
    pub fn cmd(name: impl Into<String>, program: &'a str, args: &'a [&'a str]) -> Step<'a> {
        Step::new(name, move |ctx: &Ctx| {
            ctx.run(ctx.sh.cmd(program).args(args))?;
            Ok(Outcome::passed())
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed(Option<String>),
    Skipped(String),
    Failed(String),
}

#[derive(Debug)]
pub struct StepResult {
    pub name: String,
    pub status: Status,
    pub elapsed: Duration,
}

#[derive(Debug, Default)]
pub struct Report {
    pub results: Vec<StepResult>,
    /// Steps left out because an earlier one failed.
    pub not_run: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.results
            .iter()
            .any(|r| matches!(r.status, Status::Failed(_)))
    }

    fn count(&self, f: impl Fn(&Status) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.status)).count()
    }

    /// The closing summary. Its last line has the form
    /// `steps: N passed, N failed, N skipped`.
    pub fn summary(&self, title: &str) -> String {
        let mut out = String::new();
        let width = self.results.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let _ = writeln!(out, "==> {title} summary");
        for r in &self.results {
            let secs = r.elapsed.as_secs_f64();
            let (label, detail) = match &r.status {
                Status::Passed(None) => ("ok", String::new()),
                Status::Passed(Some(note)) => ("ok", format!(" ({note})")),
                Status::Skipped(reason) => ("SKIPPED", format!(" {reason}")),
                // The full message was printed when the step failed.
                Status::Failed(err) => ("FAILED", format!(" {}", err.lines().next().unwrap_or(""))),
            };
            let _ = writeln!(out, "  {label:<8} {:<width$} {secs:>6.1}s{detail}", r.name);
        }
        if !self.not_run.is_empty() {
            let _ = writeln!(
                out,
                "  not run (after the failure): {}",
                self.not_run.join(", ")
            );
        }
        let passed = self.count(|s| matches!(s, Status::Passed(_)));
        let failed = self.count(|s| matches!(s, Status::Failed(_)));
        let skipped = self.count(|s| matches!(s, Status::Skipped(_)));
        let _ = writeln!(
            out,
            "steps: {passed} passed, {failed} failed, {skipped} skipped"
        );
        out
    }
}

/// Runs `steps` in order. Stops at the first failing step; the remaining
/// ones are listed in `Report::not_run`.
pub fn run_steps(ctx: &Ctx, steps: &[Step<'_>]) -> Report {
    let mut report = Report::default();
    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        eprintln!("\n==> [{}/{total}] {}", i + 1, step.name);
        let start = Instant::now();
        let result = (step.run)(ctx);
        let elapsed = start.elapsed();
        let status = match result {
            Ok(Outcome::Passed(note)) => Status::Passed(note),
            Ok(Outcome::Skipped(reason)) => {
                eprintln!("!!!");
                eprintln!("!!! SKIPPED step `{}`: {reason}", step.name);
                eprintln!("!!!");
                Status::Skipped(reason)
            }
            Err(err) => {
                let msg = format!("{err:#}");
                eprintln!("error: step `{}` failed: {msg}", step.name);
                Status::Failed(msg)
            }
        };
        let stop = matches!(status, Status::Failed(_));
        report.results.push(StepResult {
            name: step.name.clone(),
            status,
            elapsed,
        });
        if stop {
            report.not_run = steps[i + 1..].iter().map(|s| s.name.clone()).collect();
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use anyhow::bail;

    use super::*;

    fn ctx() -> Ctx {
        Ctx::new(std::env::temp_dir()).expect("shell")
    }

    #[test]
    fn runs_all_steps_in_order_when_none_fail() {
        let log = RefCell::new(Vec::new());
        let steps = [
            Step::new("a", |_: &Ctx| {
                log.borrow_mut().push("a");
                Ok(Outcome::passed())
            }),
            Step::new("b", |_: &Ctx| {
                log.borrow_mut().push("b");
                Ok(Outcome::Skipped("no nightly".into()))
            }),
            Step::new("c", |_: &Ctx| {
                log.borrow_mut().push("c");
                Ok(Outcome::Passed(Some("already there".into())))
            }),
        ];
        let report = run_steps(&ctx(), &steps);
        assert_eq!(*log.borrow(), ["a", "b", "c"]);
        assert!(!report.failed());
        assert!(report.not_run.is_empty());
        let summary = report.summary("test");
        assert!(summary.contains("SKIPPED  b"), "{summary}");
        assert!(summary.contains("no nightly"), "{summary}");
        assert!(summary.contains("(already there)"), "{summary}");
        assert!(
            summary.ends_with("steps: 2 passed, 0 failed, 1 skipped\n"),
            "{summary}"
        );
    }

    #[test]
    fn stops_at_first_failure_and_lists_the_rest() {
        let log = RefCell::new(Vec::new());
        let steps = [
            Step::new("a", |_: &Ctx| {
                log.borrow_mut().push("a");
                Ok(Outcome::passed())
            }),
            Step::new("b", |_: &Ctx| {
                log.borrow_mut().push("b");
                bail!("boom")
            }),
            Step::new("c", |_: &Ctx| {
                log.borrow_mut().push("c");
                Ok(Outcome::passed())
            }),
            Step::new("d", |_: &Ctx| Ok(Outcome::passed())),
        ];
        let report = run_steps(&ctx(), &steps);
        assert_eq!(*log.borrow(), ["a", "b"]);
        assert!(report.failed());
        assert_eq!(report.not_run, ["c", "d"]);
        let summary = report.summary("test");
        assert!(summary.contains("FAILED   b"), "{summary}");
        assert!(summary.contains("boom"), "{summary}");
        assert!(
            summary.contains("not run (after the failure): c, d"),
            "{summary}"
        );
        assert!(
            summary.ends_with("steps: 1 passed, 1 failed, 0 skipped\n"),
            "{summary}"
        );
    }

    #[test]
    fn cmd_steps_report_failing_commands() {
        let steps = [
            Step::cmd("true", "true", &[]),
            Step::cmd("false", "false", &[]),
            Step::cmd("missing", "definitely-not-a-program-xtask", &[]),
        ];
        let report = run_steps(&ctx(), &steps);
        assert!(matches!(report.results[0].status, Status::Passed(None)));
        match &report.results[1].status {
            Status::Failed(msg) => assert!(msg.contains("`false`"), "{msg}"),
            other => panic!("expected failure, got {other:?}"),
        }
        assert_eq!(report.not_run, ["missing"]);
    }
}
