//! The house keeps its floors: no module of `src/` imports one on a higher floor (or on its
//! own floor) of the order written in `docs/ARCHITECTURE.md`, and no files import each other in
//! a circle. Plain Rust over the source text: `crate::` and `super::` paths, `use` trees
//! included; test code (`tests` modules, `testdata`) is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside the crate, e.g. `["api", "read", "alerts"]`.
type ModPath = Vec<String>;

/// A file of `src/` as the checker sees it: its module path and its code without comments,
/// string literals and test-only items.
struct Source {
    module: ModPath,
    code: String,
}

/// The floors written in `docs/ARCHITECTURE.md`: the fenced block under `## Floors`, one line
/// a floor, `NUMBER  module, module  (comment)`, higher numbers above.
fn floors_from_doc(doc: &str) -> BTreeMap<String, u32> {
    let at = doc
        .find("## Floors")
        .expect("docs/ARCHITECTURE.md has a `## Floors` section");
    let section = &doc[at..];
    let block = section
        .split("```")
        .nth(1)
        .expect("the Floors section has a fenced block");
    let mut floors = BTreeMap::new();
    for line in block.lines() {
        let mut words = line.split_whitespace();
        let Some(Ok(floor)) = words.next().map(str::parse::<u32>) else {
            continue;
        };
        // `a, b, c  what they are`: names while the previous one ended with a comma.
        for word in words {
            let name = word.trim_end_matches(',');
            floors.insert(name.to_string(), floor);
            if !word.ends_with(',') {
                break;
            }
        }
    }
    floors
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/api/read/alerts.rs` -> `["api", "read", "alerts"]`; `src/lib.rs` -> `[]`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

fn is_test_module(module: &ModPath) -> bool {
    module.iter().any(|p| p == "tests" || p == "testdata")
}

/// The code with comments and the contents of string and char literals blanked out.
fn strip_comments_and_strings(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // Raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// The code without items marked `#[cfg(test)]` (an inline `mod tests { .. }`, a test-only
/// `use` or function).
fn strip_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        // The item ends at the first `;` before any `{`, or at the `}` closing its first `{`.
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, ch) in after.char_indices() {
            match ch {
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Parses a `use` tree (or a plain path) starting at `s`, after a `crate::` or `super::`
/// prefix; pushes every full path it names onto `out`, each below `prefix`.
fn parse_tree(s: &[char], mut i: usize, prefix: &ModPath, out: &mut Vec<ModPath>) -> usize {
    let mut path = prefix.clone();
    loop {
        while i < s.len() && s[i].is_whitespace() {
            i += 1;
        }
        if i < s.len() && s[i] == '{' {
            i += 1;
            loop {
                while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                    i += 1;
                }
                if i >= s.len() || s[i] == '}' {
                    return i + 1;
                }
                let before = i;
                i = parse_tree(s, i, &path, out);
                // Skip `as name` and anything the tree parser did not take.
                while i < s.len() && s[i] != ',' && s[i] != '}' {
                    i += 1;
                }
                if i == before {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < s.len() && is_ident(s[i]) {
            i += 1;
        }
        if start == i {
            out.push(path);
            return i;
        }
        let word: String = s[start..i].iter().collect();
        if word != "self" && word != "super" {
            path.push(word);
        } else if word == "super" {
            path.pop();
        }
        if s.get(i) == Some(&':') && s.get(i + 1) == Some(&':') {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Every crate path the code names: `crate::a::b`, `super::x`, `use` trees of both.
fn referenced_paths(module: &ModPath, code: &str) -> Vec<ModPath> {
    let s: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let starts_word = i == 0 || !(is_ident(s[i - 1]) || s[i - 1] == '$' || s[i - 1] == ':');
        if starts_word && s[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            i = parse_tree(&s, i + 7, &Vec::new(), &mut out);
        } else if starts_word && s[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
            // The file's own module is a child of the module `super` names: for `src/a/b.rs`
            // (module a::b), `super::c` is a::c.
            let mut parent = module.clone();
            parent.pop();
            i = parse_tree(&s, i + 7, &parent, &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// Reads every non-test file of `src/`.
fn sources(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| (module_of(src, &f), f))
        .filter(|(m, _)| !is_test_module(m))
        .map(|(module, f)| {
            let text = std::fs::read_to_string(&f).expect("read source");
            let code = strip_test_items(&strip_comments_and_strings(&text));
            Source { module, code }
        })
        .collect()
}

/// What the checker found wrong; empty when the house keeps its floors.
fn violations(sources: &[Source], floors: &BTreeMap<String, u32>) -> Vec<String> {
    let files: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    // The file a path lands in: the longest prefix that is a file of its own.
    let file_of = |path: &ModPath| -> Option<ModPath> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| files.contains(p))
    };
    let mut problems = Vec::new();
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for source in sources {
        let Some(top) = source.module.first() else {
            continue; // lib.rs declares the modules
        };
        let Some(&floor) = floors.get(top) else {
            problems.push(format!(
                "module `{top}` has no floor in docs/ARCHITECTURE.md"
            ));
            continue;
        };
        for path in referenced_paths(&source.module, &source.code) {
            let Some(target_top) = path.first() else {
                continue;
            };
            if let Some(&target_floor) = floors.get(target_top)
                && target_top != top
                && target_floor >= floor
            {
                problems.push(format!(
                    "{} (floor {floor}) imports {} (floor {target_floor})",
                    source.module.join("::"),
                    path.join("::")
                ));
            }
            if let Some(target) = file_of(&path) {
                let ancestor = |a: &ModPath, b: &ModPath| b.starts_with(a);
                if target != source.module
                    && !ancestor(&target, &source.module)
                    && !ancestor(&source.module, &target)
                {
                    edges
                        .entry(source.module.clone())
                        .or_default()
                        .insert(target);
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems.extend(cycles(&edges).into_iter().map(|cycle| {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        format!(
            "files import each other in a circle: {}",
            names.join(" -> ")
        )
    }));
    problems
}

/// The strongly connected groups of more than one file (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on_stack: BTreeSet<ModPath>,
        next: usize,
        found: Vec<Vec<ModPath>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &ModPath) {
            self.index.insert(v.clone(), self.next);
            self.low.insert(v.clone(), self.next);
            self.next += 1;
            self.stack.push(v.clone());
            self.on_stack.insert(v.clone());
            let targets: Vec<ModPath> = self
                .edges
                .get(v)
                .map(|t| t.iter().cloned().collect())
                .unwrap_or_default();
            for w in targets {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let low = self.low[v].min(self.low[&w]);
                    self.low.insert(v.clone(), low);
                } else if self.on_stack.contains(&w) {
                    let low = self.low[v].min(self.index[&w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = &w == v;
                    group.push(w);
                    if done {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.reverse();
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_module_imports_a_higher_floor_and_no_files_import_each_other() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).expect("read doc");
    let floors = floors_from_doc(&doc);
    assert!(floors.len() >= 10, "floors read from the doc: {floors:?}");
    let problems = violations(&sources(&root().join("src")), &floors);
    assert!(
        problems.is_empty(),
        "the layering of docs/ARCHITECTURE.md is broken:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_module_of_lib_rs_has_a_floor() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).expect("read doc");
    let floors = floors_from_doc(&doc);
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("read lib.rs");
    for line in lib.lines() {
        let line = line.trim();
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .or_else(|| line.strip_prefix("pub(crate) mod "))
            .and_then(|rest| rest.strip_suffix(';'))
        {
            assert!(
                name == "testdata" || floors.contains_key(name),
                "src/lib.rs declares `{name}`, which has no floor in docs/ARCHITECTURE.md"
            );
        }
    }
}

fn source(module: &str, code: &str) -> Source {
    Source {
        module: module.split("::").map(String::from).collect(),
        code: strip_test_items(&strip_comments_and_strings(code)),
    }
}

fn floors(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|(n, f)| (n.to_string(), *f)).collect()
}

/// The checker itself can fail: a planted back edge, a same-floor edge and a circle are found.
#[test]
fn the_checker_finds_back_edges_and_circles() {
    let floors = floors(&[("store", 6), ("alerts", 8), ("delta", 7), ("report", 10)]);
    let planted = [
        source("store", "use crate::alerts::{Evaluation, rules::Plan};"),
        source("alerts", "fn f() -> crate::delta::Delta { todo!() }"),
        source("report", "pub(crate) fn g() {}"),
        source("report::a", "use super::b::X;"),
        source(
            "report::b",
            "use crate::report::a::Y; // crate::alerts in a comment",
        ),
    ];
    let problems = violations(&planted, &floors);
    assert!(
        problems
            .iter()
            .any(|p| p == "store (floor 6) imports alerts::Evaluation (floor 8)"),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("circle") && p.contains("report::a -> report::b")),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 3, "{problems:?}");

    let same_floor = floors_from_doc("## Floors\n```\n 2  a, b\n 1  c\n```\n");
    let problems = violations(&[source("a", "use crate::b::X;")], &same_floor);
    assert_eq!(problems, ["a (floor 2) imports b::X (floor 2)"]);

    // Comments, strings, `$crate` and test code are not imports.
    let clean = [source(
        "store",
        "// use crate::alerts::X;\nconst S: &str = \"crate::alerts\";\nmacro_rules! m { () => { $crate::alerts::X } }\n#[cfg(test)]\nmod tests { use crate::alerts::X; }\n",
    )];
    assert_eq!(violations(&clean, &floors), Vec::<String>::new());
}
