//! The rules of the domain, free of the web and the database: each stated
//! once, in plain Rust, tested at its boundaries. Where SQL must repeat one (a
//! trigger, a CHECK, the check-in statement), it calls a function of
//! migration 0011 and `tests/rules_in_sql.rs` checks that the two agree.
//! Dates are calendar dates in Europe/Stockholm, passed in by the caller.

pub mod ages;
pub mod calendar;
pub mod employment;
pub mod intake;
pub mod ips;
pub mod plans;
pub mod retention;
pub mod survey;
