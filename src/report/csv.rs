//! Minimal RFC 4180 CSV writing, hardened for spreadsheets.
//!
//! Service banners and hostnames come from the scanned network, so a cell may be hostile: one
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula when the file is opened in
//! a spreadsheet. Such cells are prefixed with `'` (the OWASP recommendation).

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

fn write_field<W: Write>(out: &mut W, field: &str) -> io::Result<()> {
    let guard = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = guard || field.contains([',', '"', '\n', '\r']);
    if !quote {
        return out.write_all(field.as_bytes());
    }
    out.write_all(b"\"")?;
    if guard {
        out.write_all(b"'")?;
    }
    out.write_all(field.replace('"', "\"\"").as_bytes())?;
    out.write_all(b"\"")
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
}
