//! `claude-lb providers ...`: the commands that read or change the providers of a config file.

pub mod add;
pub mod enable;
pub mod remove;

mod file;
