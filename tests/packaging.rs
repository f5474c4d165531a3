//! What `cargo package` needs of the sources: every file a crate compiles in
//! (`include_str!`, `include_bytes!`) lies inside that crate's folder, so
//! the packed crate builds on its own (README, "Development"). The verifying
//! build itself is a second cold build of Burn, too long for every test run.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::common::repo_root;

/// The Rust files below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found
}

/// The text of each `include_str!(...)` / `include_bytes!(...)` call.
fn include_calls(source: &str) -> Vec<&str> {
    let mut calls = Vec::new();
    for macro_name in ["include_str!(", "include_bytes!("] {
        for (start, _) in source.match_indices(macro_name) {
            let body = &source[start + macro_name.len()..];
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(index, _)| index)
                .unwrap();
            calls.push(&body[..end]);
        }
    }
    calls
}

/// The string literals of a call, in order.
fn literals(call: &str) -> Vec<&str> {
    call.split('"').skip(1).step_by(2).collect()
}

/// `path` with `.` and `..` resolved by name, not through the file system
/// (a link inside the crate is what `cargo package` copies).
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// Where an include call reads from, for a call in `file` of the crate at `crate_dir`.
fn included_path(call: &str, file: &Path, crate_dir: &Path) -> PathBuf {
    let pieces = literals(call);
    if pieces.first() == Some(&"CARGO_MANIFEST_DIR") {
        let rest: String = pieces[1..].concat();
        lexically_normal(&crate_dir.join(rest.trim_start_matches('/')))
    } else {
        assert_eq!(
            pieces.len(),
            1,
            "{}: unexpected include {call}",
            file.display()
        );
        lexically_normal(&file.parent().unwrap().join(pieces[0]))
    }
}

#[test]
fn every_file_a_crate_compiles_in_lies_inside_its_package() {
    let root = lexically_normal(&repo_root());
    let mut checked = 0;
    for crate_name in ["model", "train"] {
        let crate_dir = root.join("crates").join(crate_name);
        for file in rust_files(&crate_dir.join("src")) {
            let source = fs::read_to_string(&file).unwrap();
            for call in include_calls(&source) {
                let included = included_path(call, &file, &crate_dir);
                assert!(
                    included.starts_with(&crate_dir),
                    "{} compiles in {}, outside {}: `cargo package` leaves it behind \
                     (link it into crates/{crate_name}/embedded/)",
                    file.display(),
                    included.display(),
                    crate_dir.display()
                );
                assert!(included.is_file(), "{} is missing", included.display());
                checked += 1;
            }
        }
    }
    // The lab's page assets and presets and PyTorch's harness at least.
    assert!(checked >= 15, "only {checked} includes found");
}

#[test]
fn an_include_that_climbs_out_of_its_crate_is_seen_as_outside() {
    let root = lexically_normal(&repo_root());
    let crate_dir = root.join("crates/train");
    let file = crate_dir.join("src/bin/train/commands/bench.rs");
    let climbing = r#""../../../../../../scripts/bench_pytorch.py""#;
    assert_eq!(
        included_path(climbing, &file, &crate_dir),
        root.join("scripts/bench_pytorch.py")
    );
    let linked = r#"concat!(env!("CARGO_MANIFEST_DIR"), "/embedded/bench_pytorch.py")"#;
    assert!(included_path(linked, &file, &crate_dir).starts_with(&crate_dir));
}
