//! One nmap subprocess, run so that it can neither hang us nor outlive us.
//!
//! nmap is spawned without a shell, as the leader of its own process group, with stdin closed so
//! it can never wait on a prompt. Two reader threads drain stdout and stderr at the same time (a
//! full pipe can never block nmap), while the calling thread enforces the wall-clock timeout and
//! the stdout cap. However the run ends, the whole group gets SIGKILL, so scripts or helpers that
//! nmap started die with it, and a process still holding the pipes open cannot stall the caller
//! for more than a short grace period.

mod process;
mod text;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use log::{debug, info};

use process::{Ending, execute};
use text::{exit_reason, parse_version, truncate_chars};

/// A reasonable `max_output_bytes`: far above any real XML report, far below memory trouble.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 256 * 1024 * 1024;
/// Smallest stdout cap for one nmap run.
pub const MIN_OUTPUT_BYTES: usize = 8 * 1024 * 1024;

/// The stdout cap for one nmap run over `addresses` hosts and `ports` ports: 16 KiB per host
/// plus 4 KiB per host and port (far above what nmap writes, scripts included), between 8 MiB
/// and [`DEFAULT_MAX_OUTPUT_BYTES`]. Output is held in memory until nmap exits, so a broken
/// nmap printing garbage costs memory in proportion to the work asked of it, not always the
/// largest cap (a one-host run used to buffer up to 256 MiB; measured 402 MB RSS on 200 MB).
pub fn output_budget(addresses: u64, ports: u32) -> usize {
    let per_host = 16 * 1024 + 4 * 1024 * u64::from(ports);
    let budget = addresses.saturating_mul(per_host);
    usize::try_from(budget)
        .unwrap_or(usize::MAX)
        .clamp(MIN_OUTPUT_BYTES, DEFAULT_MAX_OUTPUT_BYTES)
}

/// How much of nmap's stderr a report keeps (the end, where nmap explains why it stopped).
pub const STDERR_TAIL_BYTES: usize = 64 * 1024;
/// How long `probe_version` lets `nmap --version` take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// stdout cap for `nmap --version`.
const PROBE_MAX_OUTPUT: usize = 64 * 1024;

/// Everything needed to run nmap once.
#[derive(Debug, Clone)]
pub struct NmapInvocation {
    /// The nmap program (config `nmap_path`); a bare name such as `nmap` is looked up in `PATH`.
    pub program: PathBuf,
    /// Profile arguments; `run` appends `-oX -` and then the targets.
    pub args: Vec<String>,
    /// Already-validated addresses or CIDR blocks. `run` still refuses an empty list and any
    /// entry nmap could read as an option.
    pub targets: Vec<String>,
    /// Wall-clock limit; past it the whole process group is killed.
    pub timeout: Duration,
    /// stdout cap; past it the whole process group is killed and the run fails.
    pub max_output_bytes: usize,
}

/// How a run ended. A failure or a timeout is never "no open ports".
#[derive(Debug)]
pub enum RunOutcome {
    /// nmap exited with status 0; `xml` is its stdout, not yet parsed (it may still be garbage).
    Completed { xml: Vec<u8> },
    /// nmap could not be started, exited non-zero, died of a signal, or produced too much output.
    Failed { reason: String },
    /// nmap (with its children) was killed at the timeout.
    TimedOut,
}

/// What happened in one run, for the caller and for the logs.
#[derive(Debug)]
pub struct RunReport {
    pub outcome: RunOutcome,
    /// The last `STDERR_TAIL_BYTES` of stderr (lossy UTF-8), marked when earlier bytes were dropped.
    pub stderr: String,
    /// nmap's exit code; `None` when it did not start or was killed by a signal.
    pub exit_code: Option<i32>,
    pub duration: Duration,
    /// The argv `run` used (see [`command_line`]).
    pub command_line: Vec<String>,
}

/// Why nmap cannot be used; messages say what to check.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("nmap not found at {}: install nmap or set nmap_path", shown(.program))]
    NotFound { program: PathBuf },
    #[error("nmap at {} cannot be executed (permission denied): check nmap_path and the file's mode", shown(.program))]
    NotExecutable { program: PathBuf },
    #[error("could not start nmap at {}: {source}", shown(.program))]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{} --version` did not finish within {} s", shown(.program), .timeout.as_secs_f64())]
    TimedOut { program: PathBuf, timeout: Duration },
    #[error("`{} --version` failed: {reason}", shown(.program))]
    Failed { program: PathBuf, reason: String },
    #[error("`{} --version` did not report an nmap version (output began {output:?}): is nmap_path really nmap?", shown(.program))]
    UnexpectedOutput { program: PathBuf, output: String },
}

/// The exact argv `run` executes: program, profile args, `-oX -`, then the targets (last, so
/// nothing after them can be taken as an option).
pub fn command_line(inv: &NmapInvocation) -> Vec<String> {
    let mut argv = Vec::with_capacity(inv.args.len() + inv.targets.len() + 3);
    argv.push(inv.program.to_string_lossy().into_owned());
    argv.extend(arguments(inv));
    argv
}

