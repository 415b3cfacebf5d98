//! The Messages client's connections to providers, kept between requests.
//!
//! One [`Pool`] per [`super::Upstream`], keyed by origin (scheme and authority). A TLS provider
//! gets HTTP/2 when its server offers it by ALPN, and then one connection per origin carries every
//! request; otherwise HTTP/1.1 connections are kept idle between requests and the most recently
//! used is taken first. A request costs a lock, a short hash of its origin and a pop; an HTTP/1.1
//! connection goes back to the pool when its answer's body ends or is dropped (hyper keeps it
//! only if the rest of the body had already arrived), with no task of its own.
//!
//! A request that a kept connection could not take (it closed while idle: the provider's own
//! idle timeout) is sent again on another connection, as it was never written; a connection
//! unused for [`IDLE_TIMEOUT`] is closed by a sweep every [`SWEEP_EVERY`], and at most
//! [`MAX_IDLE_PER_ORIGIN`] are kept idle per origin.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::Connection as _;
use hyper_util::client::legacy::connect::HttpConnector;
use parking_lot::Mutex;
use tokio::time::Instant;

use super::{BoxError, SystemResolver};
use crate::core::fnv::Fnv;

/// How long a TCP connect plus TLS handshake may take before the attempt fails over.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an idle kept connection is kept.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The most idle HTTP/1.1 connections kept per origin: after a burst, the ones idle the
/// longest are closed as others come back.
pub(super) const MAX_IDLE_PER_ORIGIN: usize = 64;

/// How long a request waits for a kept HTTP/1.1 connection that is not ready yet before it
/// lets the connection go and takes another.
const READY_WAIT: Duration = Duration::from_millis(100);

/// How often connections idle for longer than [`IDLE_TIMEOUT`] are closed.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// A request as the pool sends it.
pub(super) type Request = http::Request<Full<Bytes>>;

/// The connector: TCP (the system's resolver, `TCP_NODELAY`, keep-alive every 15 s), then TLS
/// by rustls for `https`, the whole bounded by [`CONNECT_TIMEOUT`].
type Connector = TimedConnector<hyper_rustls::HttpsConnector<HttpConnector<SystemResolver>>>;

/// Where a connection goes: a provider's scheme and authority.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin {
    scheme: Scheme,
    authority: Authority,
}

/// The connections kept for one origin.
#[derive(Default)]
struct Kept {
    /// Idle HTTP/1.1 connections, oldest first, with when each was put back.
    http1: VecDeque<(http1::SendRequest<Full<Bytes>>, Instant)>,
    /// The HTTP/2 connection every request to the origin shares, with when it was last taken.
    http2: Option<(http2::SendRequest<Full<Bytes>>, Instant)>,
}

