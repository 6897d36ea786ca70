//! The padded text tables of the CLI (`alerts`, `alerts deliveries`, `history`): a header line
//! and one line per row, columns two spaces apart and each as wide as its widest cell.
//!
//! Cells are printed as given: text from the scanned network goes through
//! [`super::text::clean`] first.

use std::fmt::Write as _;

/// `header` and `rows` as a table; the columns whose index is in `right_aligned` are aligned
/// right (numbers), the others left. Trailing blanks are trimmed from every line.
pub fn render<R: AsRef<[String]>>(header: &[&str], rows: &[R], right_aligned: &[usize]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells
            .zip(&width)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if right_aligned.contains(&i) {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.as_ref().iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_aligned_and_trimmed() {
        let rows = [
            ["7".to_string(), "open".to_string(), String::new()],
            ["123".to_string(), "é".to_string(), "last".to_string()],
        ];
        assert_eq!(
            render(&["ID", "STATUS", "NOTE"], &rows, &[0]),
            " ID  STATUS  NOTE\n  7  open\n123  é       last\n"
        );
    }
}
