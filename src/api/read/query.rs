//! Query-string and path parameters of the read routes, checked once: an unknown parameter,
//! a repeated one or a bad value is a 400 naming the parameter.

use std::str::FromStr;

use rouille::Request;

use crate::api::error::ApiError;
use crate::api::respond::Format;

/// The decoded query parameters of one request.
#[derive(Debug)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses the query string, refusing parameters not in `allowed` and repeated ones.
    pub fn parse(request: &Request, allowed: &[&str]) -> Result<Query, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in request
            .raw_query_string()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name);
            if !allowed.contains(&name.as_str()) {
                let shown: String = name.chars().take(40).collect();
                return Err(ApiError::bad_request(
                    "unknown_parameter",
                    format!(
                        "unknown query parameter {shown:?}; this route takes {}",
                        if allowed.is_empty() {
                            "none".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                )
                .with_field(shown));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(invalid(&name, "is given more than once"));
            }
            pairs.push((name, decode(value)));
        }
        Ok(Query { pairs })
    }

    /// The query again (values re-encoded), without the parameters named in `except`: what a
    /// link to the next page keeps.
    pub fn keep_except(&self, except: &[&str]) -> String {
        self.pairs
            .iter()
            .filter(|(n, v)| !v.is_empty() && !except.contains(&n.as_str()))
            .map(|(n, v)| {
                format!(
                    "{}={}",
                    crate::report::html::url_component(n),
                    crate::report::html::url_component(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The raw value of `name`; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A whole number within `range`.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        match text.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                name,
                &format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// A snapshot or alert id (a positive whole number).
    pub fn id(&self, name: &str) -> Result<Option<i64>, ApiError> {
        Ok(self.number(name, 1..=i64::MAX as u64)?.map(|n| n as i64))
    }

    /// A required id.
    pub fn required_id(&self, name: &str) -> Result<i64, ApiError> {
        self.id(name)?.ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("query parameter {name:?} is required (a snapshot id)"),
            )
            .with_field(name)
        })
    }

    /// A value of a type with a `FromStr` whose error says what is expected.
    pub fn parsed<T>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|text| {
                text.parse::<T>()
                    .map_err(|e| invalid(name, &format!(": {e}")))
            })
            .transpose()
    }

    /// One of `choices` (exact spelling).
    pub fn choice<'c>(&self, name: &str, choices: &[&'c str]) -> Result<Option<&'c str>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| **c == text)
            .copied()
            .map(Some)
            .ok_or_else(|| invalid(name, &format!("must be one of {}", choices.join(", "))))
    }

    /// `?format=json|csv`, JSON by default.
    pub fn format(&self) -> Result<Format, ApiError> {
        Ok(match self.choice("format", &["json", "csv"])? {
            Some("csv") => Format::Csv,
            _ => Format::Json,
        })
    }
}

fn invalid(name: &str, what: &str) -> ApiError {
    let sep = if what.starts_with(':') { "" } else { " " };
    ApiError::bad_request(
        "invalid_parameter",
        format!("query parameter {name:?}{sep}{what}"),
    )
    .with_field(name)
}

/// Percent-decoding (and `+` as space), lossy on invalid UTF-8.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The raw (still percent-encoded) path of `request`, without its query: routes match on it,
/// so an encoded `/` (`%2F`) inside a segment stays in that segment.
pub fn raw_path(request: &Request) -> &str {
    let url = request.raw_url();
    url.split_once('?').map_or(url, |(path, _)| path)
}

/// The path segment at `index`, percent-decoded (`/entries/127.0.0.0%2F29`: index 1 is
/// `127.0.0.0/29`).
pub fn path_text(request: &Request, index: usize) -> String {
    let segment = raw_path(request)
        .trim_start_matches('/')
        .split('/')
        .nth(index)
        .unwrap_or("");
    // `+` is a plus sign in a path (only a query means space by it).
    decode(&segment.replace('+', "%2B"))
}

/// The numeric path segment at `index` (`/api/snapshots/12/delta`: index 2 is `12`). The
/// router matched `{id}` there, so anything but a positive number is a 404 of that id.
pub fn path_id(request: &Request, index: usize, what: &'static str) -> Result<i64, ApiError> {
    let url = request.url();
    let segment = url
        .trim_start_matches('/')
        .split('/')
        .nth(index)
        .unwrap_or("");
    segment
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            let shown: String = segment.chars().take(40).collect();
            ApiError::new(
                crate::api::error::Kind::NotFound,
                if what == "alert" {
                    "alert_not_found"
                } else {
                    "snapshot_not_found"
                },
                format!("no {what} has the id {shown:?}; ids are positive whole numbers"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, allowed: &[&str]) -> Result<Query, ApiError> {
        let r = Request::fake_http("GET", format!("/x?{q}"), vec![], vec![]);
        Query::parse(&r, allowed)
    }

    #[test]
    fn known_parameters_are_decoded_and_others_refused() {
        let q = query("limit=5&q=a%20b+c&before=", &["limit", "q", "before"]).unwrap();
        assert_eq!(q.number("limit", 1..=10).unwrap(), Some(5));
        assert_eq!(q.get("q"), Some("a b c"));
        assert_eq!(q.id("before").unwrap(), None);
        let e = query("limt=5", &["limit"]).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_parameter", Some("limt"))
        );
        let e = query("limit=1&limit=2", &["limit"]).unwrap_err();
        assert_eq!(e.code, "invalid_parameter");
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let q = query(
            "limit=0&days=x&format=xml&id=-3&pct=%zz",
            &["limit", "days", "format", "id", "pct"],
        )
        .unwrap();
        for e in [
            q.number("limit", 1..=10).unwrap_err(),
            q.number("days", 1..=10).unwrap_err(),
            q.format().unwrap_err(),
            q.id("id").unwrap_err(),
        ] {
            assert_eq!(e.code, "invalid_parameter");
            assert_eq!(e.status(), 400);
        }
        assert_eq!(q.get("pct"), Some("%zz"));
        assert_eq!(
            q.required_id("missing").unwrap_err().code,
            "missing_parameter"
        );
    }

    #[test]
    fn path_ids_must_be_positive_numbers() {
        let r = Request::fake_http("GET", "/api/snapshots/12/delta", vec![], vec![]);
        assert_eq!(path_id(&r, 2, "snapshot").unwrap(), 12);
        for bad in [
            "/api/snapshots/0",
            "/api/snapshots/x",
            "/api/snapshots/99999999999999999999",
        ] {
            let r = Request::fake_http("GET", bad, vec![], vec![]);
            assert_eq!(
                path_id(&r, 2, "snapshot").unwrap_err().status(),
                404,
                "{bad}"
            );
        }
    }
}
