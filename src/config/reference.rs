//! The configuration reference: every key of `providers.yaml`, with its default and meaning.
//!
//! These tables are the one source of the README's "Provider keys", "Client keys", "Settings"
//! and route keys tables and of the `claude-lb-config(5)` man page: tests check that the README
//! holds exactly [`provider_table`], [`client_table`], [`settings_table`] and [`route_table`],
//! and that the keys listed are the keys the loader accepts, so the documentation cannot drift from the code.

use std::fmt::Write as _;

/// One documented key.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub name: &'static str,
    pub required: bool,
    /// Empty when there is none to show.
    pub default: &'static str,
    /// Markdown: `code` in backticks.
    pub meaning: &'static str,
}

const fn key(
    name: &'static str,
    required: bool,
    default: &'static str,
    meaning: &'static str,
) -> Key {
    Key {
        name,
        required,
        default,
        meaning,
    }
}

/// The keys of one item of `providers:`.
pub const PROVIDER: &[Key] = &[
    key(
        "name",
        true,
        "",
        "Unique name, letters, digits, `_`, `.` and `-` only.",
    ),
    key(
        "type",
        true,
        "",
        "`anthropic` (requests pass through unchanged) or `openai` (Chat Completions; requests and answers are translated).",
    ),
    key(
        "auth_type",
        true,
        "",
        "`api_key` or `auth_token`: how the key is sent (see the table below; type `openai` always sends `Authorization: Bearer`).",
    ),
    key(
        "auth_value",
        true,
        "",
        "The key or token (or give `auth_value_file` instead): a literal, or `${VAR}` / `${VAR:-default}` read from the environment when the config is loaded. An unset `${VAR}` makes this provider unusable (a warning), not the file invalid.",
    ),
    key(
        "auth_value_file",
        false,
        "",
        "Instead of `auth_value`: the absolute path of a file holding the key (a systemd credential, a Docker secret such as `/run/secrets/anthropic_key`); may use `${VAR}` (`${CREDENTIALS_DIRECTORY}/anthropic_key`). Trailing line breaks are dropped. A file writable by every user is refused; one readable by group or others gets a warning (`chmod 600`). Read when the config is loaded, so a changed key takes effect on reload.",
    ),
    key(
        "base_url",
        false,
        "`https://api.anthropic.com` for `anthropic`, `https://api.openai.com/v1` for `openai`",
        "An `http` or `https` URL, without query or credentials. A trailing `/` is removed. May use `${VAR}`. An `https` provider's certificate must be signed by one of the web PKI roots built into the binary, or by an authority in the file `SSL_CERT_FILE` names; HTTP/2 is used where its server offers it.",
    ),
    key(
        "enabled",
        false,
        "`true`",
        "A disabled provider is kept in the file but gets no requests.",
    ),
    key(
        "weight",
        false,
        "`1`",
        "A whole number of at least 1, used by the `weighted` strategy.",
    ),
    key(
        "max_tokens",
        false,
        "none",
        "A whole number of at least 1: the largest `max_tokens` sent to this provider (larger requests are capped). For `type: anthropic` the cap is applied by a byte splice of the top-level `max_tokens` value, like the model rename: the rest of the body is unchanged.",
    ),
    key(
        "models",
        false,
        "none",
        "Client model pattern → this provider's model name, first match in file order wins; `*` matches any run of characters. A provider with a `models` map serves only the models that match; one without serves every model under its own name.",
    ),
    key(
        "health_check",
        false,
        "`models`",
        "How the background health check probes this provider: `models` (lists its models: free, proves the address and the key; a provider without a model list gets no verdict from it), `messages` (a Messages request with `max_tokens: 1`: proves the model answers, costs a token) or `off`.",
    ),
    key(
        "headers",
        false,
        "none",
        "Extra headers sent to this provider on every request; values may use `${VAR}`. `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Authorization` and `x-api-key` are set by claude-lb and refused here.",
    ),
    key(
        "pricing",
        false,
        "none",
        "USD per million tokens for the usage ledger's cost, per pattern of the model sent upstream (first match wins): `\"deepseek/*\": { input: 0.27, output: 1.10, cache_read: 0.07, cache_write: 0.27 }`; `input` and `output` are required, a missing cache price counts as the input price. Wins over the built-in prices of Anthropic models; a model with no price gets no cost (not zero).",
    ),
];

