//! The measurements: paired latency, stream timing, throughput, fixed load, concurrent streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::StreamExt;
use tokio::time::Instant;

use crate::request::{Target, client, exchange, fresh_client};

/// Latencies of `n` requests to each of two targets, alternating, one connection each.
pub(crate) async fn paired_latency(
    client: &reqwest::Client,
    direct: &Target,
    proxied: &Target,
    n: usize,
) -> anyhow::Result<(Stats, Stats)> {
    let stats = interleaved_latency(client, &[direct, proxied], n).await?;
    Ok((stats[0], stats[1]))
}

/// Latencies of `n` requests to each target, taking turns (the one that goes first rotates so
/// that none always follows another), one connection per target.
pub(crate) async fn interleaved_latency(
    client: &reqwest::Client,
    targets: &[&Target],
    n: usize,
) -> anyhow::Result<Vec<Stats>> {
    paced_latency(client, targets, n, Duration::ZERO).await
}

/// [`interleaved_latency`] with `pause` before each request: every process on the path has
/// gone idle when a request comes, as between the requests of one interactive client.
pub(crate) async fn paced_latency(
    client: &reqwest::Client,
    targets: &[&Target],
    n: usize,
    pause: Duration,
) -> anyhow::Result<Vec<Stats>> {
    let mut samples: Vec<Vec<Duration>> = targets.iter().map(|_| Vec::with_capacity(n)).collect();
    for i in 0..n {
        for k in 0..targets.len() {
            let which = (i + k) % targets.len();
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            let started = Instant::now();
            exchange(client, targets[which]).await?;
            samples[which].push(started.elapsed());
        }
    }
    Ok(samples.into_iter().map(Stats::of).collect())
}

/// Percentiles of a set of durations.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Stats {
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

impl Stats {
    pub(crate) fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

/// Time to the first content event and the median gap between events of one stream.
#[derive(Debug, Default)]
pub(crate) struct StreamTiming {
    pub(crate) first_content: Vec<Duration>,
    pub(crate) gaps: Vec<Duration>,
}

/// Reads a stream, noting when each event arrived; returns the event names.
pub(crate) async fn timed_stream(
    client: &reqwest::Client,
    target: &Target,
    timing: &mut StreamTiming,
) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let response = client
        .post(&target.url)
        .headers(target.headers.clone())
        .body(target.body.clone())
        .send()
        .await?;
    if response.status() != 200 {
        bail!("{} answered {}", target.url, response.status());
    }
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut names = Vec::new();
    let mut last: Option<Instant> = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let now = Instant::now();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = find(&buffer, b"\n\n") {
            let event: Vec<u8> = buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("")
                .to_owned();
            if name == "content_block_start" && last.is_none() {
                timing.first_content.push(now - started);
            }
            if name != "message_start" && name != "ping" {
                if let Some(previous) = last {
                    timing.gaps.push(now - previous);
                }
                last = Some(now);
            }
            names.push(name);
        }
    }
    Ok(names)
}

/// Time to the first content byte of `n` streams per target, taking turns, on one keep-alive
/// connection per target that this function speaks HTTP/1.1 on itself: the clock stops when
/// the bytes of the first `content_block_start` reach the socket, before an HTTP client would
/// parse the answer's head (which, behind claude-lb's commit point, comes with those bytes).
pub(crate) async fn first_content_bytes(
    targets: &[&Target],
    n: usize,
) -> anyhow::Result<Vec<Stats>> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut connections = Vec::with_capacity(targets.len());
    for target in targets {
        let url = reqwest::Url::parse(&target.url)?;
        let authority = format!(
            "{}:{}",
            url.host_str().context("a target URL without a host")?,
            url.port_or_known_default()
                .context("a target URL without a port")?
        );
        let stream = tokio::net::TcpStream::connect(&authority).await?;
        stream.set_nodelay(true)?;
        let mut request = format!(
            "POST {} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\n",
            url.path(),
            target.body.len()
        )
        .into_bytes();
        for (name, value) in &target.headers {
            request.extend_from_slice(name.as_str().as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(&target.body);
        connections.push((stream, request));
    }
    let mut samples: Vec<Vec<Duration>> = targets.iter().map(|_| Vec::with_capacity(n)).collect();
    let mut answer = Vec::with_capacity(16 * 1024);
    for i in 0..n {
        for k in 0..targets.len() {
            let which = (i + k) % targets.len();
            let (stream, request) = &mut connections[which];
            answer.clear();
            let started = Instant::now();
            stream.write_all(request).await?;
            let mut first = None;
            // A stream's answer is chunked: the last chunk ends it. Anything but a 200 stops
            // the run as soon as its status line is in.
            while !answer.ends_with(b"\r\n0\r\n\r\n") {
                if stream.read_buf(&mut answer).await? == 0 {
                    bail!("{} closed the connection mid-answer", targets[which].url);
                }
                let status = b"HTTP/1.1 200 ";
                if !answer.starts_with(&status[..answer.len().min(status.len())]) {
                    bail!(
                        "{} answered {}",
                        targets[which].url,
                        String::from_utf8_lossy(&answer[..answer.len().min(300)])
                    );
                }
                if first.is_none() && find(&answer, b"content_block_start").is_some() {
                    first = Some(started.elapsed());
                }
            }
            samples[which].push(first.context("a stream without content_block_start")?);
        }
    }
    Ok(samples.into_iter().map(Stats::of).collect())
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Requests per second over `duration` with `connections` concurrent keep-alive connections.
pub(crate) async fn throughput(
    target: &Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<(usize, Duration)> {
    let client = client()?;
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                exchange(&client, &target).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((done.load(Ordering::Relaxed), started.elapsed()))
}

/// Sends exactly `total` requests over `connections` connections.
pub(crate) async fn fixed_load(
    target: &Target,
    connections: usize,
    total: usize,
) -> anyhow::Result<Duration> {
    let client = client()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let target = target.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                exchange(&client, &target).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// `count` streams at once, each on its own connection; returns how many arrived whole (every
/// event, ending with `message_stop`) and the most that were in flight at the same time.
pub(crate) async fn concurrent_streams(
    target: &Target,
    count: usize,
    expected_events: usize,
) -> anyhow::Result<(usize, usize, usize)> {
    let client = fresh_client()?;
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..count {
        let client = client.clone();
        let target = target.clone();
        let open = open.clone();
        let peak = peak.clone();
        tasks.push(tokio::spawn(async move {
            let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now_open, Ordering::SeqCst);
            let response = client
                .post(&target.url)
                .headers(target.headers.clone())
                .body(target.body.clone())
                .send()
                .await;
            let body = match response {
                Ok(response) => response.bytes().await,
                Err(error) => Err(error),
            };
            open.fetch_sub(1, Ordering::SeqCst);
            let body = body?;
            let text = String::from_utf8_lossy(&body);
            let events = text.matches("event: ").count();
            let whole = text
                .trim_end()
                .ends_with("data: {\"type\":\"message_stop\"}")
                || text.contains("event: message_stop");
            anyhow::Ok((events, whole))
        }));
    }
    let mut complete = 0;
    let mut events = 0;
    for task in tasks {
        let (n, whole) = task.await??;
        events += n;
        if whole && n == expected_events {
            complete += 1;
        }
    }
    Ok((complete, events, peak.load(Ordering::SeqCst)))
}
