//! Who a shard is: `K/N` and the run id, from the flags or the Indexed Job's environment,
//! parsed once into [`ShardSpec`] and [`RunId`]; and the errors of sharded runs.

use std::fmt;
use std::str::FromStr;

/// Most shards a run may have.
pub const MAX_SHARDS: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {0:?}: expected K/N with 0 <= K < N <= {MAX_SHARDS}, e.g. 0/4")]
    Spec(String),
    #[error(
        "run id {0:?}: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or \
         digit (a Kubernetes Job name fits)"
    )]
    RunId(String),
    #[error(
        "a shard needs its index, the shard count and the run id: {missing} missing (give \
         --shard K/N --run-id ID, or set JOB_COMPLETION_INDEX, SCANNER_SHARDS and \
         SCANNER_RUN_ID; all three or none)"
    )]
    Incomplete { missing: String },
    #[error(
        "run {run_id} was started with {detail}: every shard of a run needs the same targets \
         file, configuration and shard count (hostnames must resolve alike in every pod)"
    )]
    Mismatch { run_id: String, detail: String },
    #[error("no shard of run {0} ever started (see daily_scan runs)")]
    UnknownRun(String),
    #[error("run {run_id}: stored {what} cannot be read: {detail}")]
    Corrupt {
        run_id: String,
        what: &'static str,
        detail: String,
    },
}

/// Shard `index` of `count` (`K/N`, 0-based as Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

impl FromStr for ShardSpec {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<ShardSpec, ShardError> {
        let bad = || ShardError::Spec(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A run's id: what every shard of one run shares (the Job's name on Kubernetes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunId(String);

impl FromStr for RunId {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<RunId, ShardError> {
        let ok = (1..=128).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(RunId(s.to_string()))
        } else {
            Err(ShardError::RunId(s.to_string()))
        }
    }
}

impl RunId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which shard this process is, from `--shard`/`--run-id` or else the environment
/// (`JOB_COMPLETION_INDEX`, `SCANNER_SHARDS`, `SCANNER_RUN_ID`): all three or none. `None`:
/// an ordinary, unsharded run.
pub fn from_args(
    shard: Option<&str>,
    run_id: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(ShardSpec, RunId)>, ShardError> {
    let nonempty = |key: &str| env(key).filter(|v| !v.trim().is_empty());
    let spec = match shard {
        Some(s) => Some(s.to_string()),
        None => match (nonempty("JOB_COMPLETION_INDEX"), nonempty("SCANNER_SHARDS")) {
            (Some(k), Some(n)) => Some(format!("{}/{}", k.trim(), n.trim())),
            (None, None) => None,
            (k, _) => {
                let key = if k.is_none() {
                    "JOB_COMPLETION_INDEX"
                } else {
                    "SCANNER_SHARDS"
                };
                return Err(ShardError::Incomplete {
                    missing: key.to_string(),
                });
            }
        },
    };
    let run_id = run_id
        .map(str::to_string)
        .or_else(|| nonempty("SCANNER_RUN_ID"));
    match (spec, run_id) {
        (None, None) => Ok(None),
        (Some(spec), Some(id)) => Ok(Some((spec.parse()?, id.trim().parse()?))),
        (None, Some(_)) => Err(ShardError::Incomplete {
            missing: "--shard (or JOB_COMPLETION_INDEX and SCANNER_SHARDS)".into(),
        }),
        (Some(_), None) => Err(ShardError::Incomplete {
            missing: "--run-id (or SCANNER_RUN_ID)".into(),
        }),
    }
}

#[cfg(test)]
mod tests;