/// The keys of `settings:`, all optional.
pub const SETTINGS: &[Key] = &[
    key(
        "listen",
        false,
        "`127.0.0.1:8080`",
        "Address and port `serve` listens on (`localhost:PORT`, `:PORT` and `PORT` mean 127.0.0.1).",
    ),
    key(
        "strategy",
        false,
        "`priority`",
        "`priority` (first healthy provider in file order), `round_robin`, `weighted` (by `weight`) or `latency`.",
    ),
    key(
        "failure_cooldown",
        false,
        "`60`",
        "How long a failed provider is skipped.",
    ),
    key(
        "request_timeout",
        false,
        "`30`",
        "How long a streaming request waits for a provider's response headers and first content event; past it, the request fails over. A non-streaming request waits this long for the headers, then, if the provider is still working, for the whole answer's own deadline (see [Which failures are re-sent](#which-failures-are-re-sent)).",
    ),
    key(
        "stream_idle_timeout",
        false,
        "`120`",
        "Silence mid-stream before the stream counts as failed. SSE comments (`: keep-alive`, `: OPENROUTER PROCESSING`) are silence: the client does not see them, so a translated stream gets pings meanwhile, and a provider that sends only comments cannot hold a stream open for ever.",
    ),
    key(
        "resend_timed_out_answers",
        false,
        "`false`",
        "`true` or `false`. When a non-streaming answer misses its deadline after the request was sent, `false` reports it to the client (a 504 `timeout_error`) without cooling the provider down; `true` sends the request to the next provider and cools the slow one down, which may pay for the answer twice.",
    ),
    key(
        "log_level",
        false,
        "`info`",
        "`trace`, `debug`, `info`, `warn` or `error`, in any case (`DEBUG` works).",
    ),
    key(
        "log_format",
        false,
        "`text`",
        "`text` (one readable line per event) or `json` (one JSON object per line: `timestamp`, `level`, `message` and the event's fields); `serve --log-format` wins over it.",
    ),
    key(
        "admin_token",
        false,
        "none",
        "A token the admin routes (`/providers`, `/providers/reload`, `/metrics` and the other admin routes) require as `Authorization: Bearer`; literal or `${VAR}` (an unset variable is an error). Without it they answer loopback clients only. `--remote` commands send it from `--admin-token` or `CLAUDE_LB_ADMIN_TOKEN`.",
    ),
    key(
        "shared_state",
        false,
        "none",
        "`redis://HOST:PORT/DB` (`rediss://` for TLS, verified against the system's CA roots, or the file `SSL_CERT_FILE` names; a password as `redis://:${VAR}@HOST`): several replicas share provider health, cooldowns, session affinity, client limits and budget counters through this Redis. Without it all state is in this process. Redis away: each replica goes on with its own state. Read at start.",
    ),
    key(
        "shared_state_wait",
        false,
        "`5ms`",
        "The longest a request waits for the shared state (a client's limits, a session this replica has not seen) before deciding from this replica's own state; at most `1s`. Raise it for a Redis farther away than the local network. Read at start.",
    ),
    key(
        "allow_unauthenticated_public",
        false,
        "`false`",
        "`true` lets `serve` listen on an address other machines reach without `clients:` (a warning); otherwise that is an error, for `settings.listen`, `--listen` and `CLAUDE_LB_LISTEN` alike.",
    ),
    key(
        "max_connections",
        false,
        "`4096`",
        "Client connections served at once; more wait in the accept queue (not refused). Read at start.",
    ),
    key(
        "header_read_timeout",
        false,
        "`30`",
        "How long a client may take to send its request headers, and how long a new connection may stay silent, before it is closed. Read at start.",
    ),
    key(
        "allowed_origins",
        false,
        "none",
        "Browser origins (`https://dash.example.com`) whose requests are served. Any request with another `Origin` header is refused (403): browsers send one, Claude Code and the SDKs do not.",
    ),
    key(
        "allowed_hosts",
        false,
        "none",
        "Host names, besides `localhost` and IP addresses, that a request's `Host` may name (the name clients use in `ANTHROPIC_BASE_URL`, such as `lb.internal`); other names are refused (403), which stops DNS rebinding.",
    ),
    key(
        "affinity",
        false,
        "`session`",
        "`session`: the requests of one Claude Code session (its `x-claude-code-session-id` header, else the `session_id` in `metadata.user_id`) go to the provider that answered its last request while that provider is available, so its prompt cache keeps working; `none`: every request is planned by the strategy alone.",
    ),
    key(
        "affinity_ttl",
        false,
        "`1h`",
        "How long after a session's last request its provider is forgotten (at most 100,000 sessions are remembered, the least recently used dropped first).",
    ),
    key(
        "health_check.interval",
        false,
        "`30s`",
        "Time between two background checks of a provider that is cooling down (and, with `idle_providers`, of an idle one); `0` turns the checks off.",
    ),
    key(
        "health_check.timeout",
        false,
        "`10s`",
        "How long one check may take before it counts as failed.",
    ),
    key(
        "health_check.idle_providers",
        false,
        "`false`",
        "`true`: also check available providers that had no request for an interval, so one that broke while idle goes into cooldown before a user's request finds it.",
    ),
    key(
        "usage",
        false,
        "`{ store: sqlite, retention: 90d }`",
        "The usage ledger (one row per Messages request; see `claude-lb usage`). `store`: `sqlite` (the file `usage.db` in the user's data directory, `~/.local/share/claude-lb` on Linux), the absolute path of an SQLite file, a PostgreSQL URL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`, which several replicas can write together; `${VAR}` inside it is read from the environment, percent-encoded; no TLS yet, so `sslmode=require` is refused), or `off`. `retention`: rows older than this are deleted, once a day (a duration such as `90d`).",
    ),
];

