//! `claude-lb route explain`: which routing rule a request matches, and why, and the plan.
//!
//! The request body comes from a file or standard input. Without `--remote` the config file is
//! loaded and the same code as `serve` decides (`Dispatcher::explain`), with every provider
//! available; with `--remote` a running instance decides (`POST /routes/explain`), with its
//! providers' live state. Nothing is sent to a provider either way.

use std::fmt::Write as _;
use std::io::Read as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::cli::{GlobalArgs, RouteExplainArgs};
use crate::commands::ExitStatus;
use crate::commands::check::load_config;
use crate::dispatch::{ClientRequest, Dispatcher};
use crate::proxy::admin::RouteExplanation;
use crate::ui::Printer;
use crate::upstream::{Upstream, remote};

/// The largest request read: the proxy's own body limit.
const MAX_REQUEST: u64 = crate::proxy::BODY_LIMIT as u64;

/// How long a running instance may take to answer.
const REMOTE_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(
    global: &GlobalArgs,
    args: &RouteExplainArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let body = read_request(args)?;
    let headers = match headers(&args.headers) {
        Ok(headers) => headers,
        // A malformed --header is a mistake on the command line.
        Err(error) => {
            printer.error(format_args!("{error:#}"));
            return Ok(ExitStatus::Usage);
        }
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let explanation = if let Some(url) = &args.remote {
        runtime.block_on(ask_remote(
            url,
            headers,
            body,
            args.admin.admin_token.as_deref(),
        ))?
    } else {
        let loaded = load_config(global, *printer)?;
        let dispatcher = Dispatcher::new(loaded.config, Upstream::new(&crate::env::process)?);
        let request = ClientRequest {
            path_and_query: "/v1/messages".to_owned(),
            headers,
            body,
            client: None,
        };
        let explained = runtime
            .block_on(dispatcher.explain(&request))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        RouteExplanation::new(&explained, dispatcher.health(), Instant::now())
    };
    let out = if args.json {
        serde_json::to_string_pretty(&explanation)?
    } else {
        render(&explanation)
    };
    printer.line(out).context("writing the explanation")?;
    Ok(if explanation.error.is_none() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn read_request(args: &RouteExplainArgs) -> anyhow::Result<Bytes> {
    let mut bytes = Vec::new();
    match args.file.as_deref() {
        None => {
            std::io::stdin()
                .take(MAX_REQUEST + 1)
                .read_to_end(&mut bytes)
                .context("cannot read the request from standard input")?;
        }
        Some(path) if path.as_os_str() == "-" => {
            std::io::stdin()
                .take(MAX_REQUEST + 1)
                .read_to_end(&mut bytes)
                .context("cannot read the request from standard input")?;
        }
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_REQUEST + 1).read_to_end(&mut bytes))
                .with_context(|| format!("cannot read the request file `{}`", path.display()))?;
        }
    }
    if bytes.len() as u64 > MAX_REQUEST {
        bail!(
            "the request is larger than {}, the most `serve` accepts",
            crate::limits::describe_bytes(crate::proxy::BODY_LIMIT)
        );
    }
    Ok(Bytes::from(bytes))
}

fn headers(lines: &[String]) -> anyhow::Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            bail!("--header {line:?}: expected `NAME: VALUE`");
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .with_context(|| format!("--header {line:?}: not a valid header name"))?;
        let value = HeaderValue::from_str(value.trim())
            .with_context(|| format!("--header {line:?}: not a valid header value"))?;
        map.append(name, value);
    }
    Ok(map)
}

async fn ask_remote(
    url: &str,
    mut headers: HeaderMap,
    body: Bytes,
    admin_token: Option<&str>,
) -> anyhow::Result<RouteExplanation> {
    headers.extend(remote::admin_headers(admin_token)?);
    let base = remote::instance_url(url).map_err(anyhow::Error::msg)?;
    let url = remote::join(&base, "/routes/explain");
    let hint = "is `claude-lb serve` running there?";
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let upstream = Upstream::new(&crate::env::process)?;
    let (status, body) = super::instance::exchange(
        &url,
        REMOTE_TIMEOUT,
        4 * 1024 * 1024,
        remote::post(&upstream, url.clone(), headers, body),
    )
    .await?;
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
        bail!("{url} answered HTTP {}: {message}", status.as_u16());
    }
    serde_json::from_slice(&body).map_err(|error| {
        anyhow::anyhow!("{url} did not answer with a route explanation ({error}); {hint}")
    })
}

/// The explanation as text, one fact, rule, condition or candidate a line.
pub fn render(e: &RouteExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model: {}", e.model);
    if let Some(provider) = &e.pinned {
        let _ = writeln!(
            out,
            "picked provider: {provider} (the model name is PROVIDER,MODEL; rules are not consulted)"
        );
    }
    let facts = &e.facts;
    let mut read = Vec::new();
    if let Some(on) = facts.thinking {
        read.push(format!("thinking {}", if on { "on" } else { "off" }));
    }
    if let Some(tools) = &facts.tools {
        read.push(if tools.is_empty() {
            "no tools".to_owned()
        } else {
            format!("tools: {}", tools.join(", "))
        });
    }
    if let Some(tokens) = &facts.input_tokens {
        read.push(format!("input tokens: {tokens}"));
    }
    if let Some(headers) = &facts.headers {
        read.push(if headers.is_empty() {
            "none of the headers the rules read".to_owned()
        } else {
            format!("headers: {}", headers.join(", "))
        });
    }
    if !read.is_empty() {
        let _ = writeln!(out, "facts: {}", read.join("; "));
    }
    if e.rules.is_empty() {
        out.push_str("rules: none\n");
    } else {
        out.push_str("rules:\n");
    }
    for (i, rule) in e.rules.iter().enumerate() {
        let mut target = rule.providers.join(", ");
        if let Some(model) = &rule.model {
            let _ = write!(target, "; model {model}");
        }
        if rule.fallback_any {
            target.push_str("; then any");
        }
        let _ = writeln!(
            out,
            "  {}. {} → {target}: {}",
            i + 1,
            rule.name,
            rule.result
        );
        for check in &rule.checks {
            let mark = match check.holds {
                Some(true) => "yes",
                Some(false) => "no ",
                None => " ? ",
            };
            let _ = writeln!(out, "       {mark} {}: {}", check.condition, check.detail);
        }
    }
    match &e.route {
        Some(route) if route == "-" => out.push_str("route: none matched, the whole pool\n"),
        Some(route) => {
            let _ = writeln!(out, "route: {route}");
        }
        None => {}
    }
    if let Some(error) = &e.error {
        let _ = writeln!(out, "plan: none: {error}");
        return out.trim_end().to_owned();
    }
    out.push_str("plan:\n");
    for (i, step) in e.plan.iter().enumerate() {
        let state = if step.state == "cooling_down" {
            format!("cooling down ({}s left)", step.cooldown_remaining_s.ceil())
        } else {
            step.state.clone()
        };
        let _ = writeln!(
            out,
            "  {}. {} (model {}) {state}{}",
            i + 1,
            step.provider,
            step.model,
            if step.fallback { ", fallback" } else { "" }
        );
    }
    out.trim_end().to_owned()
}
