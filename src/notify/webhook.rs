//! One attempt to POST a document to a `[[webhook]]`.
//!
//! Transport errors, timeouts, 408, 429 and 5xx are worth another attempt; any other answer
//! is final. Redirects are not followed (a token must not travel to another host). The URL
//! (a Slack URL is a credential) and the token never reach an error text.

use std::time::Duration;

use super::Attempt;
use crate::config::WebhookConfig;

/// `scheme://host:port` of `url`: what logs and the database say instead of the URL.
pub fn endpoint(url: &str) -> String {
    match url.trim().parse::<ureq::http::Uri>() {
        Ok(uri) => {
            let scheme = uri.scheme_str().unwrap_or("http");
            let host = uri.host().unwrap_or("?");
            let port = uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 });
            format!("{scheme}://{host}:{port}")
        }
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// A transport error in words that hold neither the URL nor the token.
fn describe(e: &ureq::Error, timeout: Duration) -> String {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => format!("no answer within {} s", timeout.as_secs()),
        E::HostNotFound => "host not found".to_string(),
        E::ConnectionFailed => "connection failed".to_string(),
        E::Io(io) => format!("i/o error: {io}"),
        E::Tls(msg) => format!("TLS error: {msg}"),
        E::Rustls(err) => format!("TLS error: {err}"),
        E::Protocol(_) => "the answer was not valid HTTP".to_string(),
        E::TooManyRedirects | E::RedirectFailed => "redirect refused".to_string(),
        _ => "request failed".to_string(),
    }
}

/// Removes `secrets` from `text` (belt and braces over the describing functions).
pub(super) fn scrub(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(s, "[redacted]");
    }
    text
}

/// The agent for `hook`: its timeout, statuses as answers, no redirects.
pub(super) fn agent(hook: &WebhookConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(hook.timeout)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

pub(super) fn send_once(
    agent: &ureq::Agent,
    hook: &WebhookConfig,
    token: Option<&str>,
    body: &[u8],
) -> Attempt {
    let mut req = agent
        .post(hook.url.trim())
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("daily_scan/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in &hook.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    match req.send(body) {
        Ok(resp) => {
            let code = resp.status().as_u16();
            match code {
                200..=299 => Attempt::Delivered(code),
                408 | 429 | 500..=599 => Attempt::Transient(Some(code), format!("HTTP {code}")),
                _ => Attempt::Final(Some(code), format!("HTTP {code}")),
            }
        }
        Err(e) => {
            let timeout = Duration::from_secs(hook.timeout);
            let text = scrub(
                describe(&e, timeout),
                &[hook.url.trim(), token.unwrap_or("")],
            );
            match e {
                ureq::Error::BadUri(_) | ureq::Error::Http(_) => Attempt::Final(None, text),
                _ => Attempt::Transient(None, text),
            }
        }
    }
}
