//! The HTTP toolkit every feature builds on: the route table, forms and
//! their messages, Swedish formatting, and the health checks. Who is asking
//! (sessions, CSRF, the page frame) is `crate::auth`; the router that puts
//! the features together is `crate::app`, above them all.

pub mod form;
pub mod format;
pub mod health;
pub mod routes;
