//! Logging set-up shared by both programs: env_logger to stderr at the configured level.
//! `RUST_LOG`, when set, wins (standard env_logger syntax, e.g. `security_scanner=debug`).

use std::fmt;
use std::str::FromStr;

/// How much is logged: the `log_level` setting, parsed once (any letter case) when the
/// configuration is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
        LogLevel::Off,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    /// The level under `--quiet`: cron mails any output, so only warnings and errors are
    /// logged; a configured `error` or `off` stays as quiet as it is.
    pub fn quiet(self) -> LogLevel {
        self.min(LogLevel::Warn)
    }

    fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Off => log::LevelFilter::Off,
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `log_level` value that is not one of the six names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` is not one of error, warn, info, debug, trace, off", .0.escape_debug())]
pub struct UnknownLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    fn from_str(s: &str) -> Result<LogLevel, UnknownLogLevel> {
        LogLevel::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLogLevel(s.chars().take(40).collect()))
    }
}

impl serde::Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Initialises the global logger once; later calls are ignored (tests may call it repeatedly).
pub fn init(level: LogLevel) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level.filter());
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    // The HTTP client prints webhook URLs (which may be secrets) at debug and trace: never.
    for module in ["ureq", "ureq_proto"] {
        builder.filter_module(module, log::LevelFilter::Info);
    }
    builder.format_timestamp_millis();
    let _ = builder.try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_quiet_keeps_quieter_levels() {
        assert_eq!("INFO".parse::<LogLevel>(), Ok(LogLevel::Info));
        assert_eq!("off".parse::<LogLevel>(), Ok(LogLevel::Off));
        let err = "loud".parse::<LogLevel>().unwrap_err().to_string();
        assert_eq!(
            err,
            "`loud` is not one of error, warn, info, debug, trace, off"
        );
        assert_eq!(LogLevel::Trace.quiet(), LogLevel::Warn);
        assert_eq!(LogLevel::Info.quiet(), LogLevel::Warn);
        assert_eq!(LogLevel::Error.quiet(), LogLevel::Error);
        assert_eq!(LogLevel::Off.quiet(), LogLevel::Off);
    }
}
