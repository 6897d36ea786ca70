//! Scan targets: the grammar users may write, expansion of blocks and ranges into addresses,
//! and the allow/deny policy every address must pass before nmap sees it.
//!
//! Everything here treats its input as hostile: a target ends up in nmap's argument vector, so
//! the grammar is a strict allowlist (ASCII letters, digits, `.`, `:`, `-`, and `/` in CIDR)
//! and anything that nmap would read as an option or as its own target syntax is refused with
//! a reason. nmap is only ever given addresses that this module produced and the policy passed
//! (hostnames are resolved once and pinned), so it never does a second DNS lookup.
//!
//! Error codes ([`TargetError::code`]) are stable; the API maps them to HTTP statuses:
//! `invalid_target` and `target_batch_only` are 400, `target_not_allowed` is 403,
//! `unresolved` is a per-target failure, `too_many_hosts` refuses a batch run.

mod expand;
mod file;
mod grammar;
mod policy;

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

pub use expand::{ExpandedEntry, ExpandedTarget, expand};
pub use file::{
    MAX_FILE_BYTES, MAX_LINE_LEN, TargetEntry, TargetFileError, parse_targets, parse_targets_file,
};
pub use policy::{NetworkPolicy, resolve};

/// Longest accepted atom: a 253-character hostname plus its optional trailing dot.
pub const MAX_TARGET_LEN: usize = 254;

/// One target atom (no commas).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Ip(IpAddr),
    /// Lower-cased, as written otherwise (a trailing dot is kept: it makes the name absolute).
    Hostname(String),
    /// Always the network address: a block written with host bits set is refused.
    Network(IpNet),
    /// Inclusive, same family, `start <= end`.
    Range {
        start: IpAddr,
        end: IpAddr,
    },
}

impl Target {
    /// Parses one target atom. See the module docs for the grammar.
    pub fn parse(s: &str) -> Result<Target, TargetError> {
        grammar::parse(s)
    }

    /// How many addresses the target stands for; `None` for a hostname (known only after
    /// resolution). Saturates at `u128::MAX` for `::/0`.
    pub fn address_count(&self) -> Option<u128> {
        match self {
            Target::Ip(_) => Some(1),
            Target::Hostname(_) => None,
            Target::Network(net) => {
                let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
                Some(1u128.checked_shl(host_bits).unwrap_or(u128::MAX))
            }
            Target::Range { start, end } => {
                Some(expand::ip_to_u128(*end) - expand::ip_to_u128(*start) + 1)
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ip(ip) => write!(f, "{ip}"),
            Target::Hostname(host) => f.write_str(host),
            Target::Network(net) => write!(f, "{net}"),
            Target::Range { start, end } => write!(f, "{start}-{end}"),
        }
    }
}

/// Parses a target as the HTTP API accepts it: one address or one hostname. Blocks, ranges and
/// lists are syntactically checked first (so a hostile value is reported as invalid), then
/// refused as batch only.
pub fn parse_api_target(s: &str) -> Result<Target, TargetError> {
    if s.contains(',') {
        for piece in s.split(',') {
            Target::parse(piece)?;
        }
        return Err(TargetError::NotAllowedInApi {
            reason: "lists are batch only (daily_scan); send them as separate `targets`",
        });
    }
    match Target::parse(s)? {
        Target::Network(_) => Err(TargetError::NotAllowedInApi {
            reason: "CIDR blocks are batch only (daily_scan)",
        }),
        Target::Range { .. } => Err(TargetError::NotAllowedInApi {
            reason: "address ranges are batch only (daily_scan)",
        }),
        target => Ok(target),
    }
}

/// Why a target was refused. Messages never repeat the raw input (it may hold control
/// characters); callers that show the input escape it themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target is empty")]
    Empty,
    #[error("target is {len} characters long; the limit is {limit}")]
    TooLong { len: usize, limit: usize },
    #[error("target starts with `-`, which nmap would read as an option")]
    LooksLikeOption,
    #[error("target contains whitespace at position {position}; give one target per item")]
    Whitespace { position: usize },
    #[error("target contains a control character at position {position}")]
    ControlCharacter { position: usize },
    #[error(
        "target contains a non-ASCII character at position {position}; \
         internationalised names must be written in punycode (xn--...)"
    )]
    NonAscii { position: usize },
    #[error("target contains {ch:?} at position {position}: {reason}")]
    InvalidCharacter {
        ch: char,
        position: usize,
        reason: &'static str,
    },
    #[error("invalid IP address: {reason}")]
    InvalidAddress { reason: String },
    #[error("invalid hostname: {reason}")]
    InvalidHostname { reason: String },
    #[error("invalid CIDR block: {reason}")]
    InvalidCidr { reason: String },
    #[error("invalid address range: {reason}")]
    InvalidRange { reason: String },
    #[error("{reason}")]
    NotAllowedInApi { reason: &'static str },
    #[error("{target} stands for several addresses; expand it with `target::expand`")]
    NeedsExpansion { target: String },
    #[error("{address} is not allowed: {reason}")]
    NotAllowed { address: IpAddr, reason: String },
    #[error("hostname {host} did not resolve")]
    Unresolved { host: String },
    #[error(
        "targets expand to {count} addresses, more than the limit of {limit} \
         (max_hosts_per_run); split the targets or raise the limit"
    )]
    TooManyHosts { count: u128, limit: usize },
}

impl TargetError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::NotAllowedInApi { .. } => "target_batch_only",
            TargetError::NotAllowed { .. } => "target_not_allowed",
            TargetError::Unresolved { .. } => "unresolved",
            TargetError::TooManyHosts { .. } => "too_many_hosts",
            _ => "invalid_target",
        }
    }
}

#[cfg(test)]
mod tests;
