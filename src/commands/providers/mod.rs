//! `claude-lb providers ...`: the providers of the config file, and of a running instance.

pub mod list;