/// Runs nmap once, as described in the module docs. Never panics on bad input: every problem
/// becomes a `Failed` or `TimedOut` outcome.
pub fn run(inv: &NmapInvocation) -> RunReport {
    let argv = command_line(inv);
    if let Err(reason) = check_targets(&inv.targets) {
        info!("nmap not started: {reason}");
        return RunReport {
            outcome: RunOutcome::Failed { reason },
            stderr: String::new(),
            exit_code: None,
            duration: Duration::ZERO,
            command_line: argv,
        };
    }
    debug!("running {argv:?}");
    let exec = execute(
        &inv.program,
        &arguments(inv),
        inv.timeout,
        inv.max_output_bytes,
    );
    let exit_code = exec.status.and_then(|s| s.code());
    let stderr = exec.stderr.into_string();
    let outcome = match exec.ending {
        Ending::Exited(status) if status.success() => RunOutcome::Completed { xml: exec.stdout },
        Ending::Exited(status) => RunOutcome::Failed {
            reason: exit_reason(status, &stderr),
        },
        Ending::SpawnFailed(e) => RunOutcome::Failed {
            reason: spawn_error(&inv.program, e).to_string(),
        },
        Ending::TimedOut => RunOutcome::TimedOut,
        Ending::OutputTooLarge => RunOutcome::Failed {
            reason: format!(
                "nmap output exceeded {} bytes (max_output_bytes), so the scan was stopped",
                inv.max_output_bytes
            ),
        },
        Ending::Broken(what, e) => RunOutcome::Failed {
            reason: format!("{what} failed: {e}"),
        },
    };
    let secs = exec.duration.as_secs_f64();
    match &outcome {
        RunOutcome::Completed { xml } => {
            info!("nmap completed in {secs:.2} s ({} bytes of XML)", xml.len())
        }
        RunOutcome::Failed { reason } => info!("nmap failed after {secs:.2} s: {reason}"),
        RunOutcome::TimedOut => info!(
            "nmap timed out after {secs:.2} s (limit {} s); its process group was killed",
            inv.timeout.as_secs_f64()
        ),
    }
    RunReport {
        outcome,
        stderr,
        exit_code,
        duration: exec.duration,
        command_line: argv,
    }
}

/// Runs `program --version` (bounded by [`PROBE_TIMEOUT`]) and returns the version, e.g. `7.93`.
pub fn probe_version(program: &Path) -> Result<String, RunError> {
    let exec = execute(
        program,
        &["--version".to_owned()],
        PROBE_TIMEOUT,
        PROBE_MAX_OUTPUT,
    );
    let program = program.to_path_buf();
    match exec.ending {
        Ending::Exited(status) if status.success() => {
            parse_version(&exec.stdout).ok_or_else(|| RunError::UnexpectedOutput {
                program,
                output: truncate_chars(String::from_utf8_lossy(&exec.stdout).trim(), 80),
            })
        }
        Ending::Exited(status) => Err(RunError::Failed {
            program,
            reason: exit_reason(status, &exec.stderr.into_string()),
        }),
        Ending::SpawnFailed(e) => Err(spawn_error(&program, e)),
        Ending::TimedOut => Err(RunError::TimedOut {
            program,
            timeout: PROBE_TIMEOUT,
        }),
        Ending::OutputTooLarge => Err(RunError::Failed {
            program,
            reason: format!("it printed more than {PROBE_MAX_OUTPUT} bytes"),
        }),
        Ending::Broken(what, e) => Err(RunError::Failed {
            program,
            reason: format!("{what} failed: {e}"),
        }),
    }
}

/// The arguments after the program name. IPv6 targets need `-6`: without it nmap 7.93 reports
/// "No targets were specified" and still exits with success, which would read as "no hosts".
fn arguments(inv: &NmapInvocation) -> Vec<String> {
    let mut args = inv.args.clone();
    if inv.targets.iter().any(|t| is_ipv6(t)) && !args.iter().any(|a| a == "-6") {
        args.push("-6".to_owned());
    }
    args.extend(["-oX".to_owned(), "-".to_owned()]);
    args.extend(inv.targets.iter().cloned());
    args
}

/// Targets are addresses or CIDR blocks; only IPv6 ones contain a colon.
fn is_ipv6(target: &str) -> bool {
    target.contains(':')
}

/// Last line of defence: nmap with no targets reports an empty, successful scan, a target
/// starting with `-` would be parsed as an option, and with `-6` nmap silently skips IPv4
/// targets (and without it, IPv6 ones), so one run holds one address family.
fn check_targets(targets: &[String]) -> Result<(), String> {
    if targets.is_empty() {
        return Err("no targets given; refusing to run nmap without any".to_owned());
    }
    let v6 = targets.iter().filter(|t| is_ipv6(t)).count();
    if v6 != 0 && v6 != targets.len() {
        return Err(
            "IPv4 and IPv6 targets mixed in one nmap run (nmap would silently skip one family); \
             split them by family"
                .to_owned(),
        );
    }
    for t in targets {
        if t.trim().is_empty() {
            return Err("empty target; refusing to run nmap".to_owned());
        }
        if t.starts_with('-') {
            return Err(format!(
                "target {t:?} starts with '-' and would be read as an nmap option; refusing to run nmap"
            ));
        }
    }
    Ok(())
}

