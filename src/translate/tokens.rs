//! Token estimates.
