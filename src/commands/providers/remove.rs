//! `claude-lb providers remove NAME`: take a provider's lines out of the config file, keeping
//! the rest of the file as it is.

use crate::cli::{GlobalArgs, RemoveArgs};
use crate::commands::ExitStatus;
use crate::config::edit;
use crate::ui::Printer;

use super::file;

pub fn run(
    global: &GlobalArgs,
    args: &RemoveArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let path = file::existing(global)?;
    let Some(text) = file::read(&path)? else {
        anyhow::bail!("`{}` does not exist", path.display());
    };
    let new_text = match edit::remove_provider(&text, &args.name) {
        Ok(t) => t,
        Err(e) => {
            printer.error(format_args!("`{}`: {e}", path.display()));
            // An unknown name is a mistake on the command line, as everywhere.
            return Ok(if matches!(e, edit::EditError::NotFound { .. }) {
                ExitStatus::Usage
            } else {
                ExitStatus::Failure
            });
        }
    };
    if let Err(status) = file::save(&path, &text, &new_text, None, *printer)? {
        return Ok(status);
    }
    printer.line(format_args!(
        "removed provider {:?} from `{}`",
        args.name,
        path.display()
    ))?;
    file::note_unset_variables(&path, &new_text, *printer)?;
    Ok(ExitStatus::Success)
}