/// A connection taken from the pool or just made.
enum Conn {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// Why a request got no answer: the connect failed, or the exchange did.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failed {
    #[error("{0}")]
    Connect(#[source] BoxError),
    #[error("{0}")]
    Exchange(#[source] hyper::Error),
    #[error("the provider URL has no scheme or authority")]
    NoOrigin,
}

/// The shared connections of every provider.
pub(super) struct Pool {
    connector: Connector,
    /// Hashed with FNV: origins are a handful of short names from the operator's config, which
    /// no client controls.
    kept: Mutex<HashMap<Origin, Kept, BuildHasherDefault<Fnv>>>,
    /// Whether the sweep of idle connections runs (it starts with the first connection, on the
    /// runtime that made it).
    sweeping: AtomicBool,
}

impl Pool {
    pub(super) fn new(
        connector: hyper_rustls::HttpsConnector<HttpConnector<SystemResolver>>,
    ) -> Self {
        Self {
            connector: TimedConnector(connector),
            kept: Mutex::new(HashMap::default()),
            sweeping: AtomicBool::new(false),
        }
    }

    /// Sends `request` (its URI absolute) and returns once the answer's head has arrived.
    ///
    /// Over HTTP/1.1 the request goes out in origin form with a `Host` header (unless it has
    /// one); over HTTP/2 the URI gives `:scheme` and `:authority`.
    pub(super) async fn send(
        self: &Arc<Self>,
        mut request: Request,
    ) -> Result<http::Response<PooledBody>, Failed> {
        let uri = request.uri().clone();
        let origin = match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => Origin {
                scheme: scheme.clone(),
                authority: authority.clone(),
            },
            _ => return Err(Failed::NoOrigin),
        };
        loop {
            // A new connection is the rare path: its future (TLS included) is boxed, so every
            // request's future stays small.
            let (conn, was_kept) = match self.checkout(&origin).await {
                Some(conn) => (conn, true),
                None => (Box::pin(self.connect(&origin, &uri)).await?, false),
            };
            let mut failed = match conn {
                Conn::Http1(mut sender) => {
                    to_origin_form(&mut request, &origin);
                    match sender.try_send_request(request).await {
                        Ok(response) => {
                            let back = Back {
                                sender,
                                origin,
                                pool: Arc::downgrade(self),
                            };
                            return Ok(response.map(|body| PooledBody::new(body, Some(back))));
                        }
                        Err(failed) => failed,
                    }
                }
                Conn::Http2(mut sender) => match sender.try_send_request(request).await {
                    Ok(response) => return Ok(response.map(|body| PooledBody::new(body, None))),
                    Err(failed) => failed,
                },
            };
            match failed.take_message() {
                // Never written: a kept connection that closed meanwhile; another may take it.
                Some(unsent) if was_kept => {
                    request = unsent;
                    *request.uri_mut() = uri.clone();
                }
                _ => return Err(Failed::Exchange(failed.into_error())),
            }
        }
    }

    /// A kept connection to `origin` that can take a request now, if there is one.
    async fn checkout(&self, origin: &Origin) -> Option<Conn> {
        loop {
            let mut sender = {
                let mut kept = self.kept.lock();
                let kept = kept.get_mut(origin)?;
                if let Some((shared, taken)) = &mut kept.http2 {
                    if !shared.is_closed() {
                        *taken = Instant::now();
                        return Some(Conn::Http2(shared.clone()));
                    }
                    kept.http2 = None;
                }
                kept.http1.pop_back()?.0
            };
            if sender.is_ready() {
                return Some(Conn::Http1(sender));
            }
            // Put back as its answer ended: ready as soon as its connection has seen the end,
            // or closed. A connection still busy after a moment (its request still being
            // written to a provider that answered early and stopped reading) is let go.
            if !sender.is_closed()
                && matches!(
                    tokio::time::timeout(READY_WAIT, sender.ready()).await,
                    Ok(Ok(()))
                )
            {
                return Some(Conn::Http1(sender));
            }
        }
    }

    /// A new connection to `origin`, HTTP/2 when TLS chose it.
    async fn connect(self: &Arc<Self>, origin: &Origin, uri: &http::Uri) -> Result<Conn, Failed> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| tower_service::Service::poll_ready(&mut connector, cx))
            .await
            .map_err(Failed::Connect)?;
        let io = tower_service::Service::call(&mut connector, uri.clone())
            .await
            .map_err(Failed::Connect)?;
        self.start_sweeping();
        if io.connected().is_negotiated_h2() {
            let (sender, connection) = http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .timer(hyper_util::rt::TokioTimer::new())
                .handshake(io)
                .await
                .map_err(Failed::Exchange)?;
            drive(connection);
            self.kept.lock().entry(origin.clone()).or_default().http2 =
                Some((sender.clone(), Instant::now()));
            Ok(Conn::Http2(sender))
        } else {
            let (sender, connection) = http1::Builder::new()
                .handshake(io)
                .await
                .map_err(Failed::Exchange)?;
            drive(connection);
            Ok(Conn::Http1(sender))
        }
    }

    /// An HTTP/1.1 connection whose answer's body ended or was dropped, kept for the next
    /// request (hyper closes it if the rest of a dropped body had not arrived).
    fn put_back(&self, origin: Origin, sender: http1::SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let now = Instant::now();
        let mut kept = self.kept.lock();
        let idle = &mut kept.entry(origin).or_default().http1;
        let closed = if idle.len() < MAX_IDLE_PER_ORIGIN {
            None
        } else {
            idle.pop_front()
        };
        idle.push_back((sender, now));
        drop(kept);
        // Closed outside the lock: its connection's task sees the handle go and ends.
        drop(closed);
    }

    /// Starts the sweep of idle connections, once.
    fn start_sweeping(self: &Arc<Self>) {
        if self.sweeping.swap(true, Ordering::Relaxed) {
            return;
        }
        let pool = Arc::downgrade(self);
        // Holds only a weak handle: it ends with the pool (or its runtime), dropping nothing
        // that matters.
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(pool) = pool.upgrade() else { break };
                pool.sweep(Instant::now());
            }
        });
    }

    /// Drops the connections idle since before `now - IDLE_TIMEOUT`, and closed ones.
    fn sweep(&self, now: Instant) {
        let fresh = |since: Instant| now.saturating_duration_since(since) < IDLE_TIMEOUT;
        self.kept.lock().retain(|_, kept| {
            kept.http1
                .retain(|(sender, since)| fresh(*since) && !sender.is_closed());
            if kept
                .http2
                .as_ref()
                .is_some_and(|(sender, taken)| !fresh(*taken) || sender.is_closed())
            {
                kept.http2 = None;
            }
            !kept.http1.is_empty() || kept.http2.is_some()
        });
    }

    /// How many connections are kept idle (HTTP/1.1) or shared (HTTP/2), for tests.
    #[cfg(test)]
    fn kept(&self) -> (usize, usize) {
        let kept = self.kept.lock();
        (
            kept.values().map(|k| k.http1.len()).sum(),
            kept.values().filter(|k| k.http2.is_some()).count(),
        )
    }
}

