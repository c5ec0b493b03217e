//! The house rules of the source tree (CONTRIBUTING.md), checked: every Rust source file of
//! every crate opens with a module doc comment saying what it is for; no module imports
//! another that imports it back (no file-level import cycles: `crate::` and `super::` paths,
//! a child naming its own ancestors excepted); and no file grows past 800 lines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every crate's source root.
const CRATES: &[&str] = &[
    "src",
    "sdk/src",
    "sdk/protocol/src",
    "notary/src",
    "chain/src",
    "certificate/src",
    "bindings/ffi/src",
    "bindings/uniffi-bindgen/src",
    "portal/wasm/src",
];

/// The largest a source file may be.
const MAX_LINES: usize = 800;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under its crate's root (`lib.rs`/`main.rs` is the root, `a/mod.rs`
/// and `a.rs` are `a`).
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without comments and without the unit tests at the end.
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `::`-separated path after each occurrence of `prefix` (`crate`, `super`).
fn paths_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = Vec<String>> + 'a {
    code.match_indices(prefix).filter_map(move |(i, _)| {
        let before = code.get(..i).and_then(|b| b.chars().last());
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = code.get(i + prefix.len()..)?;
        let mut parts = Vec::new();
        let mut r = rest;
        while let Some(next) = r.strip_prefix("::") {
            let name: String = next
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                break;
            }
            r = next.get(name.len()..).unwrap_or_default();
            parts.push(name);
        }
        (!parts.is_empty()).then_some(parts)
    })
}

/// Strongly connected components of more than one module.
fn cycles(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    // Tarjan, iteratively simple enough for a few hundred modules: recursion is fine here.
    struct T<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Vec<String>) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.edges[v] {
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn every_file_is_documented_small_and_free_of_import_cycles() {
    let repo = common::repo_root();
    let mut problems = Vec::new();
    let mut sizes = BTreeMap::new();
    for krate in CRATES {
        let root = repo.join(krate);
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        let mut modules = BTreeMap::new();
        for f in &files {
            modules.insert(module_of(&root, f), f.clone());
        }
        let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (module, file) in &modules {
            let text = std::fs::read_to_string(file).unwrap();
            let name = file.strip_prefix(&repo).unwrap().display().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with("#!"));
            if !first.is_some_and(|l| l.starts_with("//!") || l.starts_with("/*!")) {
                problems.push(format!(
                    "{name}: no //! doc comment saying what the module is for"
                ));
            }
            sizes.insert(name, text.lines().count());
            let code = code_of(&text);
            let mut targets = BTreeSet::new();
            let resolve = |full: Vec<String>, targets: &mut BTreeSet<Vec<String>>| {
                for k in (1..=full.len()).rev() {
                    if modules.contains_key(&full[..k]) {
                        targets.insert(full[..k].to_vec());
                        return;
                    }
                }
            };
            for p in paths_after(&code, "crate") {
                resolve(p, &mut targets);
            }
            for p in paths_after(&code, "super") {
                // `super` is the module's parent, each further `super` one level up.
                let mut full = module.clone();
                full.pop();
                let mut rest = p.as_slice();
                while rest.first().is_some_and(|s| s == "super") {
                    full.pop();
                    rest = rest.get(1..).unwrap_or_default();
                }
                full.extend(rest.iter().cloned());
                resolve(full, &mut targets);
            }
            // A module naming its own ancestors is how Rust nests; only other modules count.
            targets.retain(|t| t != module && !module.starts_with(t));
            edges.insert(module.clone(), targets);
        }
        for comp in cycles(&edges) {
            let names: Vec<String> = comp
                .iter()
                .map(|m| format!("{krate}::{}", m.join("::")))
                .collect();
            problems.push(format!("import cycle between modules {}", names.join(", ")));
        }
    }
    for (name, lines) in &sizes {
        if *lines > MAX_LINES {
            problems.push(format!(
                "{name}: {lines} lines (at most {MAX_LINES}): split it by resource or object"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
