//! The `claude-lb` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: the proxy allocates for every request, and mimalloc
/// takes fewer instructions per allocation and per free than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = claude_lb::cli::Cli::parse();
    claude_lb::commands::run(cli)
}
