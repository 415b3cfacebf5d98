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
use crate::upstream::remote;

/// What `serve` runs with, resolved from the flags and the config.
pub struct ServeSettings {
    pub config: Config,
    pub config_path: Option<PathBuf>,
    /// `--listen`, which wins over `settings.listen`.
    pub listen: Option<SocketAddr>,
    pub env: EnvLookup,
    /// Where the default usage ledger goes; `None` for the user's data directory.
    pub data_dir: Option<PathBuf>,
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
    if let Some(format) = args.log_format {
        crate::logging::set_flag_format(match format {
            crate::cli::LogFormatArg::Text => config::LogFormat::Text,
            crate::cli::LogFormatArg::Json => config::LogFormat::Json,
        });
    }
    crate::logging::set_config_format(loaded.config.settings.log_format);
    crate::logging::set_config_level(loaded.config.settings.log_level);
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
    // `--listen` wins over `CLAUDE_LB_LISTEN`, which wins over `settings.listen`; a bad value
    // is reported with the place it came from.
    let listen = match (
        args.listen,
        crate::env::process(crate::env::CLAUDE_LB_LISTEN),
    ) {
        (Some(addr), _) => Some(addr),
        (None, Some(text)) => match config::parse_listen(&text) {
            Ok(addr) => Some(addr),
            Err(e) => {
                printer.error(format_args!("{}: {e}", crate::env::CLAUDE_LB_LISTEN));
                return Ok(ExitStatus::Usage);
            }
        },
        (None, None) => None,
    };
    // A worker writes the log lines of the requests it ran each time it runs out of work:
    // a busy worker writes many at once.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(crate::logging::worker_parks)
        .on_thread_stop(crate::logging::worker_parks)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(ServeSettings {
        config: loaded.config,
        config_path: Some(path),
        listen,
        env: std::sync::Arc::new(crate::env::process),
        data_dir: None,
    }))?;
    Ok(ExitStatus::Success)
}

/// What to say when `addr` is taken: whether a claude-lb answers there (asked with `GET /`),
/// and what to do instead.
async fn in_use(addr: SocketAddr) -> String {
    let version = running_instance(addr).await;
    match version {
        Some(version) => format!(
            "{addr} is already in use by a running claude-lb {version}: point Claude Code at it (ANTHROPIC_BASE_URL=http://{addr}), see it with `claude-lb providers list --remote http://{addr}`, or start another one with `--listen 127.0.0.1:0` (a free port)"
        ),
        None => format!(
            "cannot listen on {addr}: the address is in use by another program; choose another with `--listen ADDR` (`--listen 127.0.0.1:0` picks a free port)"
        ),
    }
}

/// The version of the claude-lb answering `GET /` at `addr`, if one does.
async fn running_instance(addr: SocketAddr) -> Option<String> {
    let upstream = crate::upstream::Upstream::new(&crate::env::process).ok()?;
    let url = format!("http://{addr}/");
    let ask = async {
        let body = remote::get(&upstream, &url, None)
            .await
            .ok()?
            .collect(64 * 1024)
            .await
            .ok()?;
        let json: serde_json::Value = serde_json::from_slice(&body).ok()?;
        json.get("uptime_s")?;
        json.get("version")?.as_str().map(str::to_owned)
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), ask)
        .await
        .ok()
        .flatten()
}

pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let listen = settings.listen.unwrap_or(settings.config.settings.listen);
    if let Some(refusal) = config::listen::public_listen_refusal(
        listen,
        !settings.config.clients.is_empty(),
        settings.config.settings.access.allow_unauthenticated_public,
    ) {
        anyhow::bail!("not starting: {refusal}");
    }
    let listener = match TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            return Err(anyhow::anyhow!(in_use(listen).await));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {listen}")),
    };
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let enabled = settings
        .config
        .providers
        .iter()
        .filter(|p| p.enabled)
        .count();
    let with_clients = !settings.config.clients.is_empty();
    let usage_settings = settings.config.settings.usage.clone();
    let shared_state = settings.config.settings.shared_state.clone();
    let dispatcher = Dispatcher::new(
        settings.config,
        crate::upstream::Upstream::new(&crate::env::process)?,
    );
    let dispatcher = match &shared_state {
        Some(url) => dispatcher.share_state(url)?,
        None => dispatcher,
    };
    let data_dir = settings
        .data_dir
        .clone()
        .or_else(crate::usage::store::user_data_dir);
    let ledger = crate::usage::start(
        &usage_settings,
        data_dir.as_deref(),
        dispatcher.metrics_handle(),
    )
    .context("cannot start the usage ledger")?;
    let dispatcher = match &ledger {
        Some(ledger) => dispatcher.with_recorder(ledger.recorder()),
        None => dispatcher,
    };
    let mut state = AppState::new(dispatcher, settings.config_path, settings.env);
    state.usage_ledger =
        crate::usage::store::Location::of(&usage_settings.store, data_dir.as_deref())
            .ok()
            .flatten();
    state.budgets = ledger.as_ref().and_then(|l| l.budgets().cloned());
    if let (Some(shared), Some(budgets)) = (state.dispatcher.shared(), &state.budgets) {
        shared.share_budgets(budgets.clone());
    }
    let state = Arc::new(state);
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
        crate::ui::claude_code_command(&super::instance::client_url(addr), with_clients)
    );
    // The accept loop runs on a worker rather than on the thread blocked in `run`: each
    // connection's task then starts on the worker that accepted it, without waking another.
    let served = match tokio::spawn(proxy::serve(listener, state, shutdown_signal())).await {
        Ok(served) => served,
        Err(error) => Err(anyhow::anyhow!("the server stopped: {error}")),
    };
    if let Some(ledger) = ledger {
        // Writes the rows still queued; blocking, so off the async workers.
        let _ = tokio::task::spawn_blocking(move || ledger.close()).await;
    }
    served
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
