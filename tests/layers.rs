//! The code's shape: every module of `src/` depends only on those below it
//! in `LAYERS`, so features form no circles (a feature that needs another's
//! page composes it from above, and what several share sits below them).

use std::collections::BTreeSet;
use std::path::Path;

/// Lowest first. A new top-level module is placed here, or this test fails.
const LAYERS: &[&str] = &[
    "domain",
    "error",
    "ids",
    "clock",
    "server",
    "config",
    "audit",
    "db",
    "state",
    "web",
    "auth",
    "users",
    "access",
    "drafts",
    "units",
    "partners",
    "participants",
    "outreach",
    "survey",
    "privacy",
    "plans",
    "employment",
    "attendance",
    "reminders",
    "reports",
    "home",
    "app",
    "jobs",
    "demo",
    "cli",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names as `crate::name`, outside comments.
fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_module_depends_only_on_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if ["lib", "main", "coded"].contains(&module.as_str()) {
            continue;
        }
        let layer = LAYERS
            .iter()
            .position(|l| *l == module)
            .unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS in tests/layers.rs"));
        for used in uses(&std::fs::read_to_string(&file).unwrap()) {
            if used == module {
                continue;
            }
            match LAYERS.iter().position(|l| *l == used) {
                Some(below) if below < layer => {}
                _ => wrong.push(format!("{} uses crate::{used}", relative.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies that go up or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_dependency() {
    let found = uses("use crate::plans::store; // crate::reports in a comment\nlet x = crate::web::form::FormData;");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["plans", "web"]);
}
