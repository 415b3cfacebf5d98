//! `claude-lb health`: asks a running claude-lb for `GET /` and exits 0 when it has a provider
//! available. It is the container health check (a runtime image needs no curl for it).

use anyhow::Context as _;

use crate::cli::{GlobalArgs, HealthArgs};
use crate::commands::ExitStatus;
use crate::commands::instance::{self, Answer};
use crate::ui::Printer;

pub fn run(
    global: &GlobalArgs,
    args: &HealthArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let Some(listen) = instance::listen_address(args.listen, global, printer)? else {
        return Ok(ExitStatus::Failure);
    };
    let url = instance::client_url(listen);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(instance::probe(&url)) {
        Answer::ClaudeLb {
            status,
            version,
            available,
        } => {
            printer
                .line(format_args!("{url}: claude-lb {version}, {status}"))
                .context("writing the answer")?;
            Ok(if available {
                ExitStatus::Success
            } else {
                ExitStatus::Failure
            })
        }
        Answer::Other(what) => {
            printer.error(format_args!("{url}: not claude-lb: {what}"));
            Ok(ExitStatus::Failure)
        }
        Answer::Nothing => {
            printer.error(format_args!("{url}: nothing is listening"));
            Ok(ExitStatus::Failure)
        }
    }
}