/// Runs a connection's I/O on a task of its own. It ends when the provider closes the
/// connection, or when every handle to it is dropped and its exchanges are done; nothing to
/// shut down.
fn drive<C>(connection: C)
where
    C: Future<Output = Result<(), hyper::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "provider connection ended");
        }
    });
}

/// An HTTP/1.1 request's URI as the request line carries it (`/v1/messages?beta=true`), with the
/// `Host` header from the authority unless the request has one (a provider's base URL is
/// normalised when the config loads, so its authority has no default port).
fn to_origin_form(request: &mut Request, origin: &Origin) {
    if !request.headers().contains_key(http::header::HOST)
        && let Ok(host) = http::HeaderValue::from_str(origin.authority.as_str())
    {
        request.headers_mut().insert(http::header::HOST, host);
    }
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    *request.uri_mut() = http::Uri::from(path);
}

/// Where an HTTP/1.1 connection goes back once its answer has been read.
struct Back {
    sender: http1::SendRequest<Full<Bytes>>,
    origin: Origin,
    pool: Weak<Pool>,
}

/// An answer's body as it arrives, its data frames only. An HTTP/1.1 connection goes back to
/// the pool when the body ends, or when it is dropped before its end: hyper then reads what is
/// left if it has already arrived (a stream's last chunk, just after the event read last) and
/// keeps the connection, or closes it, and the next checkout waits for one or the other.
pub(super) struct PooledBody {
    body: Incoming,
    back: Option<Back>,
}

impl PooledBody {
    fn new(body: Incoming, back: Option<Back>) -> Self {
        let mut body = Self { body, back };
        // An answer with no body (a `Content-Length: 0`) has ended already.
        if body.body.is_end_stream() {
            body.give_back();
        }
        body
    }

    fn give_back(&mut self) {
        if let Some(back) = self.back.take()
            && let Some(pool) = back.pool.upgrade()
        {
            pool.put_back(back.origin, back.sender);
        }
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        self.give_back();
    }
}

/// A body that broke off, said in the words `reqwest` uses for the same failure, so a log line
/// reads the same whichever client carried the request.
#[derive(Debug, thiserror::Error)]
#[error("error decoding response body")]
struct BodyBrokeOff(#[source] hyper::Error);

impl futures_util::Stream for PooledBody {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let Some(frame) = std::task::ready!(Pin::new(&mut this.body).poll_frame(cx)) else {
                this.give_back();
                return Poll::Ready(None);
            };
            match frame {
                Ok(frame) => {
                    // Trailers carry no data; an answer's body is its data frames.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if this.body.is_end_stream() {
                        this.give_back();
                    }
                    return Poll::Ready(Some(Ok(data)));
                }
                Err(e) => {
                    this.back = None;
                    return Poll::Ready(Some(Err(Box::new(BodyBrokeOff(e)))));
                }
            }
        }
    }
}

/// A connector whose whole connect (TCP and TLS) gives up after [`CONNECT_TIMEOUT`] with
/// [`ConnectTimedOut`].
#[derive(Clone, Debug)]
struct TimedConnector<C>(C);

/// A connect that did not finish within [`CONNECT_TIMEOUT`].
#[derive(Debug, thiserror::Error)]
#[error("operation timed out")]
pub struct ConnectTimedOut;

