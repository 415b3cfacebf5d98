//! `claude-lb serve`: runs the proxy in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::proxy::{self, AppState, EnvLookup};

/// What `serve` runs with, resolved from the flags and the config.
pub struct ServeSettings {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    /// `--listen`, which wins over `settings.listen`.
    pub listen: Option<SocketAddr>,
    pub env: EnvLookup,
}

pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let listen = settings.listen.unwrap_or(settings.config.settings.listen);
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let enabled = settings.config.providers.iter().filter(|p| p.enabled).count();
    let dispatcher = Dispatcher::new(settings.config)?;
    let state = Arc::new(AppState::new(dispatcher, settings.config_path, settings.env));
    let _watch = match proxy::reload::watch(state.clone()) {
        Ok(watch) => watch,
        Err(error) => {
            tracing::warn!("cannot watch the config file, reload with SIGHUP or POST /providers/reload: {error:#}");
            None
        }
    };
    spawn_sighup_reload(state.clone());
    tracing::info!(providers = enabled, "listening on {addr}");
    tracing::info!("point Claude Code at it: ANTHROPIC_BASE_URL=http://{addr}");
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
        let Ok(mut hangup) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP");
            return;
        };
        // Detached on purpose: it only waits for signals and ends with the runtime.
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the config");
                let _ = proxy::reload::reload(&state);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = state;
}
