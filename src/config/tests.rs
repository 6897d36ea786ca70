use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn defaults_follow_the_reference_design() {
    let c = Config::default();
    assert_eq!(c.nmap_timing, "-T4");
    assert_eq!(c.nmap_max_retries, 2);
    assert_eq!(c.nmap_host_timeout, "10m");
    assert_eq!((c.nmap_min_rate, c.nmap_max_rate), (800, 2000));
    assert_eq!(c.nmap_timeout, 300);
    assert_eq!(c.api.bind, "127.0.0.1:5000");
    let nets: Vec<String> = c.allowed_networks.iter().map(|n| n.to_string()).collect();
    assert_eq!(nets, ["127.0.0.0/8", "::1/128"]);
    assert!(c.denied_networks.is_empty());
    assert_eq!(c.database_path(), PathBuf::from("scan_results/scans.db"));
    c.validate().unwrap();
}

#[test]
fn shipped_config_toml_parses_to_the_defaults() {
    let text = include_str!("../../config.toml");
    let parsed = Config::from_toml(text).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn unknown_key_is_refused_and_named() {
    let err = Config::from_toml("nmap_timout = 5\n").unwrap_err();
    assert!(err.contains("nmap_timout"), "{err}");
    let err = Config::from_toml("[api]\nmax_concurent_scans = 5\n").unwrap_err();
    assert!(err.contains("max_concurent_scans"), "{err}");
}

#[test]
fn wrong_type_is_refused_and_named() {
    let err = Config::from_toml("nmap_timeout = \"soon\"\n").unwrap_err();
    assert!(err.contains("nmap_timeout"), "{err}");
    let err = Config::from_toml("allowed_networks = [\"127.0.0.1/99\"]\n").unwrap_err();
    assert!(err.contains("allowed_networks"), "{err}");
}

#[test]
fn precedence_is_cli_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        &dir,
        "nmap_timeout = 10\noutput_dir = \"from_file\"\n[api]\nbind = \"127.0.0.1:6000\"\n",
    );

    let cli = CliOverrides {
        config: Some(path.clone()),
        ..Default::default()
    };
    let c = Config::load_with(&cli, env_of(&[])).unwrap();
    assert_eq!(
        (c.nmap_timeout, c.api.bind.as_str()),
        (10, "127.0.0.1:6000")
    );
    assert_eq!(c.output_dir, PathBuf::from("from_file"));
    assert_eq!(
        c.nmap_max_retries, 2,
        "keys absent from the file keep defaults"
    );

    let env = env_of(&[
        ("SCANNER_NMAP_TIMEOUT", "20"),
        ("SCANNER_BIND", "127.0.0.1:7000"),
        ("SCANNER_OUTPUT_DIR", "from_env"),
    ]);
    let c = Config::load_with(&cli, env).unwrap();
    assert_eq!(
        (c.nmap_timeout, c.api.bind.as_str()),
        (20, "127.0.0.1:7000")
    );
    assert_eq!(c.output_dir, PathBuf::from("from_env"));

    let cli = CliOverrides {
        config: Some(path),
        nmap_timeout: Some(30),
        bind: Some("127.0.0.1:8000".into()),
        ..Default::default()
    };
    let env = env_of(&[
        ("SCANNER_NMAP_TIMEOUT", "20"),
        ("SCANNER_BIND", "127.0.0.1:7000"),
    ]);
    let c = Config::load_with(&cli, env).unwrap();
    assert_eq!(
        (c.nmap_timeout, c.api.bind.as_str()),
        (30, "127.0.0.1:8000")
    );
}

#[test]
fn scanner_config_env_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "nmap_max_retries = 5\n");
    let env = env_of(&[("SCANNER_CONFIG", path.to_str().unwrap())]);
    let c = Config::load_with(&CliOverrides::default(), env).unwrap();
    assert_eq!(c.nmap_max_retries, 5);
}

