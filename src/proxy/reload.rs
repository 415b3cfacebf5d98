//! Hot reload: one function, whatever asked for it (a file change, `SIGHUP`, or
//! `POST /providers/reload`).
//!
//! The whole new config is loaded and validated before anything changes; an invalid one
//! changes nothing and every problem is reported. A valid one is swapped in atomically
//! (see `Dispatcher::replace_config`). The file watch reloads only when the file's bytes
//! differ from the running generation's, so reading the file never causes a reload.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{Event, EventKind, RecursiveMode, Watcher};

use super::AppState;
use crate::config::ConfigError;

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The instance runs a configuration that no file holds.
    #[error("this instance was not started from a config file")]
    NoConfigFile,
    /// The file could not be read, or has errors.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The new config is valid but cannot run on this instance as it was started.
    #[error("{0}")]
    Refused(String),
    /// The reload itself did not run to its end.
    #[error("the reload failed: {0}")]
    Interrupted(String),
}

impl ReloadError {
    /// Every problem, one per line: each error of an invalid file, else the one reason.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Self::Config(error) => error.lines(),
            other => vec![other.to_string()],
        }
    }
}

/// Re-reads the config file. Returns the number of providers, or why nothing changed.
pub fn reload(state: &AppState) -> Result<usize, ReloadError> {
    let Some(path) = &state.config_path else {
        return Err(ReloadError::NoConfigFile);
    };
    // A poisoned lock only means an earlier reload panicked; the swap itself is atomic.
    let _guard = state
        .reload_lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let env = state.env.clone();
    match crate::config::load(path, &*env) {
        Ok(loaded) => {
            let running = state.dispatcher.generation();
            let bound = state.local_addr.get().copied();
            // The running address is what other machines can reach, whatever the file says.
            if let Some(bound) = bound
                && let Some(refusal) = crate::config::listen::public_listen_refusal(
                    bound,
                    !loaded.config.clients.is_empty(),
                    loaded.config.settings.access.allow_unauthenticated_public,
                )
            {
                tracing::error!("config not reloaded: {refusal}");
                return Err(ReloadError::Refused(refusal));
            }
            if loaded.config.settings.listen != running.config.settings.listen {
                tracing::warn!(
                    "settings.listen changed to {}: a reload cannot change the listening address, so this instance stays on {}; restart it to move",
                    loaded.config.settings.listen,
                    bound.map_or_else(
                        || running.config.settings.listen.to_string(),
                        |a| a.to_string()
                    )
                );
            }
            for (key, changed) in [
                (
                    "max_connections",
                    loaded.config.settings.access.max_connections
                        != running.config.settings.access.max_connections,
                ),
                (
                    "header_read_timeout",
                    loaded.config.settings.access.header_read_timeout
                        != running.config.settings.access.header_read_timeout,
                ),
                (
                    "usage",
                    loaded.config.settings.usage != running.config.settings.usage,
                ),
                (
                    "shared_state",
                    loaded.config.settings.shared_state != running.config.settings.shared_state,
                ),
                (
                    "shared_state_wait",
                    loaded.config.settings.shared_state_wait
                        != running.config.settings.shared_state_wait,
                ),
            ] {
                if changed {
                    tracing::warn!("settings.{key} changed: it takes effect after a restart");
                }
            }
            for warning in &loaded.warnings {
                tracing::warn!("{warning}");
            }
            let providers = loaded.config.providers.len();
            crate::logging::set_config_level(loaded.config.settings.log_level);
            crate::logging::set_config_format(loaded.config.settings.log_format);
            state.access.replace(&loaded.config.clients);
            state.dispatcher.replace_config(loaded.config);
            tracing::info!(providers, path = %path.display(), "config reloaded");
            Ok(providers)
        }
        Err(error) => {
            for problem in error.lines() {
                tracing::error!("config not reloaded: {problem}");
            }
            Err(ReloadError::Config(error))
        }
    }
}

/// Reloads only when the file's bytes differ from those the running generation was loaded
/// from: what the file watch calls, so reading the file (`cat`, `config validate`, an editor
/// opening it) or touching it never makes a reload, nor a log line.
///
/// Returns `None` when nothing changed.
pub fn reload_if_changed(state: &AppState) -> Option<Result<usize, ReloadError>> {
    let path = state.config_path.as_ref()?;
    // An unreadable or vanished file is a change: `reload` says what is wrong with it.
    if let Ok(bytes) = crate::config::read_file(path) {
        let running = state.dispatcher.generation();
        if crate::config::content_hash(&bytes) == running.config.content_hash {
            tracing::debug!(path = %path.display(), "config file touched, content unchanged");
            return None;
        }
    }
    Some(reload(state))
}

/// How long the watch waits after a change for more, so an editor's burst of writes makes
/// one reload.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Watches the config file and reloads when its content changes. Only events that can change
/// the content count (create, modify, remove, rename); opening and reading the file does
/// not. The returned guard stops the watch when dropped.
pub fn watch(state: Arc<AppState>) -> anyhow::Result<Option<impl Drop>> {
    let Some(path) = state.config_path.clone() else {
        return Ok(None);
    };
    // The directory is watched, not the file: editors replace files by renaming, which a
    // watch on the old inode would miss.
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    let file_name = path.file_name().map(std::ffi::OsStr::to_os_string);
    let (notify_change, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<Event>| {
        let Ok(event) = result else { return };
        let may_change_content = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        );
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name().map(std::ffi::OsStr::to_os_string) == file_name);
        if may_change_content && ours {
            let _ = notify_change.send(());
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    // Safe to drop at shutdown: the task only reloads a small file, and it ends by itself
    // when the guard (the watcher, which owns the sender) is dropped.
    tokio::spawn(async move {
        while changes.recv().await.is_some() {
            tokio::time::sleep(DEBOUNCE).await;
            while changes.try_recv().is_ok() {}
            let state = state.clone();
            let _ = tokio::task::spawn_blocking(move || reload_if_changed(&state)).await;
        }
    });
    Ok(Some(watcher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_error_lists_its_problems_one_per_line() {
        assert_eq!(
            ReloadError::NoConfigFile.problems(),
            ["this instance was not started from a config file"]
        );
        let too_large = ConfigError::TooLarge {
            path: PathBuf::from("providers.yaml"),
            size: 2 << 20,
        };
        let expected = too_large.lines();
        assert_eq!(ReloadError::from(too_large).problems(), expected);
        assert_eq!(
            ReloadError::Interrupted("task panicked".to_owned()).problems(),
            ["the reload failed: task panicked"]
        );
    }
}
