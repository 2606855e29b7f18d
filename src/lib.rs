//! Lotsen: case management for municipal day-activity centres.
//! `app(state)` is the whole web application; `cli` is the binary's entry.

#[macro_use]
mod coded;

pub mod access;
pub mod app;
pub mod attendance;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod drafts;
pub mod employment;
pub mod error;
pub mod home;
pub mod ids;
pub mod jobs;
pub mod outreach;
pub mod participants;
pub mod partners;
pub mod plans;
pub mod privacy;
pub mod reminders;
pub mod reports;
pub mod server;
pub mod state;
pub mod survey;
pub mod units;
pub mod users;
pub mod web;

pub use app::app;
pub use state::AppState;
