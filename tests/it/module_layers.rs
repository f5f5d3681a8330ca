//! The top-level modules of `src/` form layers: each imports only modules below it, never
//! one that imports it back. This reads every file's `crate::…` paths (comments dropped)
//! and fails naming the loop when one appears. `cargo test --test it module_layers`
//! re-checks; docs/architecture.md draws the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module name → the top-level modules its files name through `crate::` (or `super::` in
/// its root file).
type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The text without `//` and `/* */` comments and without string literals' contents, so
/// that only code is read.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1).copied()) {
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            ('"', _) => {
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            ('\'', Some(c)) if chars.get(i + 2) == Some(&'\'') && c != '\\' => {
                // A char literal such as '"' or '{'.
                out.push_str("' '");
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Records the first segment of the path `item` (`queue::tasks` → `queue`).
fn first_segment(item: &str, into: &mut BTreeSet<String>) {
    let name: String = item
        .trim_start()
        .chars()
        .take_while(|&c| is_ident(c))
        .collect();
    if !name.is_empty() {
        into.insert(name);
    }
}

/// The first path segments after every `prefix` (`crate::db::x` → `db`;
/// `crate::{db, queue::tasks}` → `db`, `queue`).
fn names_after(code: &str, prefix: &str, into: &mut BTreeSet<String>) {
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group at its own commas; each item's first segment is a module.
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '}' if depth == 0 => break,
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        first_segment(&item, into);
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            first_segment(&item, into);
        } else {
            first_segment(rest, into);
        }
    }
}

/// The dependency graph between the crate's top-level modules.
fn module_graph(src: &Path) -> Graph {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let entries = std::fs::read_dir(src).expect("reading src/");
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if stem == "lib" || stem == "main" {
            continue;
        }
        let files = modules.entry(stem).or_default();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, files) in &modules {
        let mut named = BTreeSet::new();
        for file in files {
            let code = code_only(&std::fs::read_to_string(file).expect("reading a source file"));
            names_after(&code, "crate::", &mut named);
            let is_root = file.parent() == Some(src)
                || (file.file_name().is_some_and(|f| f == "mod.rs")
                    && file.parent().and_then(Path::parent) == Some(src));
            if is_root {
                names_after(&code, "super::", &mut named);
            }
        }
        named.retain(|n| n != module && names.contains(n));
        graph.insert(module.clone(), named);
    }
    graph
}

/// A loop `a → b → … → a` in `graph`, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit<'g>(
        node: &'g str,
        graph: &'g Graph,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|&n| n == node) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

fn render(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(m, deps)| {
            format!(
                "  {m} → {}",
                deps.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn top_level_modules_import_only_downwards() {
    let graph = module_graph(&src());
    // The reader sees real imports (so an empty graph cannot pass for a layered one).
    for (from, to) in [
        ("flows", "queue"),
        ("app", "server"),
        ("queue", "db"),
        ("cli", "app"),
    ] {
        assert!(
            graph.get(from).is_some_and(|deps| deps.contains(to)),
            "expected {from} → {to} in:\n{}",
            render(&graph)
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "top-level modules import each other in a loop: {}\n\nthe whole graph:\n{}",
            cycle.join(" → "),
            render(&graph)
        );
    }
}

#[test]
fn the_reader_sees_grouped_imports_and_skips_comments_and_strings() {
    let mut named = BTreeSet::new();
    let code = code_only(
        "use crate::{db::{self, Database}, queue::tasks, config};\n\
         // crate::commented\n/* crate::blocked */\nlet s = \"crate::quoted\";\n\
         let x = crate::meta::parse();\nfoo_crate::not_ours();",
    );
    names_after(&code, "crate::", &mut named);
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["config", "db", "meta", "queue"]
    );
}

#[test]
fn a_loop_is_found_and_named() {
    let graph: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph).map(|c| c.join(" → ")),
        Some("a → b → c → a".to_owned())
    );
    let layered: Graph = [("a", vec!["b"]), ("b", vec![]), ("c", vec!["a", "b"])]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(find_cycle(&layered), None);
}
