//! `database`: a SQLite file path (the default) or a PostgreSQL URL, told apart once here.
//!
//! A URL may hold a password, so it is kept whole only inside [`PostgresUrl`], whose
//! `Display` (every log line, error and listing) shows `postgres://user@host:port/db` without
//! it. The URL is the libpq form that `tokio_postgres::Config` reads (`sslmode=disable|prefer|
//! require`, `connect_timeout`, `application_name`...) plus `sslrootcert=FILE`, the CA file to
//! trust for TLS (libpq's name), which is taken out here.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use postgres::config::{Host, SslMode};

/// Where snapshots, alerts and deliveries are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

impl Database {
    /// Classifies `text`: a `postgres://` or `postgresql://` URL, else a file path.
    pub fn parse(text: &Path) -> Result<Database, String> {
        match text.to_str() {
            Some(s) if is_postgres_url(s) => PostgresUrl::parse(s).map(Database::Postgres),
            _ => Ok(Database::Sqlite(text.to_path_buf())),
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => url.fmt(f),
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// How much of the server's certificate TLS checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVerify {
    /// Encrypt only (libpq's `prefer` and `require` without `sslrootcert`).
    None,
    /// The chain up to a trusted root (`verify-ca`, or `require` with `sslrootcert`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// A checked PostgreSQL URL. `Display` never shows the password.
#[derive(Clone)]
pub struct PostgresUrl {
    /// As given (with its password): equality only.
    text: String,
    /// Boxed: the settings are large and a [`Database`] is passed around by value.
    config: Box<postgres::Config>,
    root_cert: Option<PathBuf>,
    verify: TlsVerify,
    shown: String,
}

impl PostgresUrl {
    pub fn parse(url: &str) -> Result<PostgresUrl, String> {
        // The scheme is case-insensitive; the client reads only lower case.
        let lowered = match url.split_once("://") {
            Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
            None => url.to_string(),
        };
        let (rest, root_cert) = take_param(&lowered, "sslrootcert");
        let (mut rest, mode) = take_param(&rest, "sslmode");
        let verify = match mode.as_deref() {
            Some("verify-full") => TlsVerify::Full,
            Some("verify-ca") => TlsVerify::Chain,
            _ if root_cert.is_some() => TlsVerify::Chain,
            _ => TlsVerify::None,
        };
        let mode = match mode.as_deref() {
            Some("verify-full" | "verify-ca") => Some("require"),
            other => other,
        };
        if let Some(mode) = mode {
            rest.push(if rest.contains('?') { '&' } else { '?' });
            rest.push_str("sslmode=");
            rest.push_str(mode);
        }
        let config = postgres::Config::from_str(&rest).map_err(|e| {
            // tokio-postgres's messages name the bad part, never echo the URL.
            format!("not a usable PostgreSQL URL: {e}")
        })?;
        if config.get_hosts().is_empty() {
            return Err("a PostgreSQL URL needs a host (postgres://user@host:5432/db)".into());
        }
        if config.get_user().is_none() {
            return Err("a PostgreSQL URL needs a user (postgres://user@host:5432/db)".into());
        }
        let shown = shown(&config);
        if verify != TlsVerify::None && config.get_ssl_mode() == SslMode::Disable {
            return Err("sslrootcert needs TLS, but sslmode is disable".into());
        }
        Ok(PostgresUrl {
            text: url.to_string(),
            config: Box::new(config),
            root_cert: root_cert.map(PathBuf::from),
            verify,
            shown,
        })
    }

    /// The connection settings, password included: for connecting only.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// `sslrootcert`: the CA certificates (PEM) to trust instead of the public roots.
    pub fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.config.get_ssl_mode()
    }

    pub fn verify(&self) -> TlsVerify {
        self.verify
    }

    /// `host:port` of the first host, for messages.
    pub fn host(&self) -> String {
        host(&self.config)
    }
}

impl PartialEq for PostgresUrl {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for PostgresUrl {}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({})", self.shown)
    }
}

/// `postgres://user@host:port/dbname`: what messages show.
fn shown(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{}/{db}", host(config))
}

fn host(config: &postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(Host::Tcp(h)) if h.contains(':') => format!("[{h}]:{port}"),
        Some(Host::Tcp(h)) => format!("{h}:{port}"),
        Some(Host::Unix(p)) => format!("{}:{port}", p.display()),
        None => format!("localhost:{port}"),
    }
}

/// `url` without the query parameter `name`, and that parameter's (percent-decoded) value.
fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut value = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some((k, v)) if k == name => {
                value = Some(percent_decode(v));
                false
            }
            _ => true,
        })
        .collect();
    if kept.is_empty() {
        (base.to_string(), value)
    } else {
        (format!("{base}?{}", kept.join("&")), value)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok();
        match (bytes[i], hex().and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_are_told_apart() {
        let p = |s: &str| Database::parse(Path::new(s));
        assert_eq!(
            p("scan_results/scans.db").unwrap(),
            Database::Sqlite("scan_results/scans.db".into())
        );
        assert!(matches!(
            p("postgres://scanner@127.0.0.1:5432/scans").unwrap(),
            Database::Postgres(_)
        ));
        assert!(matches!(
            p("PostgreSQL://scanner@db.example/scans").unwrap(),
            Database::Postgres(_)
        ));
    }

    #[test]
    fn the_password_is_never_shown() {
        let url = PostgresUrl::parse(
            "postgres://scanner:s3cret%21@127.0.0.1:5433/scans?sslmode=require&sslrootcert=/etc/ca%20x.pem",
        )
        .unwrap();
        assert_eq!(url.to_string(), "postgres://scanner@127.0.0.1:5433/scans");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.host(), "127.0.0.1:5433");
        assert_eq!(url.ssl_mode(), SslMode::Require);
        assert_eq!(url.root_cert(), Some(Path::new("/etc/ca x.pem")));
        assert_eq!(url.verify(), TlsVerify::Chain);
        let full = PostgresUrl::parse("postgresql://u@db.example/scans?sslmode=verify-full");
        let full = full.unwrap();
        assert_eq!(
            (full.ssl_mode(), full.verify()),
            (SslMode::Require, TlsVerify::Full)
        );
        let plain = PostgresUrl::parse("postgres://u@127.0.0.1/scans").unwrap();
        assert_eq!(
            (plain.ssl_mode(), plain.verify()),
            (SslMode::Prefer, TlsVerify::None)
        );
        assert_eq!(url.config().get_password(), Some(&b"s3cret!"[..]));
    }

    #[test]
    fn bad_urls_say_why_without_echoing_the_url() {
        for bad in [
            "postgres://scanner:pw@127.0.0.1:notaport/scans",
            "postgres://scanner:pw@127.0.0.1/scans?sslmode=sometimes",
            "postgres://127.0.0.1/scans",
        ] {
            let err = PostgresUrl::parse(bad).unwrap_err();
            assert!(!err.contains("pw"), "{err}");
            assert!(!err.is_empty());
        }
    }
}
