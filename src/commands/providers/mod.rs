//! `claude-lb providers ...`: the providers of the config file (list, add, remove, enable,
//! disable), and of a running instance (`list --remote`). [`file`] is what every edit of the
//! config file shares, `clients add|remove` included.

pub mod add;
pub mod enable;
pub mod list;
pub mod remove;

pub(crate) mod file;