impl<C> tower_service::Service<http::Uri> for TimedConnector<C>
where
    C: tower_service::Service<http::Uri> + Send,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures_util::StreamExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    fn pool() -> Arc<Pool> {
        let roots = crate::upstream::ExtraRoots::default();
        Arc::new(Pool::new(crate::upstream::connector(&roots).unwrap()))
    }

    /// The body every test request carries; its last bytes end a request for [`provider`].
    const BODY: &[u8] = b"{\"model\":\"m\",\"messages\":[]}";

    fn request(url: &str) -> Request {
        let mut request = http::Request::new(Full::new(Bytes::from_static(BODY)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = format!("{url}/v1/messages?beta=true").parse().unwrap();
        request
    }

    async fn read_all(response: http::Response<PooledBody>) -> Vec<u8> {
        let mut body = response.into_body();
        let mut all = Vec::new();
        while let Some(chunk) = body.next().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        all
    }

    /// What a test provider does with each connection.
    #[derive(Clone, Copy)]
    enum Answers {
        /// Every request answered whole, the connection kept.
        KeepAlive,
        /// One request answered whole, then the connection closed (an idle timeout shorter
        /// than the pool's).
        OneThenClose,
        /// A chunked answer: one chunk, and its end only if `end`.
        Chunked { end: bool },
        /// An early answer to a request's head: the body is never read, the connection stays.
        EarlyAnswer,
    }

    /// A provider on a raw socket: the requests' heads (each request's bytes up to the end of
    /// its body) in `heads`, and how many connections it accepted.
    struct Provider {
        url: String,
        accepted: Arc<AtomicUsize>,
        heads: Arc<Mutex<Vec<String>>>,
    }

    async fn provider(answers: Answers) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (Arc::clone(&accepted), Arc::clone(&heads));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut buf = [0_u8; 4096];
                    if let Answers::EarlyAnswer = answers {
                        let mut head = Vec::new();
                        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                            let Ok(n @ 1..) = socket.read(&mut buf).await else {
                                return;
                            };
                            head.extend_from_slice(&buf[..n]);
                        }
                        let answer =
                            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(answer).await.is_ok() {
                            std::future::pending::<()>().await;
                        }
                        return;
                    }
                    loop {
                        let mut head = Vec::new();
                        while !head.ends_with(BODY) {
                            let Ok(n @ 1..) = socket.read(&mut buf).await else {
                                return;
                            };
                            head.extend_from_slice(&buf[..n]);
                        }
                        seen.lock()
                            .push(String::from_utf8_lossy(&head).into_owned());
                        let answer: &[u8] = match answers {
                            Answers::KeepAlive | Answers::OneThenClose | Answers::EarlyAnswer => {
                                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
                            }
                            Answers::Chunked { end: true } => {
                                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                            }
                            Answers::Chunked { end: false } => {
                                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n"
                            }
                        };
                        if socket.write_all(answer).await.is_err() {
                            return;
                        }
                        match answers {
                            Answers::KeepAlive
                            | Answers::Chunked { end: true }
                            | Answers::EarlyAnswer => {}
                            Answers::OneThenClose => return,
                            Answers::Chunked { end: false } => {
                                // Holds the connection until the client closes it.
                                while let Ok(1..) = socket.read(&mut buf).await {}
                                return;
                            }
                        }
                    }
                });
            }
        });
        Provider {
            url,
            accepted,
            heads,
        }
    }

    #[tokio::test]
    async fn an_answer_read_to_its_end_leaves_its_connection_for_the_next_request() {
        let provider = provider(Answers::KeepAlive).await;
        let pool = pool();
        for _ in 0..3 {
            let response = pool.send(request(&provider.url)).await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(read_all(response).await, b"{}");
        }
        assert_eq!(provider.accepted.load(Ordering::Relaxed), 1);
        assert_eq!(pool.kept(), (1, 0));
        // Origin form, and the host from the URL's authority.
        let heads = provider.heads.lock();
        assert_eq!(heads.len(), 3);
        let authority = provider.url.trim_start_matches("http://");
        assert!(
            heads[0].starts_with("POST /v1/messages?beta=true HTTP/1.1\r\n"),
            "{}",
            heads[0]
        );
        assert!(
            heads[0].contains(&format!("host: {authority}\r\n")),
            "{}",
            heads[0]
        );
    }

    #[tokio::test]
    async fn an_answer_dropped_before_its_end_keeps_its_connection_only_if_the_rest_had_arrived() {
        // The end of the body arrived with its last data: dropped after that data, the
        // connection is kept (a stream dropped after its last event).
        let ended = provider(Answers::Chunked { end: true }).await;
        let pool = pool();
        for _ in 0..3 {
            let mut body = pool.send(request(&ended.url)).await.unwrap().into_body();
            assert_eq!(&body.next().await.unwrap().unwrap()[..], b"{}");
            drop(body);
        }
        assert_eq!(ended.accepted.load(Ordering::Relaxed), 1);

        // The body goes on: the connection is closed, and the next request opens another.
        let endless = provider(Answers::Chunked { end: false }).await;
        for _ in 0..2 {
            let mut body = pool.send(request(&endless.url)).await.unwrap().into_body();
            assert_eq!(&body.next().await.unwrap().unwrap()[..], b"{}");
            drop(body);
        }
        assert_eq!(endless.accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn at_most_the_idle_limit_of_connections_is_kept_after_a_burst() {
        let provider = provider(Answers::KeepAlive).await;
        let pool = pool();
        let burst = MAX_IDLE_PER_ORIGIN + 3;
        // Every answer held unread: each request needs a connection of its own.
        let mut held = Vec::new();
        for _ in 0..burst {
            held.push(pool.send(request(&provider.url)).await.unwrap());
        }
        assert_eq!(provider.accepted.load(Ordering::Relaxed), burst);
        for response in held {
            assert_eq!(read_all(response).await, b"{}");
        }
        assert_eq!(pool.kept(), (MAX_IDLE_PER_ORIGIN, 0));
        // The kept ones serve the next burst without a connect.
        let mut held = Vec::new();
        for _ in 0..MAX_IDLE_PER_ORIGIN {
            held.push(pool.send(request(&provider.url)).await.unwrap());
        }
        assert_eq!(provider.accepted.load(Ordering::Relaxed), burst);
        drop(held);
    }

    #[tokio::test]
    async fn a_kept_connection_the_provider_closed_is_not_used_again() {
        let provider = provider(Answers::OneThenClose).await;
        let pool = pool();
        for _ in 0..3 {
            let response = pool.send(request(&provider.url)).await.unwrap();
            assert_eq!(read_all(response).await, b"{}");
            // The close arrives while the connection is idle in the pool.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(provider.accepted.load(Ordering::Relaxed), 3);
        assert_eq!(provider.heads.lock().len(), 3);
    }

    #[tokio::test]
    async fn a_connection_still_writing_a_request_the_provider_stopped_reading_is_let_go() {
        let provider = provider(Answers::EarlyAnswer).await;
        let pool = pool();
        // More than the sockets' buffers hold: the write cannot finish while nobody reads.
        let mut large = request(&provider.url);
        *large.body_mut() = Full::new(Bytes::from(vec![b' '; 32 << 20]));
        let response = pool.send(large).await.unwrap();
        assert_eq!(response.status(), 413);
        assert_eq!(read_all(response).await, b"{}");
        assert_eq!(pool.kept(), (1, 0), "kept: its answer was read to the end");
        // The next request does not wait on it for ever: it gets a connection of its own.
        let next = tokio::time::timeout(Duration::from_secs(5), pool.send(request(&provider.url)))
            .await
            .expect("the next request is not held by the busy connection")
            .unwrap();
        assert_eq!(next.status(), 413);
        assert_eq!(provider.accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn connections_idle_for_longer_than_the_timeout_are_swept() {
        let provider = provider(Answers::KeepAlive).await;
        let pool = pool();
        let response = pool.send(request(&provider.url)).await.unwrap();
        read_all(response).await;
        assert_eq!(pool.kept(), (1, 0));
        pool.sweep(Instant::now());
        assert_eq!(pool.kept(), (1, 0), "a fresh connection stays");
        pool.sweep(Instant::now() + IDLE_TIMEOUT + Duration::from_secs(1));
        assert_eq!(pool.kept(), (0, 0));
        assert!(
            pool.kept.lock().is_empty(),
            "an origin with nothing kept is forgotten"
        );
    }

    #[tokio::test]
    async fn a_url_without_an_authority_is_refused_before_any_connect() {
        let pool = pool();
        let mut relative = request("http://x");
        *relative.uri_mut() = http::Uri::from_static("/v1/messages");
        assert!(matches!(pool.send(relative).await, Err(Failed::NoOrigin)));
    }
}
