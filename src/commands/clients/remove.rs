//! `claude-lb clients remove NAME`: take a client's lines out of the config file, keeping the
//! rest of the file as it is. The last client is never removed: that would silently turn
//! authentication off.

use crate::cli::{ClientsRemoveArgs, GlobalArgs};
use crate::commands::ExitStatus;
use crate::commands::providers::file;
use crate::config::edit::{self, EditError};
use crate::ui::Printer;

pub fn run(
    global: &GlobalArgs,
    args: &ClientsRemoveArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let file::Edited {
        path,
        text,
        new_text,
    } = match file::edit_existing(global, *printer, |text| remove(text, &args.name))? {
        Ok(edited) => edited,
        Err(status) => return Ok(status),
    };
    if let Err(status) = file::save(&path, &text, &new_text, None, *printer)? {
        return Ok(status);
    }
    printer.line(format_args!(
        "removed client {:?} from `{}`",
        args.name,
        path.display()
    ))?;
    printer.notice(
        "its key stops working when `claude-lb serve` (re)loads the file; a running instance reloads it by itself",
    )?;
    Ok(ExitStatus::Success)
}

/// `text` without the client `name`, unless it is the only one.
fn remove(text: &str, name: &str) -> Result<String, EditError> {
    let names = edit::client_names(text)?;
    if names.len() == 1 && names[0] == name {
        return Err(EditError::Unsupported(format!(
            "client {name:?} is the last one; without any client every request would be served without a key, so it is not removed. Add its replacement first (`claude-lb clients add NAME`), or, if claude-lb really should serve without keys again, delete the whole `clients:` list by hand (then it may listen on loopback only, unless `allow_unauthenticated_public: true`); nothing written"
        )));
    }
    edit::remove_client(text, name)
}
