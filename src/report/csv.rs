//! Minimal RFC 4180 CSV writing, hardened for spreadsheets.
//!
//! Service banners and hostnames come from the scanned network, so a cell may be hostile: one
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula when the file is opened in
//! a spreadsheet. Such cells are prefixed with `'` (the OWASP recommendation). A spreadsheet in
//! a locale that separates with `;` (or a user who splits on `,`) sees more cells than were
//! written, so the guard also applies after every `;` and `,` inside a field:
//! `x;=cmd|' /C calc'!A0` is written `"x;'=cmd|' /C calc'!A0"`.

use std::io::{self, Write};

/// Writes one record, quoting where needed, ending with CRLF as RFC 4180 asks.
pub fn write_record<W: Write, S: AsRef<str>>(out: &mut W, fields: &[S]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(out, field.as_ref())?;
    }
    out.write_all(b"\r\n")
}

const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn write_field<W: Write>(out: &mut W, field: &str) -> io::Result<()> {
    let guarded = guard_formulas(field);
    let quote = guarded.len() != field.len() || field.contains([',', ';', '"', '\n', '\r']);
    if !quote {
        return out.write_all(field.as_bytes());
    }
    out.write_all(b"\"")?;
    out.write_all(guarded.replace('"', "\"\"").as_bytes())?;
    out.write_all(b"\"")
}

/// `field` with `'` put before a formula character that starts it, or starts a part after a
/// `;` or `,` (leading spaces skipped).
fn guard_formulas(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 2);
    for part in field.split_inclusive([';', ',']) {
        let body = part.trim_start_matches(' ');
        if body.starts_with(FORMULA_START) {
            out.push_str(&part[..part.len() - body.len()]);
            out.push('\'');
            out.push_str(body);
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[&str]) -> String {
        let mut v = Vec::new();
        write_record(&mut v, fields).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn plain_fields_are_bare() {
        assert_eq!(line(&["127.0.0.1", "tcp", "22"]), "127.0.0.1,tcp,22\r\n");
    }

    #[test]
    fn separators_quotes_and_newlines_are_quoted() {
        assert_eq!(
            line(&["a,b", "say \"hi\"", "x\ny"]),
            "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\r\n"
        );
    }

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(
            line(&["=HYPERLINK(\"x\")"]),
            "\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
        assert_eq!(line(&["-1+2", "@SUM(A1)"]), "\"'-1+2\",\"'@SUM(A1)\"\r\n");
    }

    /// Issue 14, row 9: a formula after a `;` or `,` inside a cell.
    #[test]
    fn formulas_after_an_inner_separator_are_defused() {
        assert_eq!(
            line(&["x;=cmd|' /C calc'!A0"]),
            "\"x;'=cmd|' /C calc'!A0\"\r\n"
        );
        assert_eq!(line(&["a, @SUM(1)"]), "\"a, '@SUM(1)\"\r\n");
        assert_eq!(line(&["a;b"]), "\"a;b\"\r\n");
    }
}
