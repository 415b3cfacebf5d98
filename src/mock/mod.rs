//! Mock providers: an in-process hyper server that plays an Anthropic or an `OpenAI` upstream.
//!
//! One piece of code serves two purposes. Tests script it (`Reply`s consumed one per request,
//! in order: statuses, SSE streams with delays, dropped connections, stalls, cut streams) and
//! read back every request it received ([`Recorded`]); the scripted replies, and the `start`
//! that panics instead of reporting, exist only with the `test-support` feature (the
//! integration tests and benches turn it on), so they never ship in the binary. Once the script is used up it answers
//! as a simulated provider ([`SimOptions`]): well-formed Messages or Chat Completions
//! responses, streaming or not, with tool calls, and seeded fault injection; `claude-lb mock`,
//! `claude-lb demo` and the benchmark run that simulation.
//!
//! The server stops when [`MockHandle::shutdown`] is awaited or the handle is dropped: the
//! accept loop ends, the listener closes, and every connection task (stalled ones included)
//! is aborted.

mod body;
#[cfg(any(test, feature = "test-support"))]
mod reply;
mod server;
mod sim;

#[cfg(any(test, feature = "test-support"))]
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Method};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::core::provider::ProviderKind;

pub use body::SseChunk;
#[cfg(any(test, feature = "test-support"))]
pub use reply::Reply;
pub use sim::{Fault, FaultMix, SimError, SimOptions};

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid simulation options")]
    Sim(#[from] SimError),
    #[cfg(feature = "test-support")]
    #[error("invalid TLS identity for the mock")]
    Tls(#[from] rustls::Error),
}

/// Entry point of the builder: `MockUpstream::anthropic().reply(..).start().await`.
pub struct MockUpstream;

impl MockUpstream {
    /// A mock Anthropic Messages provider.
    pub fn anthropic() -> MockBuilder {
        MockBuilder::new(ProviderKind::Anthropic)
    }

    /// A mock `OpenAI` Chat Completions provider.
    pub fn openai() -> MockBuilder {
        MockBuilder::new(ProviderKind::OpenAi)
    }

    /// A mock of this kind.
    pub fn of(kind: ProviderKind) -> MockBuilder {
        MockBuilder::new(kind)
    }
}

/// Configures a mock before it starts.
#[derive(Debug)]
pub struct MockBuilder {
    kind: ProviderKind,
    #[cfg(any(test, feature = "test-support"))]
    script: VecDeque<Reply>,
    sim: SimOptions,
    listen: SocketAddr,
    #[cfg(feature = "test-support")]
    tls: Option<TlsIdentity>,
}

/// The certificate chain and key a TLS mock presents, and whether it offers HTTP/2.
#[cfg(feature = "test-support")]
#[derive(Debug)]
struct TlsIdentity {
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    http2: bool,
}

impl MockBuilder {
    fn new(kind: ProviderKind) -> Self {
        Self {
            kind,
            #[cfg(any(test, feature = "test-support"))]
            script: VecDeque::new(),
            sim: SimOptions::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            #[cfg(feature = "test-support")]
            tls: None,
        }
    }

    #[cfg(feature = "test-support")]
    /// Serves over TLS with this certificate chain and key (its URL is then `https://`),
    /// offering HTTP/2 and HTTP/1.1 by ALPN; the protocol a request came by is in
    /// [`Recorded::version`].
    #[must_use]
    pub fn tls(
        mut self,
        chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Self {
        self.tls = Some(TlsIdentity {
            chain,
            key,
            http2: true,
        });
        self
    }

    #[cfg(feature = "test-support")]
    /// A TLS mock that offers HTTP/1.1 only, as some providers' servers do.
    #[must_use]
    pub fn without_http2(mut self) -> Self {
        if let Some(tls) = &mut self.tls {
            tls.http2 = false;
        }
        self
    }

    #[cfg(any(test, feature = "test-support"))]
    /// Adds a scripted reply; scripted replies are consumed one per request (any route), in
    /// order, before the simulated provider takes over.
    #[must_use]
    pub fn reply(mut self, reply: Reply) -> Self {
        self.script.push_back(reply);
        self
    }

    /// Sets how the simulated provider behaves once the script is used up.
    #[must_use]
    pub fn sim(mut self, options: SimOptions) -> Self {
        self.sim = options;
        self
    }

    /// Listens on this address instead of `127.0.0.1:0`.
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    #[cfg(any(test, feature = "test-support"))]
    /// Binds and starts serving.
    ///
    /// # Panics
    ///
    /// When the address cannot be bound or the simulation options are invalid; use
    /// [`MockBuilder::try_start`] where that must be reported rather than panic.
    pub async fn start(self) -> MockHandle {
        match self.try_start().await {
            Ok(handle) => handle,
            Err(e) => panic!("mock upstream failed to start: {}", anyhow::Error::from(e)),
        }
    }

    /// Binds and starts serving, reporting a bind failure or invalid options.
    pub async fn try_start(self) -> Result<MockHandle, MockError> {
        self.sim.validate()?;
        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|source| MockError::Bind {
                addr: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: self.listen,
            source,
        })?;
        #[cfg(feature = "test-support")]
        let tls = self.tls.map(TlsIdentity::acceptor).transpose()?;
        #[cfg(feature = "test-support")]
        let scheme = if tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "test-support"))]
        let scheme = "http";
        let shared = Arc::new(Shared {
            kind: self.kind,
            #[cfg(feature = "test-support")]
            tls,
            #[cfg(any(test, feature = "test-support"))]
            script: Mutex::new(self.script),
            #[cfg(any(test, feature = "test-support"))]
            always: Mutex::new(None),
            sim: self.sim,
            recorded: Mutex::new(Vec::new()),
            request_count: AtomicUsize::new(0),
            connection_count: AtomicUsize::new(0),
            generation_seq: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), stop_rx));
        Ok(MockHandle {
            addr,
            scheme,
            shared,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

#[cfg(feature = "test-support")]
impl TlsIdentity {
    fn acceptor(self) -> Result<tokio_rustls::TlsAcceptor, rustls::Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(self.chain, self.key)?;
        config.alpn_protocols = if self.http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }
}

/// State shared by the accept loop, every connection, and the handle.
pub(crate) struct Shared {
    pub(crate) kind: ProviderKind,
    /// Set for a TLS mock: every connection starts with its handshake.
    #[cfg(feature = "test-support")]
    pub(crate) tls: Option<tokio_rustls::TlsAcceptor>,
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) script: Mutex<VecDeque<Reply>>,
    /// While set, the reply to every request, before the script.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) always: Mutex<Option<Reply>>,
    pub(crate) sim: SimOptions,
    pub(crate) recorded: Mutex<Vec<Recorded>>,
    pub(crate) request_count: AtomicUsize,
    /// Connections accepted (TLS or not).
    pub(crate) connection_count: AtomicUsize,
    /// Numbers the simulated generation requests: response ids and the fault sequence.
    pub(crate) generation_seq: AtomicU64,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A running mock. Dropping it stops the server.
#[derive(Debug)]
pub struct MockHandle {
    addr: SocketAddr,
    /// `http`, or `https` for a TLS mock.
    scheme: &'static str,
    shared: Arc<Shared>,
    /// Sending (or dropping) this ends the accept loop, which aborts every connection task.
    stop: Option<oneshot::Sender<()>>,
    /// The accept loop, awaited by [`MockHandle::shutdown`] so the port is free afterwards.
    task: Option<JoinHandle<()>>,
}

impl MockHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The kind of provider this mock plays.
    pub fn kind(&self) -> ProviderKind {
        self.shared.kind
    }

    /// `http://ADDR` (`https://` for a TLS mock), without a trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The `base_url` to configure for this provider: `url()` for Anthropic (the client adds
    /// `/v1/messages`), `url()/v1` for `OpenAI` (the client adds `/chat/completions`).
    pub fn base_url(&self) -> String {
        match self.shared.kind {
            ProviderKind::Anthropic => self.url(),
            ProviderKind::OpenAi => format!("{}/v1", self.url()),
        }
    }

    /// Every request received so far, in arrival order (empty when recording is off).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().clone()
    }

    /// How many requests were received (counted even when recording is off).
    pub fn request_count(&self) -> usize {
        self.shared.request_count.load(Ordering::Relaxed)
    }

    /// How many connections were accepted: a client that keeps its connections makes few.
    pub fn connection_count(&self) -> usize {
        self.shared.connection_count.load(Ordering::Relaxed)
    }

    #[cfg(any(test, feature = "test-support"))]
    /// Appends a scripted reply after the mock has started.
    pub fn push_reply(&self, reply: Reply) {
        self.shared.script.lock().push_back(reply);
    }

    #[cfg(any(test, feature = "test-support"))]
    /// While `Some`, every request (any route) gets this reply, ahead of the script; `None`
    /// goes back to the script and the simulation: a provider that breaks and recovers.
    pub fn set_always(&self, reply: Option<Reply>) {
        *self.shared.always.lock() = reply;
    }

    /// Stops accepting, aborts every connection, and waits until the port is closed.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // The loop may already be gone; there is nothing left to stop then.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        // Dropping `stop` wakes the accept loop, which then ends on its own; its JoinHandle is
        // detached, which is safe because the loop holds nothing but the listener and
        // connection tasks it aborts as it ends.
        self.stop.take();
    }
}

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    /// The protocol it came by (HTTP/2 only from a TLS mock).
    pub version: http::Version,
    /// The path and query, e.g. `/v1/messages?beta=true`.
    pub path_and_query: String,
    pub headers: HeaderMap,
    /// The body bytes exactly as received.
    pub body: Bytes,
    /// The body parsed as JSON, `None` when it is not JSON.
    pub json: Option<serde_json::Value>,
}

impl Recorded {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or_default()
    }

    /// A header's value, when present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
