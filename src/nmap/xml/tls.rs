//! Reads the structured output (`<table>`/`<elem>`) of nmap's `ssl-cert` and
//! `ssl-enum-ciphers` scripts into a port's [`TlsInfo`], as the elements stream by.
//!
//! Only the keys below are kept; everything else is walked past. Values are capped
//! ([`MAX_VALUE`]) and so are lists ([`MAX_SANS`]), so hostile output costs bounded memory.

use sha2::{Digest, Sha256};

use crate::model::{CertInfo, Grade, TlsInfo};

/// Longest element value kept (a PEM certificate of a 16 kbit key is under 8 KiB).
const MAX_VALUE: usize = 32 * 1024;
/// Most subject alternative names kept per certificate.
const MAX_SANS: usize = 256;

/// Which script's elements are being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlsScript {
    Cert,
    Ciphers,
}

impl TlsScript {
    pub(super) fn of(id: &str) -> Option<TlsScript> {
        match id {
            "ssl-cert" => Some(TlsScript::Cert),
            "ssl-enum-ciphers" => Some(TlsScript::Ciphers),
            _ => None,
        }
    }
}

/// The TLS facts of the port being parsed, gathered element by element.
#[derive(Debug, Default)]
pub(super) struct Collector {
    script: Option<TlsScript>,
    /// Keys of the open tables inside the script (`""` for a table without a key).
    path: Vec<String>,
    /// Key and text of the open `<elem>`.
    elem: Option<(String, String)>,
    /// The last extension name seen in `extensions/<table>`.
    extension: String,
    cert: Option<CertInfo>,
    subject: Vec<(String, String)>,
    issuer: Vec<(String, String)>,
    versions: Vec<String>,
    least_grade: Option<Grade>,
}

impl Collector {
    pub(super) fn start_script(&mut self, script: TlsScript) {
        self.script = Some(script);
        self.path.clear();
        self.elem = None;
        if script == TlsScript::Cert {
            self.cert.get_or_insert_with(CertInfo::default);
        }
    }

    pub(super) fn end_script(&mut self) {
        self.script = None;
        self.path.clear();
    }

    pub(super) fn open_table(&mut self, key: String) {
        if self.script == Some(TlsScript::Ciphers)
            && self.path.is_empty()
            && (key.starts_with("TLSv") || key.starts_with("SSLv"))
            && self.versions.len() < 16
        {
            self.versions.push(key.clone());
        }
        self.path.push(key);
    }

    pub(super) fn close_table(&mut self) {
        self.path.pop();
    }

    pub(super) fn open_elem(&mut self, key: String) {
        self.elem = Some((key, String::new()));
    }

    pub(super) fn text(&mut self, t: &str) {
        if let Some((_, value)) = &mut self.elem
            && value.len() + t.len() <= MAX_VALUE
        {
            value.push_str(t);
        }
    }

    pub(super) fn close_elem(&mut self) {
        let Some((key, value)) = self.elem.take() else {
            return;
        };
        let value = value.trim();
        match self.script {
            Some(TlsScript::Cert) => self.cert_elem(&key, value),
            Some(TlsScript::Ciphers) if self.path.is_empty() && key == "least strength" => {
                self.least_grade = value.parse().ok();
            }
            _ => {}
        }
    }

    fn cert_elem(&mut self, key: &str, value: &str) {
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        let Some(cert) = self.cert.as_mut() else {
            return;
        };
        let names = match path.as_slice() {
            ["subject"] => Some(&mut self.subject),
            ["issuer"] => Some(&mut self.issuer),
            _ => None,
        };
        if let Some(names) = names {
            if names.len() < 32 {
                names.push((key.to_string(), value.to_string()));
            }
            return;
        }
        match (path.as_slice(), key) {
            (["pubkey"], "type") => cert.key_type = value.to_string(),
            (["pubkey"], "bits") => cert.key_bits = value.parse().ok(),
            ([], "sig_algo") => cert.signature_algorithm = value.to_string(),
            ([], "pem") => cert.sha256 = pem_sha256(value).unwrap_or_default(),
            (["validity"], "notBefore") => cert.not_before = utc(value),
            (["validity"], "notAfter") => cert.not_after = utc(value),
            (["extensions", _], "name") => self.extension = value.to_string(),
            (["extensions", _], "value") if self.extension == "X509v3 Subject Alternative Name" => {
                cert.sans = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .take(MAX_SANS)
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }

    /// The port's TLS facts, or `None` when neither script reported anything.
    pub(super) fn finish(self) -> Option<TlsInfo> {
        let cert = self.cert.map(|mut c| {
            c.subject_cn = self
                .subject
                .iter()
                .find(|(k, _)| k == "commonName")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            c.issuer = names_text(&self.issuer);
            c.self_signed = !self.subject.is_empty() && self.subject == self.issuer;
            c
        });
        let info = TlsInfo {
            cert: cert.filter(|c| !c.sha256.is_empty() || !c.not_after.is_empty()),
            versions: self.versions,
            least_grade: self.least_grade,
        };
        (info.cert.is_some() || info.ciphers_examined()).then_some(info)
    }
}

fn names_text(names: &[(String, String)]) -> String {
    names
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// nmap prints validity as `2026-12-10T07:42:41` (UTC, no zone): one spelling, with `Z`.
fn utc(value: &str) -> String {
    if value.is_empty() || value.ends_with('Z') {
        value.to_string()
    } else {
        format!("{value}Z")
    }
}

/// SHA-256 of the DER inside a PEM block, lower-case hex. `None` when it is not base64.
pub(super) fn pem_sha256(pem: &str) -> Option<String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64_decode(&body)?;
    if der.is_empty() {
        return None;
    }
    let digest = Sha256::digest(&der);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Standard base64 (with `=` padding, no line breaks left); `None` on any other byte.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