/// The keys of one item of `clients:`.
pub const CLIENT: &[Key] = &[
    key(
        "name",
        true,
        "",
        "Unique name, letters, digits, `_`, `.` and `-` only; shown in logs and `/metrics`, never the key.",
    ),
    key(
        "key_sha256",
        false,
        "",
        "The SHA-256 of the client's key, as 64 hexadecimal digits: what `claude-lb clients add` writes. Give this or `key`.",
    ),
    key(
        "key",
        false,
        "",
        "Instead of `key_sha256`: the key itself, literal or `${VAR}` (an unset variable is an error). Only its SHA-256 is kept in memory.",
    ),
    key(
        "providers",
        false,
        "all",
        "The providers this client may reach, by name (`[deepseek, local]`); the others are never tried for it.",
    ),
    key(
        "models",
        false,
        "any",
        "The model patterns this client may request (`[\"claude-*haiku*\"]`); another model gets 403 `permission_error`.",
    ),
    key(
        "max_concurrent",
        false,
        "none",
        "Requests in flight at once (a stream counts until it ends or its client goes away); one more gets 429 with `retry-after`.",
    ),
    key(
        "requests_per_minute",
        false,
        "none",
        "Requests a minute; the whole minute's allowance may come at once, then one more each 1/N minute. One more gets 429 with `retry-after`.",
    ),
    key(
        "budget",
        false,
        "none",
        "Spending limits counted from the usage ledger (so they survive a restart): `{ usd_per_month: 200, tokens_per_day: 20000000 }`, either or both; months and days are UTC, tokens are input, output and cached ones together, dollars the ledger's estimated cost. A client past one gets 402 `billing_error` saying which budget, how much was spent and when it resets, and no provider is contacted. Needs the ledger (`settings.usage.store` not `off`).",
    ),
];

