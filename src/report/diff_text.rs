//! `daily_scan diff` as text, laid out like ndiff's: a `-` and a `+` line naming the two
//! scans, then per host a header and its port lines with the before (`-`) and after (`+`)
//! state. Unlike ndiff, only real changes are shown: no script output, OS guesses, timing or
//! "Not shown" lines. Strings from the scans go through [`clean`].

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::text::{clean, time};
use crate::delta::{Change, ChangeKind, Delta, PortView, SnapshotRef};
use crate::snapshot::{Snapshot, host_ip};

/// The header line of one side.
fn describe(side: Option<&SnapshotRef>, s: &Snapshot) -> String {
    let file = side.and_then(|r| r.file.as_deref());
    match (s.id, file) {
        (Some(id), _) => format!(
            "snapshot {id}, profile {}, started {}",
            clean(&s.profile),
            time(s.started_at)
        ),
        (None, Some(file)) => format!(
            "{}: Nmap {} scan initiated {} as: {}",
            clean(file),
            clean(&s.nmap_version),
            time(s.started_at),
            clean(&s.nmap_args)
        ),
        (None, None) => format!("scan started {}", time(s.started_at)),
    }
}

/// Hostnames of the changed addresses (from the later scan, else the earlier).
fn hostnames<'a>(delta: &Delta, from: &'a Snapshot, to: &'a Snapshot) -> HashMap<String, &'a str> {
    let changed: HashSet<&str> = delta.changes.iter().map(|c| c.ip.as_str()).collect();
    let mut names = HashMap::new();
    for h in from.hosts.iter().chain(&to.hosts) {
        let (Some(ip), Some(name)) = (host_ip(h), h.hostname()) else {
            continue;
        };
        let ip = ip.to_string();
        if changed.contains(ip.as_str()) && !name.is_empty() {
            names.insert(ip, name);
        }
    }
    names
}

/// One port line's columns: `22/tcp`, state, service, product and version.
fn columns(port: &str, v: &PortView) -> [String; 4] {
    let version = [&v.product, &v.version]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| clean(s).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    [
        port.to_string(),
        clean(&v.state).into_owned(),
        clean(&v.service).into_owned(),
        version,
    ]
}

/// Writes the diff; nothing but the two header lines when there are no changes.
pub fn write<W: Write>(
    out: &mut W,
    from: &Snapshot,
    to: &Snapshot,
    delta: &Delta,
) -> io::Result<()> {
    writeln!(out, "-{}", describe(delta.from.as_ref(), from))?;
    writeln!(out, "+{}", describe(Some(&delta.to), to))?;
    if let Some(note) = &delta.note {
        writeln!(out, "\n{}", clean(note))?;
    }
    let names = hostnames(delta, from, to);
    let mut i = 0;
    while i < delta.changes.len() {
        let ip = &delta.changes[i].ip;
        let end = delta.changes[i..]
            .iter()
            .position(|c| &c.ip != ip)
            .map_or(delta.changes.len(), |n| i + n);
        host_block(out, &delta.changes[i..end], names.get(ip).copied())?;
        i = end;
    }
    if !delta.not_compared.is_empty() {
        writeln!(out, "\nNot compared:")?;
        for n in &delta.not_compared {
            writeln!(
                out,
                " {}: {} ({})",
                clean(&n.target),
                n.reason.as_str(),
                n.reason.explain()
            )?;
        }
    }
    Ok(())
}

fn host_block<W: Write>(out: &mut W, changes: &[Change], hostname: Option<&str>) -> io::Result<()> {
    let ip = clean(&changes[0].ip);
    let sign = match changes.iter().find(|c| c.port.is_none()).map(|c| c.kind) {
        Some(ChangeKind::NewHost) => '+',
        Some(ChangeKind::HostGone) => '-',
        _ => ' ',
    };
    let name = match hostname {
        Some(h) => format!("{} ({ip})", clean(h)),
        None => ip.into_owned(),
    };
    writeln!(out, "\n{sign}{name}:")?;
    if sign != ' ' {
        writeln!(out, "{sign}Host is up.")?;
    }
    let mut lines: Vec<(char, [String; 4])> = Vec::new();
    for c in changes {
        let Some(p) = &c.port else { continue };
        let port = format!("{}/{}", p.port, clean(&p.protocol));
        if let Some(before) = &p.before {
            lines.push(('-', columns(&port, before)));
        }
        if let Some(after) = &p.after {
            lines.push(('+', columns(&port, after)));
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    let header = ["PORT", "STATE", "SERVICE", "VERSION"].map(String::from);
    let mut width = [0usize; 3];
    for cols in std::iter::once(&header).chain(lines.iter().map(|(_, c)| c)) {
        for (w, col) in width.iter_mut().zip(cols.iter()) {
            *w = (*w).max(col.chars().count());
        }
    }
    let row = |sign: char, c: &[String; 4]| {
        format!(
            "{sign}{:<w0$} {:<w1$} {:<w2$} {}",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2]
        )
        .trim_end()
        .to_string()
    };
    writeln!(out, "{}", row(' ', &header))?;
    for (sign, cols) in &lines {
        writeln!(out, "{}", row(*sign, cols))?;
    }
    Ok(())
}
