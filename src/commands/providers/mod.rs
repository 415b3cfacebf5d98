//! `claude-lb providers ...`: the providers of the config file (list, add, remove, enable,
//! disable), and of a running instance (`list --remote`).

pub mod add;
pub mod enable;
pub mod list;
pub mod remove;

mod file;
