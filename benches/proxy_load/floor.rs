//! The floor: the least work any proxy can do on this path, to measure claude-lb against.
//!
//! A bare hyper passthrough: accept a connection, forward each request (method, path, headers,
//! body as it streams in) to one upstream through a pooled `hyper-util` client, and stream the
//! answer back unchanged. No routing, no parsing, no authentication, no logging, no metrics.
//! It runs as its own process (this bench binary started again with `--floor LISTEN UPSTREAM`)
//! so that its CPU time and memory are read from `/proc` exactly like `claude-lb serve`'s, with
//! the same kind of tokio runtime (multi-threaded, one worker per core).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use http::header::HOST;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, hyper::Error>;

/// Serves on `listen` until killed, forwarding everything to `upstream` (`host:port`).
pub(crate) fn serve(listen: SocketAddr, upstream: &str) -> anyhow::Result<()> {
    let upstream: Arc<str> = Arc::from(upstream);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client: Client<HttpConnector, Incoming> =
                Client::builder(TokioExecutor::new()).build(connector);
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                let client = client.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        forward(client.clone(), upstream.clone(), request)
                    });
                    // A connection that ends badly only ends itself.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
}

async fn forward(
    client: Client<HttpConnector, Incoming>,
    upstream: Arc<str>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("http://{upstream}{path}").parse::<Uri>() else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    parts.uri = uri;
    // The client names the upstream in `Host` itself.
    parts.headers.remove(HOST);
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => Ok(response.map(BodyExt::boxed)),
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed());
    *response.status_mut() = code;
    response
}