#[test]
fn missing_named_file_is_an_error_naming_it() {
    let cli = CliOverrides {
        config: Some(PathBuf::from("/nonexistent/scanner.toml")),
        ..Default::default()
    };
    let err = Config::load_with(&cli, env_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/scanner.toml"), "{err}");
}

#[test]
fn api_tokens_come_from_a_comma_list() {
    let env = env_of(&[(
        "SCANNER_API_TOKENS",
        " aaaaaaaaaaaaaaaa1 , bbbbbbbbbbbbbbbb2,",
    )]);
    let c = Config::load_with(&CliOverrides::default(), env).unwrap();
    assert_eq!(c.api.tokens, ["aaaaaaaaaaaaaaaa1", "bbbbbbbbbbbbbbbb2"]);
    let env = env_of(&[("SCANNER_API_TOKENS", "short")]);
    let err = Config::load_with(&CliOverrides::default(), env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SCANNER_API_TOKENS"),
        "names the variable: {err}"
    );
    assert!(
        !err.contains("short"),
        "a rejected token is not echoed whole: {err}"
    );
}

#[test]
fn read_tokens_come_from_the_file_or_the_environment_and_are_checked() {
    let c = Config::from_toml("[api]\nread_tokens = [\"cccccccccccccccc3\"]\n").unwrap();
    assert_eq!(c.api.read_tokens, ["cccccccccccccccc3"]);
    assert!(
        c.api.tokens.is_empty(),
        "existing configs keep their meaning"
    );
    let env = env_of(&[(
        "SCANNER_API_READ_TOKENS",
        "dddddddddddddddd4, eeeeeeeeeeeeeeee5",
    )]);
    let c = Config::load_with(&CliOverrides::default(), env).unwrap();
    assert_eq!(
        c.api.read_tokens,
        ["dddddddddddddddd4", "eeeeeeeeeeeeeeee5"]
    );
    let env = env_of(&[("SCANNER_API_READ_TOKENS", "tiny")]);
    let err = Config::load_with(&CliOverrides::default(), env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("SCANNER_API_READ_TOKENS"), "{err}");
}

#[test]
fn bad_values_name_their_key() {
    let cases: &[(&str, &str)] = &[
        ("nmap_timeout = 0", "nmap_timeout"),
        ("log_level = \"loud\"", "log_level"),
        ("allowed_networks = []", "allowed_networks"),
        ("[api]\nbind = \"localhost\"", "api.bind"),
        (
            "[api]\nmax_concurrent_scans = 0",
            "api.max_concurrent_scans",
        ),
        ("[api]\nmax_ports = 70000", "api.max_ports"),
        ("[batch]\nparallel = 0", "batch.parallel"),
        ("[batch]\nchunk_size = 0", "batch.chunk_size"),
        ("[batch]\nmax_hosts_per_run = 0", "batch.max_hosts_per_run"),
        ("nmap_timing = \"-T9\"", "nmap_timing"),
        ("nmap_host_timeout = \"soon\"", "nmap_host_timeout"),
        ("nmap_min_rate = 5000", "nmap_min_rate"),
        ("[batch]\nprofile = \"fast\"", "batch.profile"),
        ("[batch]\nports = \"-oN /tmp/x\"", "batch.ports"),
    ];
    for (text, key) in cases {
        let err = match Config::from_toml(text) {
            Ok(c) => c.validate().unwrap_err().to_string(),
            // Typed values (log_level, batch.profile) are refused as the file is read.
            Err(e) => e,
        };
        assert!(err.contains(key), "{text}: {err}");
    }
    let env = env_of(&[("SCANNER_NMAP_TIMEOUT", "ten")]);
    let err = Config::load_with(&CliOverrides::default(), env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("SCANNER_NMAP_TIMEOUT"), "{err}");
}

fn invalid(text: &str) -> Result<(), String> {
    Config::from_toml(text).and_then(|c| c.validate().map_err(|e| e.to_string()))
}

#[test]
fn bad_severity_and_expect_are_named() {
    let err = invalid("[port_severity]\n\"http\" = \"high\"\n").unwrap_err();
    assert!(
        err.contains("port_severity") && err.contains("http"),
        "{err}"
    );
    let err = Config::from_toml("[port_severity]\n\"80\" = \"urgent\"\n").unwrap_err();
    assert!(err.contains("urgent"), "{err}");
    let err = invalid("[[expect]]\nports = [\"22\"]\n").unwrap_err();
    assert!(
        err.contains("expect[0].targets") && err.contains("CIDR"),
        "{err}"
    );
    let err = invalid("[[expect]]\ntargets = [\"x\"]\nports = [\"tcp/ssh\"]\n").unwrap_err();
    assert!(
        err.contains("expect[0].ports") && err.contains("tcp/ssh"),
        "{err}"
    );
    for bad in ["22/icmp", "70000/tcp", "/tcp", "22/"] {
        let err = invalid(&format!(
            "[[expect]]\ntargets = [\"x\"]\nports = [\"{bad}\"]\n"
        ))
        .unwrap_err();
        assert!(err.contains("expect[0].ports"), "{bad}: {err}");
    }
    let err = Config::from_toml("[[expected_ports]]\nnetworks = []\n").unwrap_err();
    assert!(err.contains("expected_ports"), "{err}");
}

#[test]
fn webhooks_parse_with_defaults() {
    let c = Config::from_toml(
        r#"
[alerts]
cert_expiry_days = 14

[[webhook]]
url = "https://hooks.slack.example/services/T0/B0/secret"
format = "slack"
min_severity = "high"
kinds = ["unexpected_port", "port_opened"]
token_env = "SCANNER_WEBHOOK_TOKEN"
headers = { "X-Team" = "secops" }

[[webhook]]
name = "siem"
url = "http://127.0.0.1:9000/hook"
"#,
    )
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.alerts.cert_expiry_days, 14);
    let (slack, siem) = (&c.webhook[0], &c.webhook[1]);
    assert_eq!(slack.format, WebhookFormat::Slack);
    assert_eq!(slack.min_severity, crate::model::Severity::High);
    assert_eq!(slack.kinds.len(), 2);
    assert_eq!(slack.label(0), "webhook[0]");
    assert_eq!(slack.headers["X-Team"], "secops");
    assert_eq!(siem.label(1), "siem");
    assert_eq!(siem.format, WebhookFormat::Json);
    assert_eq!(siem.min_severity, crate::model::Severity::Info);
    assert_eq!(siem.timeout, 10);
    assert_eq!(siem.token_env, None);
}

