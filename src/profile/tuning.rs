//! nmap timing and rate settings from the configuration.

use super::ProfileError;

/// Timing settings every profile gets. Validated when the configuration loads
/// ([`NmapTuning::validate`]); [`NmapTuning::normalized`] gives the canonical spelling.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NmapTuning {
    /// Timing template, `-T0` to `-T5` (also accepted: `T4`, `4`, `aggressive`).
    pub timing: String,
    pub max_retries: u32,
    /// Per-host time limit: a number with `ms`, `s`, `m` or `h` (a bare number is seconds).
    pub host_timeout: String,
    /// Packets per second; both at least 1 and `min_rate <= max_rate`.
    pub min_rate: u32,
    pub max_rate: u32,
    /// Reverse-resolve scanned addresses (nmap's default); off gives `-n`.
    pub reverse_dns: bool,
}

impl Default for NmapTuning {
    fn default() -> Self {
        NmapTuning {
            timing: "-T4".into(),
            max_retries: 2,
            host_timeout: "10m".into(),
            min_rate: 800,
            max_rate: 2000,
            reverse_dns: false,
        }
    }
}

/// More retries than this make a scan of a filtered host take hours.
pub const MAX_RETRIES_LIMIT: u32 = 20;

const TIMING_NAMES: [&str; 6] = [
    "paranoid",
    "sneaky",
    "polite",
    "normal",
    "aggressive",
    "insane",
];
const TIMING_FLAGS: [&str; 6] = ["-T0", "-T1", "-T2", "-T3", "-T4", "-T5"];

impl NmapTuning {
    pub fn validate(&self) -> Result<(), ProfileError> {
        self.normalized().map(|_| ())
    }

    /// The same settings with `timing` as `-T<n>` and `host_timeout` with its unit.
    pub fn normalized(&self) -> Result<NmapTuning, ProfileError> {
        let invalid = |key, reason: String| Err(ProfileError::InvalidTuning { key, reason });
        let Some(timing) = timing_flag(&self.timing) else {
            return invalid(
                "nmap_timing",
                format!(
                    "`{}` is not a timing template; use -T0 to -T5",
                    self.timing.escape_debug()
                ),
            );
        };
        let Some(host_timeout) = host_timeout(&self.host_timeout) else {
            return invalid(
                "nmap_host_timeout",
                format!(
                    "`{}` is not a duration; use a positive number with ms, s, m or h (like 10m)",
                    self.host_timeout.escape_debug()
                ),
            );
        };
        if self.max_retries > MAX_RETRIES_LIMIT {
            return invalid(
                "nmap_max_retries",
                format!("{} is more than {MAX_RETRIES_LIMIT}", self.max_retries),
            );
        }
        if self.min_rate == 0 {
            return invalid(
                "nmap_min_rate",
                "must be at least 1 packet per second".into(),
            );
        }
        if self.max_rate == 0 {
            return invalid(
                "nmap_max_rate",
                "must be at least 1 packet per second".into(),
            );
        }
        if self.min_rate > self.max_rate {
            return invalid(
                "nmap_min_rate",
                format!(
                    "{} is more than nmap_max_rate ({})",
                    self.min_rate, self.max_rate
                ),
            );
        }
        Ok(NmapTuning {
            timing: timing.to_string(),
            host_timeout,
            ..self.clone()
        })
    }

    /// The tuning part of nmap's argument vector. Only validated text reaches it: a field that
    /// does not validate (a caller skipped [`NmapTuning::validate`]) falls back to its default.
    pub(super) fn args(&self) -> Vec<String> {
        let default = NmapTuning::default();
        let timing = timing_flag(&self.timing).unwrap_or("-T4");
        let host_timeout = host_timeout(&self.host_timeout).unwrap_or(default.host_timeout);
        let retries = self.max_retries.min(MAX_RETRIES_LIMIT);
        let (min_rate, max_rate) = if self.min_rate >= 1 && self.min_rate <= self.max_rate {
            (self.min_rate, self.max_rate)
        } else {
            (default.min_rate, default.max_rate)
        };
        let mut args = vec![
            timing.to_string(),
            "--max-retries".into(),
            retries.to_string(),
            "--host-timeout".into(),
            host_timeout,
            "--min-rate".into(),
            min_rate.to_string(),
            "--max-rate".into(),
            max_rate.to_string(),
        ];
        if !self.reverse_dns {
            args.push("-n".into());
        }
        args
    }
}

