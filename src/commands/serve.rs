//! `claude-lb serve`: runs the proxy in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::commands::ExitStatus;
use crate::config::{self, Config, ConfigError, paths};
use crate::dispatch::Dispatcher;
use crate::proxy::{self, AppState, EnvLookup};
use crate::ui::Printer;

/// What `serve` runs with, resolved from the flags and the config.
pub struct ServeSettings {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    /// `--listen`, which wins over `settings.listen`.
    pub listen: Option<SocketAddr>,
    pub env: EnvLookup,
}

/// `claude-lb serve` from the command line: loads the config as `config validate` does,
/// and runs the proxy until SIGINT or SIGTERM.
pub fn run_cli(
    global: &GlobalArgs,
    args: &ServeArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let path = paths::resolve_for_process(global.config.as_deref())?;
    let loaded = match config::load(&path, &crate::env::process) {
        Ok(loaded) => loaded,
        Err(ConfigError::Invalid { errors, warnings }) => {
            for line in errors.iter().chain(&warnings) {
                printer.error(line);
            }
            printer.error(format_args!(
                "{}: invalid config, not starting (run `claude-lb config validate` after fixing it)",
                path.display()
            ));
            return Ok(ExitStatus::Failure);
        }
        Err(other) => return Err(other.into()),
    };
    crate::ui::logging::set_config_level(loaded.config.settings.log_level);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    // One provider missing its key is that provider's problem; none usable is nothing to serve.
    if !loaded.config.providers.iter().any(config::Provider::usable) {
        let reasons: Vec<String> = loaded
            .config
            .providers
            .iter()
            .filter(|p| p.enabled)
            .filter_map(|p| p.unusable().map(|why| format!("{}: {why}", p.id)))
            .collect();
        printer.error(format_args!(
            "{}: no provider is usable ({}), not starting; export the variables in this shell, or use `auth_value_file`",
            path.display(),
            reasons.join(", ")
        ));
        return Ok(ExitStatus::Failure);
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(ServeSettings {
        config: loaded.config,
        config_path: Some(path),
        listen: args.listen,
        env: std::sync::Arc::new(crate::env::process),
    }))?;
    Ok(ExitStatus::Success)
}

pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let listen = settings.listen.unwrap_or(settings.config.settings.listen);
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let enabled = settings
        .config
        .providers
        .iter()
        .filter(|p| p.enabled)
        .count();
    let dispatcher = Dispatcher::new(settings.config)?;
    let state = Arc::new(AppState::new(
        dispatcher,
        settings.config_path,
        settings.env,
    ));
    let _watch = match proxy::reload::watch(state.clone()) {
        Ok(watch) => watch,
        Err(error) => {
            tracing::warn!(
                "cannot watch the config file, reload with SIGHUP or POST /providers/reload: {error:#}"
            );
            None
        }
    };
    spawn_sighup_reload(state.clone());
    tracing::info!(providers = enabled, "listening on {addr}");
    tracing::info!(
        "point Claude Code at it: {}",
        crate::ui::claude_code_command(addr)
    );
    proxy::serve(listener, state, shutdown_signal()).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!("cannot listen for SIGTERM: {error}");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn spawn_sighup_reload(state: Arc<AppState>) {
    #[cfg(unix)]
    {
        let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP");
            return;
        };
        // Detached on purpose: it only waits for signals and ends with the runtime.
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the config");
                let state = state.clone();
                // Reading and validating the file is blocking work: off the async workers.
                let _ = tokio::task::spawn_blocking(move || proxy::reload::reload(&state)).await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = state;
}