#[test]
fn bad_webhooks_are_named_without_echoing_the_url() {
    let secret = "https://hooks.example/T0/B0/s3cr3t value";
    let cases: Vec<(String, &str)> = vec![
        (format!("[[webhook]]\nurl = \"{secret}\""), "webhook[0].url"),
        ("[[webhook]]\nurl = \"ftp://x/s3cr3t\"".into(), "webhook[0].url"),
        ("[[webhook]]\nurl = \"s3cr3t\"".into(), "webhook[0].url"),
        ("[[webhook]]\nformat = \"json\"".into(), "webhook[0].url"),
        (
            "[[webhook]]\nurl = \"http://127.0.0.1/\"\ntimeout = 0".into(),
            "webhook[0].timeout",
        ),
        (
            "[[webhook]]\nurl = \"http://127.0.0.1/\"\ntoken_env = \"MY-TOKEN\"".into(),
            "webhook[0].token_env",
        ),
        (
            "[[webhook]]\nurl = \"http://127.0.0.1/\"\nheaders = { \"Bad Name\" = \"x\" }".into(),
            "webhook[0].headers",
        ),
        (
            "[[webhook]]\nurl = \"http://127.0.0.1/\"\nheaders = { \"X\" = \"a\\nb\" }".into(),
            "webhook[0].headers",
        ),
        (
            "[[webhook]]\nurl = \"http://127.0.0.1/\"\ntoken_env = \"T\"\nheaders = { \"authorization\" = \"b\" }".into(),
            "webhook[0].headers",
        ),
        (
            "[[webhook]]\nname = \"a\"\nurl = \"http://127.0.0.1/\"\n[[webhook]]\nname = \"a\"\nurl = \"http://127.0.0.1/\"".into(),
            "webhook[1].name",
        ),
        ("[alerts]\ncert_expiry_days = 0".into(), "alerts.cert_expiry_days"),
    ];
    for (text, key) in cases {
        let err = invalid(&text).unwrap_err();
        assert!(err.contains(key), "{text}: {err}");
        assert!(!err.contains("s3cr3t"), "{text}: {err}");
    }
    let err = Config::from_toml("[[webhook]]\nurl = \"http://x/\"\nformat = \"xml\"").unwrap_err();
    assert!(err.contains("xml"), "{err}");
    let err = Config::from_toml("[[webhook]]\nurl = \"http://x/\"\nkinds = [\"port_flapped\"]")
        .unwrap_err();
    assert!(err.contains("port_flapped"), "{err}");
}

