//! `claude-lb clients ...`: the clients allowed to send requests (add, list, remove).
//!
//! A client is a name and the SHA-256 of its key, with optional limits. `add` makes the key and
//! prints it once; the file only ever gets its digest. Edits follow the rules of `providers`
//! edits (see [`super::providers::file`]): comments and layout kept, validated before writing,
//! written atomically.

pub mod add;
pub mod list;
pub mod remove;
