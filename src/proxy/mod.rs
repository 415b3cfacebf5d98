//! The hyper server behind `claude-lb serve`: the only module that knows hyper server types.
//!
//! [`serve`] accepts connections until `shutdown` resolves, then stops accepting and gives
//! the requests in flight (streams included) a grace period to finish. Every request goes
//! to [`handler::handle`], which can also be called without a socket.

pub mod admin;
pub mod handler;
pub mod reload;
pub mod response;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::dispatch::Dispatcher;

/// How long requests in flight may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The largest request body accepted (Anthropic's own limit for Messages).
pub const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// An environment lookup, passed in so reloads and tests never touch the process env.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Everything a request handler needs.
pub struct AppState {
    pub dispatcher: Dispatcher,
    /// The config file, re-read on reload; `None` when the config did not come from a file.
    pub config_path: Option<PathBuf>,
    pub env: EnvLookup,
    pub started: Instant,
    /// Serialises reloads, so two at once cannot interleave their swaps. A std mutex: a
    /// reload reads a small file and never awaits while holding it.
    pub reload_lock: std::sync::Mutex<()>,
    pub body_limit: usize,
    /// The address [`serve`] listens on, once it does: error answers name it in the command
    /// that shows every provider's state.
    pub local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Local token estimates running at once, at most
    /// [`crate::limits::MAX_CONCURRENT_LOCAL_COUNTS`]; the others wait their turn.
    pub local_counts: tokio::sync::Semaphore,
    /// The usage ledger's file, which `GET /usage` reads; `None` when the ledger is off.
    pub usage_db: Option<PathBuf>,
}

impl AppState {
    pub fn new(dispatcher: Dispatcher, config_path: Option<PathBuf>, env: EnvLookup) -> Self {
        Self {
            dispatcher,
            config_path,
            env,
            started: Instant::now(),
            reload_lock: std::sync::Mutex::new(()),
            body_limit: BODY_LIMIT,
            local_addr: std::sync::OnceLock::new(),
            local_counts: tokio::sync::Semaphore::new(crate::limits::MAX_CONCURRENT_LOCAL_COUNTS),
            usage_db: None,
        }
    }
}

/// Serves connections from `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let _ = state.local_addr.set(addr);
    }
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .header_read_timeout(Duration::from_secs(60))
        .timer(hyper_util::rt::TokioTimer::new());
    // Tracks every connection so a shutdown can wait for the ones still serving.
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let service = service_fn(move |request| {
            let state = state.clone();
            async move { Ok::<_, std::convert::Infallible>(handler::handle(request, &state).await) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        // Safe to detach: `graceful` tracks the connection, and shutdown waits for it.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, "connection ended with an error: {error}");
            }
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: waiting up to {}s for requests in flight",
        SHUTDOWN_GRACE.as_secs()
    );
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: closing the remaining connections");
    }
    Ok(())
}
