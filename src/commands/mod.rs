//! One module per subcommand.

pub mod mock;