/// The keys of one item of `routes:`; `when.*` are its conditions, which must all hold.
pub const ROUTE: &[Key] = &[
    key(
        "name",
        true,
        "",
        "Unique name, letters, digits, `_`, `.` and `-` only; shown in the request's log line, in `/metrics` (`claude_lb_route_requests_total`) and by `claude-lb route explain`.",
    ),
    key(
        "when",
        false,
        "no condition",
        "The conditions below; all must hold. No condition matches every request: only sensible on the last route (a warning otherwise).",
    ),
    key(
        "when.model",
        false,
        "",
        "A pattern of the client's model name, as in `models` (`\"claude-*haiku*\"`). Reads nothing of the body beyond the model.",
    ),
    key(
        "when.min_input_tokens",
        false,
        "",
        "The request's input tokens, estimated with the local tokenizer, are at least this many. A request whose length in bytes is below it is never tokenized; others are, off the async workers.",
    ),
    key(
        "when.thinking",
        false,
        "",
        "`true`: the request's `thinking` is present and not `disabled` (Claude Code's `adaptive` counts); `false`: the others.",
    ),
    key(
        "when.tool",
        false,
        "",
        "A pattern matched against the name and the type of each tool the request declares (`\"web_search*\"`).",
    ),
    key(
        "when.header",
        false,
        "",
        "`{NAME: PATTERN}`: a request header whose value matches the pattern.",
    ),
    key(
        "providers",
        true,
        "",
        "The providers this route sends to, each a provider's `name`; the strategy orders them, and failover and cooldown work as everywhere else.",
    ),
    key(
        "model",
        false,
        "none",
        "The model sent to the route's providers, instead of what their `models` maps say.",
    ),
    key(
        "fallback",
        false,
        "`none`",
        "`any`: when every provider of the route has failed, try the rest of the pool (each with its own `models` map).",
    ),
];

/// The README's "Route keys" table.
pub fn route_table() -> String {
    item_table(ROUTE)
}

/// The README's "Provider keys" table.
pub fn provider_table() -> String {
    item_table(PROVIDER)
}

/// The README's "Client keys" table.
pub fn client_table() -> String {
    item_table(CLIENT)
}

/// A table of the keys of a list item, with a "required" column.
fn item_table(keys: &[Key]) -> String {
    let mut out =
        String::from("| key | required | default | meaning |\n| --- | --- | --- | --- |\n");
    for k in keys {
        let default = if k.default.is_empty() {
            " ".to_owned()
        } else {
            format!(" {} ", k.default)
        };
        let _ = writeln!(
            out,
            "| `{}` | {} |{default}| {} |",
            k.name,
            if k.required { "yes" } else { "no" },
            k.meaning
        );
    }
    out
}

/// The README's "Settings" table.
pub fn settings_table() -> String {
    let mut out = String::from("| key | default | meaning |\n| --- | --- | --- |\n");
    for k in SETTINGS {
        let _ = writeln!(out, "| `{}` | {} | {} |", k.name, k.default, k.meaning);
    }
    out
}

/// Markdown text as roff: `code` in bold, and the characters roff would read as commands
/// escaped.
pub fn roff_text(markdown: &str) -> String {
    let escaped = markdown.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::new();
    let mut bold = false;
    for c in escaped.chars() {
        if c == '`' {
            out.push_str(if bold { "\\fR" } else { "\\fB" });
            bold = !bold;
        } else {
            out.push(c);
        }
    }
    if out.starts_with(['.', '\'']) {
        out.insert_str(0, "\\&");
    }
    out
}

/// The keys of a list item as man page paragraphs, each marked required or optional.
fn man_items(out: &mut String, keys: &[Key]) {
    for k in keys {
        let _ = writeln!(
            out,
            ".TP\n\\fB{}\\fR ({}{})\n{}",
            roff_text(k.name),
            if k.required { "required" } else { "optional" },
            if k.default.is_empty() {
                String::new()
            } else {
                format!(", default {}", roff_text(k.default))
            },
            roff_text(k.meaning)
        );
    }
}

