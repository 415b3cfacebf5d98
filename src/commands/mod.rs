//! One module per subcommand, each with a `run` function that [`run`] calls.
//!
//! A command returns `anyhow::Result<ExitStatus>`: `Ok` with the answer (success, or "no": an
//! invalid config, a failed check), `Err` when it could not run at all. The error is printed
//! once, with its full chain, by [`ExitStatus::from_result`].

pub mod check;
pub mod clients;
pub mod code;
pub mod completions;
pub mod config_init;
pub mod config_validate;
pub mod demo;
pub mod generate;
pub mod health;
pub mod instance;
pub mod mock;
pub mod providers;
pub mod route_explain;
pub mod serve;
pub mod shell_env;
pub mod test;
pub mod top;
pub mod usage;

use std::io;
use std::process::ExitCode;

use crate::cli::{Cli, ClientsCommand, Command, ConfigCommand, ProvidersCommand, RouteCommand};
use crate::logging;
use crate::ui::Printer;

/// Runs the command line and gives the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let printer = Printer::new(cli.global.quiet);
    logging::init(cli.global.verbosity(), None);
    let result = match cli.command {
        // Exits with Claude Code's own exit code, which is not one of claude-lb's.
        Command::Code(args) => return code::run_cli(&cli.global, &args, &printer),
        Command::Env(args) => shell_env::run(&cli.global, &args, &printer),
        Command::Health(args) => health::run(&cli.global, &args, &printer),
        Command::Top(args) => top::run(&cli.global, &args, &printer),
        Command::Serve(args) => serve::run_cli(&cli.global, &args, &printer),
        Command::Mock(args) => mock::run_cli(&args, &printer),
        Command::Check(args) => check::run_cli(&cli.global, &args, &printer),
        Command::Test(args) => test::run_cli(&cli.global, &args, &printer),
        Command::Demo(args) => demo::run_cli(&args, &printer),
        Command::Usage(args) => usage::run(&cli.global, &args, &printer),
        Command::Config(ConfigCommand::Validate(args)) => {
            config_validate::run(&cli.global, &args, &printer)
        }
        Command::Config(ConfigCommand::Init(args)) => {
            config_init::run(&cli.global, &args, &printer)
        }
        Command::Route(RouteCommand::Explain(args)) => {
            route_explain::run(&cli.global, &args, &printer)
        }
        Command::Providers(command) => match command {
            ProvidersCommand::List(args) => providers::list::run_cli(&cli.global, &args, &printer),
            ProvidersCommand::Add(args) => providers::add::run(&cli.global, &args, &printer),
            ProvidersCommand::Remove(args) => providers::remove::run(&cli.global, &args, &printer),
            ProvidersCommand::Enable(args) => {
                providers::enable::run(&cli.global, &args, true, &printer)
            }
            ProvidersCommand::Disable(args) => {
                providers::enable::run(&cli.global, &args, false, &printer)
            }
        },
        Command::Clients(command) => match command {
            ClientsCommand::Add(args) => clients::add::run(&cli.global, &args, &printer),
            ClientsCommand::List(args) => clients::list::run(&cli.global, &args, &printer),
            ClientsCommand::Remove(args) => clients::remove::run(&cli.global, &args, &printer),
        },
        Command::Completions(args) => completions::run(&args, &printer),
        Command::Generate(args) => generate::run(&args, &printer),
    };
    ExitStatus::from_result(result, &printer).into()
}

/// The process exit codes, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked and the answer is yes.
    Success = 0,
    /// 1: the command ran and the answer is no (invalid config, unhealthy provider, failed
    /// test), or it could not run (no config found, an I/O error).
    Failure = 1,
    /// 2: the command line itself is wrong (clap reports its own usage errors with 2 too).
    Usage = 2,
}

impl ExitStatus {
    /// The status for a command's result, printing the error (with its chain) if there is one.
    ///
    /// A closed stdout (`claude-lb ... | head`) is not an error: it exits 0 quietly.
    pub fn from_result(result: anyhow::Result<Self>, printer: &Printer) -> Self {
        match result {
            Ok(status) => status,
            Err(err) if is_broken_pipe(&err) => Self::Success,
            Err(err) => {
                printer.error(format_args!("{err:#}"));
                Self::Failure
            }
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_success_and_other_errors_fail() {
        let printer = Printer::new(true);
        let pipe =
            anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert_eq!(
            ExitStatus::from_result(Err(pipe), &printer),
            ExitStatus::Success
        );
        let other = anyhow::anyhow!("boom");
        assert_eq!(
            ExitStatus::from_result(Err(other), &printer),
            ExitStatus::Failure
        );
        assert_eq!(
            ExitStatus::from_result(Ok(ExitStatus::Usage), &printer),
            ExitStatus::Usage
        );
    }
}
