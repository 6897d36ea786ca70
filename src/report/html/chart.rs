//! The report's history chart: open ports (bars, left axis) and score (line, right axis) per
//! snapshot, as inline SVG (no script, no external asset).

use std::fmt::Write as _;

use super::escape;
use crate::history::TimelineRow;

/// Open ports and score over the snapshots of `rows` (newest first, as the timeline gives
/// them), as an inline SVG: bars for open ports (left axis), a line for the score (right).
pub fn history_chart(rows: &[TimelineRow]) -> String {
    if rows.is_empty() {
        return "<p class=\"none\">No history yet.</p>\n".to_string();
    }
    let points: Vec<&TimelineRow> = rows.iter().rev().collect();
    let (w, h) = (1000.0_f64, 260.0_f64);
    let (left, right, top, bottom) = (56.0, 56.0, 20.0, 46.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let max_open = points
        .iter()
        .map(|r| r.snapshot.open_ports)
        .max()
        .unwrap_or(0);
    let axis_max = nice_max(max_open);
    let slot = plot_w / points.len() as f64;
    let bar_w = (slot * 0.55).clamp(4.0, 48.0);
    let y_open = |n: u64| top + plot_h - plot_h * (n as f64 / axis_max as f64);
    let y_score = |s: u8| top + plot_h - plot_h * (f64::from(s) / 100.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"Open ports and security score per snapshot\" \
         font-family=\"system-ui,sans-serif\" font-size=\"12\">"
    );
    // Grid and axes: four steps on both scales.
    for i in 0..=4u32 {
        let y = top + plot_h * f64::from(i) / 4.0;
        let open_label = axis_max * u64::from(4 - i) / 4;
        let score_label = 100 * (4 - i) / 4;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d1d9e0\" \
             stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
             fill=\"#0969da\">{open_label}</text><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#8250df\">\
             {score_label}</text>",
            left + plot_w,
            left - 8.0,
            y + 4.0,
            left + plot_w + 8.0,
            y + 4.0
        );
    }
    let mut line = String::new();
    for (i, r) in points.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let y = y_open(r.snapshot.open_ports);
        let title = format!(
            "snapshot {} ({}): {} open ports, score {}",
            r.snapshot.id,
            crate::report::text::time(r.snapshot.started_at),
            r.snapshot.open_ports,
            r.score.map_or("none".to_string(), |s| s.to_string())
        );
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{:.1}\" rx=\"2\" \
             fill=\"#0969da\" fill-opacity=\"0.75\"><title>{}</title></rect>",
            cx - bar_w / 2.0,
            (top + plot_h - y).max(0.0),
            escape(&title)
        );
        if points.len() <= 16 || i % points.len().div_ceil(16) == 0 {
            let _ = write!(
                svg,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#59636e\">#{}</text>\
                 <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#59636e\" \
                 font-size=\"10\">{}</text>",
                top + plot_h + 16.0,
                r.snapshot.id,
                top + plot_h + 30.0,
                r.snapshot.started_at.strftime("%m-%d %H:%M")
            );
        }
        if let Some(s) = r.score {
            let _ = write!(
                line,
                "{}{cx:.1},{:.1}",
                if line.is_empty() { "" } else { " " },
                y_score(s)
            );
        }
    }
    if !line.is_empty() {
        let _ = write!(
            svg,
            "<polyline points=\"{line}\" fill=\"none\" stroke=\"#8250df\" stroke-width=\"2.5\" \
             stroke-linejoin=\"round\"/>"
        );
        for pair in line.split(' ') {
            if let Some((x, y)) = pair.split_once(',') {
                let _ = write!(
                    svg,
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"#fff\" stroke=\"#8250df\" \
                     stroke-width=\"2\"/>"
                );
            }
        }
    }
    let _ = write!(
        svg,
        "<rect x=\"{left}\" y=\"2\" width=\"12\" height=\"10\" fill=\"#0969da\" fill-opacity=\"0.75\"/>\
         <text x=\"{:.1}\" y=\"11\" fill=\"#1f2328\">open ports (left axis)</text>\
         <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"7\" y2=\"7\" stroke=\"#8250df\" stroke-width=\"2.5\"/>\
         <text x=\"{:.1}\" y=\"11\" fill=\"#1f2328\">security score (right axis)</text></svg>",
        left + 18.0,
        left + 180.0,
        left + 200.0,
        left + 206.0
    );
    // On a phone the chart keeps a readable size and scrolls sideways; Tab reaches it to scroll.
    format!(
        "<div class=\"chart\" tabindex=\"0\" role=\"region\" aria-label=\"History chart\">{svg}</div>\n"
    )
}

/// A round axis maximum at or above `n`, divisible by 4 so the four grid steps are whole:
/// 4, 8, 12, 16, 20, then five times those (40, 60, 80, 100), and so on.
pub(super) fn nice_max(n: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [4u64, 8, 12, 16, 20] {
            let candidate = m.saturating_mul(step);
            if candidate >= n || candidate == u64::MAX {
                return candidate;
            }
        }
        step = step.saturating_mul(5);
    }
}