fn timing_flag(s: &str) -> Option<&'static str> {
    let s = s.strip_prefix('-').unwrap_or(s);
    let s = s.strip_prefix(['T', 't']).unwrap_or(s);
    if let Some(index) = TIMING_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(s))
    {
        return Some(TIMING_FLAGS[index]);
    }
    match s.as_bytes() {
        [digit @ b'0'..=b'5'] => Some(TIMING_FLAGS[usize::from(digit - b'0')]),
        _ => None,
    }
}

/// `30s`, `10m`, `1h`, `500ms`, `90` (seconds): positive, at most six digits.
fn host_timeout(s: &str) -> Option<String> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    let valid_number = (1..=6).contains(&number.len()) && number.bytes().any(|b| b != b'0');
    if !valid_number {
        return None;
    }
    let unit = match unit {
        "" => "s",
        "ms" | "s" | "m" | "h" => unit,
        _ => return None,
    };
    Some(format!("{number}{unit}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut NmapTuning)) -> NmapTuning {
        let mut tuning = NmapTuning::default();
        f(&mut tuning);
        tuning
    }

    #[test]
    fn defaults_match_the_reference_design() {
        let tuning = NmapTuning::default();
        assert!(tuning.validate().is_ok());
        assert_eq!(
            tuning.args().join(" "),
            "-T4 --max-retries 2 --host-timeout 10m --min-rate 800 --max-rate 2000 -n"
        );
        assert!(!with(|t| t.reverse_dns = true).args().contains(&"-n".into()));
    }

    #[test]
    fn timing_spellings_normalise() {
        for (given, flag) in [
            ("-T4", "-T4"),
            ("T4", "-T4"),
            ("4", "-T4"),
            ("t0", "-T0"),
            ("-T5", "-T5"),
            ("aggressive", "-T4"),
            ("Polite", "-T2"),
            ("-Tinsane", "-T5"),
        ] {
            let tuning = with(|t| t.timing = given.into()).normalized().unwrap();
            assert_eq!(tuning.timing, flag, "{given}");
        }
        for bad in [
            "",
            "-T6",
            "T",
            "-T",
            "44",
            "-T4 -oX x",
            "fast",
            "-t4;id",
            "--T4",
        ] {
            let err = with(|t| t.timing = bad.into()).validate().unwrap_err();
            assert!(err.to_string().starts_with("nmap_timing: "), "{bad}: {err}");
            assert_eq!(err.code(), "invalid_config");
        }
    }

    #[test]
    fn host_timeout_spellings() {
        for (given, normal) in [
            ("10m", "10m"),
            ("30s", "30s"),
            ("500ms", "500ms"),
            ("1h", "1h"),
            ("90", "90s"),
        ] {
            let tuning = with(|t| t.host_timeout = given.into())
                .normalized()
                .unwrap();
            assert_eq!(tuning.host_timeout, normal);
        }
        for bad in [
            "", "0", "0s", "000m", "-1s", "1d", "10 m", "10M", "1.5m", "m", "1234567s", "10m;id",
        ] {
            let err = with(|t| t.host_timeout = bad.into())
                .validate()
                .unwrap_err();
            assert!(
                err.to_string().starts_with("nmap_host_timeout: "),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn rates_and_retries() {
        assert!(with(|t| t.max_retries = 0).validate().is_ok());
        assert!(with(|t| t.max_retries = 21).validate().is_err());
        assert!(with(|t| t.min_rate = 0).validate().is_err());
        assert!(with(|t| t.max_rate = 0).validate().is_err());
        assert!(
            with(|t| {
                t.min_rate = 5;
                t.max_rate = 5
            })
            .validate()
            .is_ok()
        );
        let err = with(|t| t.min_rate = 3000).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "nmap_min_rate: 3000 is more than nmap_max_rate (2000)"
        );
    }

    #[test]
    fn unvalidated_text_never_reaches_the_arguments() {
        let tuning = with(|t| {
            t.timing = "-T4 --script=x".into();
            t.host_timeout = "1m -oX /tmp/x".into();
            t.min_rate = 9;
            t.max_rate = 1;
            t.max_retries = 1000;
        });
        assert_eq!(
            tuning.args().join(" "),
            "-T4 --max-retries 20 --host-timeout 10m --min-rate 800 --max-rate 2000 -n"
        );
    }
}
