//! Writing a configuration file without ever losing it: validate first, then write a temporary
//! file beside it, flush it to disk and rename it over the old one.
//!
//! A crash or a full disk at any moment leaves either the old file or the new one, never half
//! of one. A new file is created readable by its owner only (it may hold keys); an existing
//! file keeps its permissions. A symbolic link is followed, so the file it points to is
//! replaced and the link stays.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{ConfigError, Diagnostic, load_str};

/// Why a configuration was not saved. The file on disk is then unchanged.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The new text does not validate; nothing was written.
    #[error(
        "not saved: the result would be an invalid config ({}):\n{}",
        super::plural(.errors.len(), "error"),
        .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    )]
    Invalid { errors: Vec<Diagnostic> },
    /// The file could not be written.
    #[error("cannot write `{}`: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    /// The file is no longer the text the edit was made from; nothing was written.
    #[error(
        "not saved: `{}` changed after this command read it (another edit at the same time?); run the command again",
        .path.display()
    )]
    Changed { path: PathBuf },
}

/// An environment lookup for checking the shape of a config before saving it: a variable that
/// is set gives its value, one that is not set gives a placeholder, so that a `${VAR}` the
/// user will export later does not stop them from saving (the command warns about it instead).
/// Each variable gets its own placeholder, so two clients keyed by two unset variables do not
/// look like one key given twice.
pub fn lenient_env(
    env: &dyn Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> + use<'_> {
    move |name| env(name).or_else(|| Some(format!("set-later-{name}")))
}

/// Validates `text` as a configuration (taking `${VAR}` values from `env`) and, if it is
/// valid, writes it to `path` atomically. Returns the warnings about the saved config.
///
/// When `text` has errors nothing is written and [`SaveError::Invalid`] lists every one of
/// them, located in `path`.
pub fn save_atomic(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Diagnostic>, SaveError> {
    let warnings = validate(path, text, env)?;
    write_atomic(path, text.as_bytes()).map_err(|source| io_error(path, source))?;
    Ok(warnings)
}

/// [`save_atomic`] for an edit of the text `old` (empty: of a file that did not exist): the
/// file is written only if it still holds `old`. The check and the write happen under a lock
/// on the file's directory that every such save takes, so of two edits made at once from the
/// same text, one is written and the other refused ([`SaveError::Changed`]), never lost.
pub fn save_edit(
    path: &Path,
    old: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Diagnostic>, SaveError> {
    let warnings = validate(path, text, env)?;
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let _lock = lock_dir(&target).map_err(|source| io_error(path, source))?;
    let current = match fs::read(&target) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(path, e)),
    };
    if current != old.as_bytes() {
        return Err(SaveError::Changed {
            path: path.to_path_buf(),
        });
    }
    write_atomic(path, text.as_bytes()).map_err(|source| io_error(path, source))?;
    Ok(warnings)
}

/// The warnings about `text` as a config, or every error in it.
fn validate(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Diagnostic>, SaveError> {
    match load_str(text, &path.display().to_string(), env) {
        Ok(loaded) => Ok(loaded.warnings),
        Err(ConfigError::Invalid { errors, .. }) => Err(SaveError::Invalid { errors }),
        Err(other) => Err(io_error(path, io::Error::other(other.to_string()))),
    }
}

fn io_error(path: &Path, source: io::Error) -> SaveError {
    SaveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive lock on the directory of `file` (created if missing), held until the returned
/// handle is dropped. Advisory: it orders claude-lb's own edits, not an editor's.
#[cfg(unix)]
fn lock_dir(file: &Path) -> io::Result<fs::File> {
    let dir = dir_of(file);
    fs::create_dir_all(&dir)?;
    let handle = fs::File::open(&dir)?;
    rustix::fs::flock(&handle, rustix::fs::FlockOperation::LockExclusive)?;
    Ok(handle)
}

#[cfg(not(unix))]
fn lock_dir(_file: &Path) -> io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory, then renames it
/// over `path`. A new file gets mode 0600; an existing one keeps its mode.
///
/// The temporary file is `tempfile`'s: created with a fresh random name and mode 0600, removed
/// if anything fails before the rename, which `persist` does.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // Follow a symbolic link, so the link survives and its target is what changes.
    let target = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let dir = dir_of(&target);
    fs::create_dir_all(&dir)?;
    let existing = fs::metadata(&target).ok().map(|m| m.permissions());
    let base = target
        .file_name()
        .map_or_else(|| "config".into(), |n| n.to_string_lossy().into_owned());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{base}."))
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(bytes)?;
    if let Some(permissions) = existing {
        temp.as_file().set_permissions(permissions)?;
    }
    temp.as_file().sync_all()?;
    temp.persist(&target)?;
    sync_dir(&dir);
    Ok(())
}

/// The directory `file` is in (`.` for a bare file name).
fn dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes a directory entry change (the rename) to disk, where the platform allows it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        // A failure here leaves the rename done but perhaps not yet durable; nothing to undo.
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "providers:\n  - name: a\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${KEY}\"\n";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_file_is_private_and_existing_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/providers.yaml");
        save_atomic(&path, VALID, &lenient_env(&no_env)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(mode(&path), 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            let text = format!("# hi\n{VALID}");
            save_atomic(&path, &text, &lenient_env(&no_env)).unwrap();
            assert_eq!(mode(&path), 0o640);
            assert_eq!(fs::read_to_string(&path).unwrap(), text);
        }
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn invalid_text_is_refused_and_the_file_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.yaml");
        fs::write(&path, VALID).unwrap();
        let bad = "providers:\n  - name: a\n    type: opneai\n    auth_type: api_key\n    auth_value: x\n  - name: b b\n    type: anthropic\n    auth_type: api_key\n    auth_value: y\n";
        let err = save_atomic(&path, bad, &no_env).unwrap_err();
        let SaveError::Invalid { errors } = &err else {
            panic!("{err}");
        };
        assert_eq!(errors.len(), 2, "{err}");
        let message = err.to_string();
        assert!(
            message.starts_with("not saved: the result would be an invalid config (2 errors):"),
            "{message}"
        );
        assert!(message.contains("providers[0].type"), "{message}");
        assert!(message.contains("providers[1].name"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
    }

    #[test]
    fn an_edit_of_text_the_file_no_longer_holds_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.yaml");
        let edited = format!("{VALID}# edited\n");
        // A new file: the edit was made from nothing.
        save_edit(&path, "", VALID, &lenient_env(&no_env)).unwrap();
        // Someone else wrote it in between.
        let err = save_edit(&path, "", &edited, &lenient_env(&no_env)).unwrap_err();
        assert!(matches!(err, SaveError::Changed { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("changed after this command read it")
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), VALID);
        save_edit(&path, VALID, &edited, &lenient_env(&no_env)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), edited);
    }

    #[test]
    fn an_unset_key_variable_does_not_stop_a_save() {
        // A provider missing its key is unusable, not an invalid file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.yaml");
        save_atomic(&path, VALID, &no_env).unwrap();
        assert!(path.exists());
        let other = dir.path().join("other.yaml");
        save_atomic(&other, VALID, &lenient_env(&no_env)).unwrap();
        assert!(other.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yaml");
        let link = dir.path().join("providers.yaml");
        fs::write(&real, VALID).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let text = format!("{VALID}# edited\n");
        save_atomic(&link, &text, &lenient_env(&no_env)).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), text);
    }
}