fn spawn_error(program: &Path, e: io::Error) -> RunError {
    let program = program.to_path_buf();
    match e.kind() {
        io::ErrorKind::NotFound => RunError::NotFound { program },
        io::ErrorKind::PermissionDenied => RunError::NotExecutable { program },
        _ => RunError::Spawn { program, source: e },
    }
}

/// How a program path reads in messages: a bare name says it was looked up in `PATH`.
fn shown(program: &Path) -> String {
    if program.components().count() == 1 && !program.has_root() {
        format!("{:?} (looked up in PATH)", program.display().to_string())
    } else {
        program.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_cap_grows_with_the_work_between_its_bounds() {
        assert_eq!(output_budget(1, 1), MIN_OUTPUT_BYTES);
        assert_eq!(output_budget(0, 0), MIN_OUTPUT_BYTES);
        assert_eq!(output_budget(64, 100), 64 * (16 + 400) * 1024);
        assert_eq!(output_budget(65_536, 1000), DEFAULT_MAX_OUTPUT_BYTES);
        assert_eq!(output_budget(u64::MAX, u32::MAX), DEFAULT_MAX_OUTPUT_BYTES);
    }

    fn inv(args: &[&str], targets: &[&str]) -> NmapInvocation {
        NmapInvocation {
            program: PathBuf::from("/usr/bin/nmap"),
            args: args.iter().map(|s| s.to_string()).collect(),
            targets: targets.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_secs(1),
            max_output_bytes: 1024,
        }
    }

    #[test]
    fn ipv6_targets_get_dash_6_once() {
        let argv = command_line(&inv(&["-sT"], &["::1", "fd00::/126"]));
        assert_eq!(argv[1..], ["-sT", "-6", "-oX", "-", "::1", "fd00::/126"]);
        let argv = command_line(&inv(&["-6"], &["::1"]));
        assert_eq!(argv.iter().filter(|a| *a == "-6").count(), 1);
        assert!(!command_line(&inv(&[], &["127.0.0.1"])).contains(&"-6".to_string()));
    }

    #[test]
    fn mixed_families_are_refused_before_spawning() {
        let report = run(&inv(&[], &["127.0.0.1", "::1"]));
        match report.outcome {
            RunOutcome::Failed { reason } => assert!(reason.contains("mixed"), "{reason}"),
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(report.duration, Duration::ZERO);
    }

    #[test]
    fn command_line_puts_xml_to_stdout_before_targets_and_targets_last() {
        let argv = command_line(&inv(&["-sT", "-p", "22"], &["127.0.0.1", "127.0.0.0/30"]));
        assert_eq!(
            argv,
            [
                "/usr/bin/nmap",
                "-sT",
                "-p",
                "22",
                "-oX",
                "-",
                "127.0.0.1",
                "127.0.0.0/30"
            ]
        );
    }

    #[test]
    fn command_line_without_profile_args() {
        assert_eq!(
            command_line(&inv(&[], &["127.0.0.1"])),
            ["/usr/bin/nmap", "-oX", "-", "127.0.0.1"]
        );
    }

    #[test]
    fn targets_that_could_be_options_or_nothing_are_refused() {
        assert!(check_targets(&["127.0.0.1".into(), "127.0.0.0/30".into()]).is_ok());
        assert!(check_targets(&["::1".into()]).is_ok());
        assert!(check_targets(&[]).unwrap_err().contains("no targets"));
        assert!(check_targets(&[" ".into()]).unwrap_err().contains("empty"));
        let err = check_targets(&["127.0.0.1".into(), "-iL/etc/passwd".into()]).unwrap_err();
        assert!(err.contains("\"-iL/etc/passwd\""), "{err}");
    }

    #[test]
    fn refused_targets_fail_without_starting_anything() {
        let mut bad = inv(&[], &["--script=evil"]);
        bad.program = PathBuf::from("/nonexistent/nmap");
        let report = run(&bad);
        match report.outcome {
            RunOutcome::Failed { reason } => assert!(reason.contains("--script=evil"), "{reason}"),
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(report.exit_code, None);
    }

    #[test]
    fn messages_say_whether_path_was_searched() {
        let bare = RunError::NotFound {
            program: PathBuf::from("nmap"),
        };
        assert_eq!(
            bare.to_string(),
            "nmap not found at \"nmap\" (looked up in PATH): install nmap or set nmap_path"
        );
        let full = spawn_error(
            Path::new("/opt/nmap"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(
            full.to_string()
                .starts_with("nmap at /opt/nmap cannot be executed")
        );
    }
}
