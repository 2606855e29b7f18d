//! Plans for förstegsträning and Team ISA. This first part holds the rules
//! (DOMAIN.md's table) in plain Rust; the schema, pages and the background
//! flagger build on it (issue 5).

pub mod rules;
