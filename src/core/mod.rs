//! Pure decisions: which providers exist, in which order to try them, how healthy each is,
//! and what an attempt's outcome means.
//!
//! Nothing here does I/O or reads the clock: time comes in as a `now` argument.

pub mod affinity;
pub mod classify;
pub mod error_type;
pub mod fnv;
pub mod health;
pub mod num;
pub mod price;
pub mod provider;
pub mod retry_after;
pub mod route;
pub mod select;