/// The `claude-lb-config(5)` man page.
pub fn man_page(version: &str) -> String {
    let mut out = format!(
        ".TH claude-lb-config 5 \"claude-lb-config {version}\"\n.SH NAME\nclaude\\-lb\\-config \\- the claude\\-lb configuration file, providers.yaml\n.SH DESCRIPTION\n{}\n",
        roff_text(
            "A YAML file with the top-level keys `providers:`, a list of providers (the first is tried first by the `priority` strategy), `settings:`, and optionally `clients:`, who may send requests, and `routes:`, the routing rules (the first that matches a request decides its providers). `claude-lb config validate` reports every problem of a file at once, each as `FILE:LINE:COL: field.path: message`."
        )
    );
    out.push_str(".SH PROVIDER KEYS\n");
    man_items(&mut out, PROVIDER);
    let _ = writeln!(
        out,
        ".SH CLIENT KEYS\n{}",
        roff_text(
            "`clients:` is optional. Without it, every request is served (for a loopback, single-user setup); with it, every request to the API routes must carry one of the keys as `x-api-key` or `Authorization: Bearer`."
        )
    );
    man_items(&mut out, CLIENT);
    out.push_str(".SH ROUTE KEYS\n");
    for k in ROUTE {
        let _ = writeln!(
            out,
            ".TP\n\\fB{}\\fR ({})\n{}",
            roff_text(k.name),
            if k.required { "required" } else { "optional" },
            roff_text(k.meaning)
        );
    }
    out.push_str(".SH SETTINGS\nAll optional.\n");
    for k in SETTINGS {
        let _ = writeln!(
            out,
            ".TP\n\\fB{}\\fR (default {})\n{}",
            roff_text(k.name),
            roff_text(k.default),
            roff_text(k.meaning)
        );
    }
    let _ = writeln!(
        out,
        ".PP\n{}",
        roff_text(
            "Durations are a number of seconds (`60`, `2.5`) or text with units `ms`, `s`, `m`, `h` (`\"90s\"`, `\"2m\"`, `\"1h30m\"`)."
        )
    );
    let _ = writeln!(
        out,
        ".SH FILES\n{}",
        roff_text(
            "The first of: `--config PATH`, `$CLAUDE_LB_CONFIG`, `./providers.yaml`, `$XDG_CONFIG_HOME/claude-lb/providers.yaml` (`~/.config/claude-lb/providers.yaml`)."
        )
    );
    out.push_str(".SH EXAMPLE\n.nf\nproviders:\n  \\- name: anthropic\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${ANTHROPIC_API_KEY}\"\n  \\- name: deepseek\n    type: anthropic\n    auth_type: api_key\n    auth_value: \"${DEEPSEEK_API_KEY}\"\n    base_url: https://api.deepseek.com/anthropic\nsettings:\n  strategy: priority\n  failure_cooldown: 60\n.fi\n");
    out.push_str(
        ".SH SEE ALSO\n\\fBclaude\\-lb\\fR(1), \\fBclaude\\-lb\\-config\\-validate\\fR(1)\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::{
        ROUTE_KEYS, client_keys, health_check_keys, provider_keys, settings_keys, when_keys,
    };

    #[test]
    fn every_key_the_loader_accepts_is_documented_once() {
        let names = |keys: &[Key]| keys.iter().map(|k| k.name).collect::<Vec<_>>();
        let mut documented = names(PROVIDER);
        let mut accepted = provider_keys();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
        let mut documented = names(ROUTE);
        let mut accepted: Vec<String> = ROUTE_KEYS.iter().map(|k| (*k).to_owned()).collect();
        accepted.extend(when_keys().iter().map(|k| format!("when.{k}")));
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
        let mut documented = names(SETTINGS);
        // A nested section is documented key by key, as `section.key`.
        let mut accepted: Vec<String> = settings_keys()
            .into_iter()
            .filter(|k| *k != "health_check")
            .map(str::to_owned)
            .chain(
                health_check_keys()
                    .into_iter()
                    .map(|k| format!("health_check.{k}")),
            )
            .collect();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
        let mut documented = names(CLIENT);
        let mut accepted = client_keys();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
    }

    #[test]
    fn the_readme_holds_the_generated_tables() {
        let readme = include_str!("../../README.md");
        for table in [
            provider_table(),
            client_table(),
            settings_table(),
            route_table(),
        ] {
            assert!(
                readme.contains(&table),
                "README.md must contain this table exactly (it is generated from src/config/reference.rs):\n{table}"
            );
        }
    }

    #[test]
    fn the_documented_base_urls_are_the_defaults() {
        use crate::config::validate::default_base_url;
        use crate::core::provider::ProviderKind;
        let base_url = PROVIDER.iter().find(|k| k.name == "base_url").unwrap();
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
            let documented = format!("`{}` for `{}`", default_base_url(kind), kind.as_str());
            assert!(base_url.default.contains(&documented), "{documented}");
        }
    }

    #[test]
    fn roff_text_bolds_code_and_escapes() {
        assert_eq!(roff_text("a `b-c` \\d"), "a \\fBb\\-c\\fR \\ed");
        assert_eq!(roff_text(".x"), "\\&.x");
    }
}
