//! Hot reload: one function, whatever asked for it (a file change, `SIGHUP`, or
//! `POST /providers/reload`).
//!
//! The whole new config is loaded and validated before anything changes; an invalid one
//! changes nothing and every problem is reported. A valid one is swapped in atomically
//! (see `Dispatcher::replace_config`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::{DebounceEventResult, new_debouncer, notify::RecursiveMode};

use super::AppState;

/// Re-reads the config file. Returns the number of providers, or every problem found.
pub fn reload(state: &AppState) -> Result<usize, Vec<String>> {
    let Some(path) = &state.config_path else {
        return Err(vec![
            "this instance was not started from a config file".to_owned(),
        ]);
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
            if loaded.config.settings.listen != running.config.settings.listen {
                tracing::warn!(
                    "settings.listen changed to {}: a new address takes effect after a restart",
                    loaded.config.settings.listen
                );
            }
            for warning in &loaded.warnings {
                tracing::warn!("{warning}");
            }
            let providers = loaded.config.providers.len();
            crate::ui::logging::set_config_level(loaded.config.settings.log_level);
            crate::ui::logging::set_config_format(loaded.config.settings.log_format);
            state.dispatcher.replace_config(loaded.config);
            tracing::info!(providers, path = %path.display(), "config reloaded");
            Ok(providers)
        }
        Err(error) => {
            let problems: Vec<String> = error.lines();
            for problem in &problems {
                tracing::error!("config not reloaded: {problem}");
            }
            Err(problems)
        }
    }
}

/// Watches the config file and reloads when it changes, debounced so an editor's burst of
/// writes makes one reload. The returned guard stops the watch when dropped.
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
    let handle = tokio::runtime::Handle::current();
    let mut debouncer = new_debouncer(
        Duration::from_millis(250),
        move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let touched = events.iter().any(|event| {
                event.path.file_name().map(std::ffi::OsStr::to_os_string) == file_name
            });
            if touched {
                let state = state.clone();
                // Reloading reads a small file: it runs on the blocking pool, and the handle
                // keeps nothing alive past shutdown.
                handle.spawn_blocking(move || {
                    let _ = reload(&state);
                });
            }
        },
    )?;
    debouncer
        .watcher()
        .watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(Some(debouncer))
}
