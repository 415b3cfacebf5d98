//! `claude-lb providers enable NAME` and `providers disable NAME`: change one provider's
//! `enabled:` line, keeping the rest of the file as it is.

use crate::cli::{GlobalArgs, ToggleArgs};
use crate::commands::ExitStatus;
use crate::config::edit;
use crate::ui::Printer;

use super::file;

/// Enables (`enable == true`) or disables the provider `args.name`.
pub fn run(
    global: &GlobalArgs,
    args: &ToggleArgs,
    enable: bool,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let file::Edited {
        path,
        text,
        new_text,
    } = match file::edit_existing(global, *printer, |text| {
        edit::set_enabled(text, &args.name, enable)
    })? {
        Ok(edited) => edited,
        Err(status) => return Ok(status),
    };
    let word = if enable { "enabled" } else { "disabled" };
    if new_text == text {
        printer.line(format_args!(
            "provider {:?} is already {word} in `{}`; nothing to change",
            args.name,
            path.display()
        ))?;
        return Ok(ExitStatus::Success);
    }
    let index = edit::provider_names(&text)?
        .iter()
        .position(|n| *n == args.name);
    if let Err(status) = file::save(&path, &text, &new_text, index, *printer)? {
        return Ok(status);
    }
    printer.line(format_args!(
        "{word} provider {:?} in `{}`",
        args.name,
        path.display()
    ))?;
    file::note_unset_variables(&path, &new_text, *printer)?;
    if enable {
        printer.notice(format_args!(
            "next: `claude-lb check --provider {}`",
            args.name
        ))?;
    }
    Ok(ExitStatus::Success)
}