#[test]
fn typed_values_are_parsed_once_from_every_source() {
    let c = Config::from_toml("log_level = \"DEBUG\"\n[batch]\nprofile = \" quick \"").unwrap();
    assert_eq!(c.log_level, crate::logging::LogLevel::Debug);
    assert_eq!(c.batch.profile, Profile::Quick);

    let cli = CliOverrides {
        profile: Some("turbo".into()),
        ..CliOverrides::default()
    };
    let err = Config::load_with(&cli, env_of(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config key `batch.profile`: unknown profile `turbo`"),
        "{err}"
    );
    let env = env_of(&[("SCANNER_LOG_LEVEL", "loud")]);
    let err = Config::load_with(&CliOverrides::default(), env)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "config key `log_level`: `loud` is not one of error, warn, info, debug, trace, off"
    );
    let err = Config::from_toml("[batch]\nprofile = \"fast\"").unwrap_err();
    assert!(
        err.contains("config key `batch.profile`: unknown profile `fast`"),
        "{err}"
    );
}

#[test]
fn email_notify_and_public_url_parse_with_defaults() {
    let c = Config::from_toml(
        r#"
public_url = "https://scanner.example.org"

[notify]
max_age = "12h"

[[email]]
name = "secops"
smtp_host = "smtp.example.org"
username = "scanner"
password_env = "SMTP_PASSWORD"
ca_file = "/etc/ssl/extra-ca.pem"
from = "daily_scan <scanner@example.org>"
to = ["secops@example.org", "Night Shift <oncall@example.org>"]
min_severity = "high"
"#,
    )
    .unwrap();
    c.validate().unwrap();
    let e = &c.email[0];
    assert_eq!(
        (e.smtp_port, e.tls, e.timeout),
        (587, EmailTls::Starttls, 30)
    );
    assert_eq!(e.endpoint(), "smtp://smtp.example.org:587");
    assert_eq!(c.notify.max_age_secs(), 12 * 3600);
    assert_eq!(Config::default().notify.max_age_secs(), 3 * 86_400);
    assert_eq!(parse_age("90s"), Some(90));
    assert_eq!(parse_age("30m"), Some(1800));
    for bad in ["", "3", "d", "0d", "-1d", "3w", "1.5h"] {
        assert_eq!(parse_age(bad), None, "{bad}");
    }
}

#[test]
fn bad_emails_and_notify_settings_are_named() {
    let email = |extra: &str| {
        format!(
            "[[email]]\nsmtp_host = \"127.0.0.1\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n{extra}"
        )
    };
    let cases = [
        (
            email("tls = \"none\"\nsmtp_host = \"smtp.example.org\"").replacen(
                "smtp_host = \"127.0.0.1\"\n",
                "",
                1,
            ),
            "email[0].tls",
        ),
        (email("username = \"u\""), "email[0].password_env"),
        (
            email("username = \"u\"\npassword_env = \"BAD-NAME\""),
            "email[0].password_env",
        ),
        (
            email("").replace("a@example.org", "not an address"),
            "email[0].from",
        ),
        (
            email("").replace("[\"b@example.org\"]", "[]"),
            "email[0].to",
        ),
        (
            email("").replace("b@example.org", "b@example.org\\r\\nBcc: x@example.org"),
            "email[0].to",
        ),
        (email("smtp_port = 0"), "email[0].smtp_port"),
        (
            email("").replace("127.0.0.1", "smtp.example.org; rm"),
            "email[0].smtp_host",
        ),
        (email("timeout = 0"), "email[0].timeout"),
        (
            format!(
                "[[webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1/\"\n{}",
                email("name = \"ops\"")
            ),
            "email[0].name",
        ),
        ("[notify]\nmax_age = \"forever\"".into(), "notify.max_age"),
        ("[notify]\nmax_age = \"400d\"".into(), "notify.max_age"),
        ("public_url = \"ftp://x\"".into(), "public_url"),
        (
            "public_url = \"https://x/\\\"><script>\"".into(),
            "public_url",
        ),
    ];
    for (toml, key) in cases {
        let c = Config::from_toml(&toml).unwrap_or_else(|e| panic!("{toml}: {e}"));
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains(key), "{toml}\n=> {err}");
    }
    // `none` is fine for a loopback relay.
    let c = Config::from_toml(&email("tls = \"none\"")).unwrap();
    c.validate().unwrap();
}
