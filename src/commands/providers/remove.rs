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
    let file::Edited {
        path,
        text,
        new_text,
    } = match file::edit_existing(global, *printer, |text| {
        edit::remove_provider(text, &args.name)
    })? {
        Ok(edited) => edited,
        Err(status) => return Ok(status),
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
