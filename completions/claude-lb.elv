
use builtin;
use str;

set edit:completion:arg-completer[claude-lb] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'claude-lb'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'claude-lb'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`'
            cand mock 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks'
            cand check 'Probe every enabled provider with a minimal real request and report which work'
            cand providers 'List, add, remove, enable or disable providers; or show a running instance''s providers'
            cand clients 'Add, list or remove the clients allowed to send requests, each with its own key'
            cand test 'Send one real request through the pool (or a running instance) and show the answer'
            cand demo 'Run the proxy in front of three simulated providers: a tour with no key and no config'
            cand config 'Check or create the configuration file'
            cand route 'Show which routing rule a request matches, and why'
            cand code 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed'
            cand env 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"'
            cand health 'Exit 0 when the claude-lb at the configured address answers with a provider available'
            cand top 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers'
            cand usage 'Show where tokens and money went: requests, failures, tokens and cost per group'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;serve'= {
            cand --listen 'Listen on this address instead of `settings.listen` (default 127.0.0.1:8080); without it, `CLAUDE_LB_LISTEN` is used when set. `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT'
            cand --log-format 'Write log lines as `text` or `json` (one object per line), instead of `settings.log_format`'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;mock'= {
            cand --type 'Which API to simulate: anthropic or openai'
            cand --listen 'Where to listen (`PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)'
            cand --latency-ms 'Milliseconds before the response headers of every answer'
            cand --event-gap-ms 'Milliseconds between streamed events'
            cand --fail-rate 'Share of requests that fail (529/503, 429 with retry-after, cut streams), 0 to 1'
            cand --seed 'Seed of the fault sequence, for a repeatable run'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;check'= {
            cand --provider 'Probe only this provider (by its `name`)'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print one JSON document (an array, one object per provider) instead of a table'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List the providers of the config file, or with `--remote` their live state'
            cand add 'Add a provider: a step-by-step wizard, or fully scripted with flags'
            cand remove 'Remove a provider from the config file'
            cand enable 'Enable a provider (`enabled: true`)'
            cand disable 'Disable a provider (`enabled: false`) without removing it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;providers;list'= {
            cand --remote 'Show the live state of a running `claude-lb serve` at this URL instead of the config file (availability, cooldowns, failures, latency)'
            cand --admin-token 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print one JSON document (an array, one object per provider) instead of a table'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers;add'= {
            cand --name 'The provider''s name: letters, digits, `_`, `.` and `-`'
            cand --type 'Which API the provider speaks'
            cand --auth-type 'How the credential is sent (default `api_key`)'
            cand --auth-value 'The key or token itself, stored in plain text in the config (prefer --auth-env)'
            cand --auth-env 'The environment variable holding the key, read when the config is loaded (stored as `${VAR}`)'
            cand --base-url 'The provider''s base URL (default `https://api.anthropic.com` for type anthropic, `https://api.openai.com/v1` for type openai)'
            cand --model 'Map client models matching PATTERN (`*` matches anything) to MODEL; repeat, first match wins'
            cand --weight 'The weight for the `weighted` strategy (default 1)'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --disabled 'Add the provider disabled (`enabled: false`)'
            cand --probe 'Send a real minimal request to the provider before saving; do not save if it fails'
            cand -y 'Do not ask for confirmation before writing'
            cand --yes 'Do not ask for confirmation before writing'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers;remove'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers;enable'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers;disable'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;providers;help'= {
            cand list 'List the providers of the config file, or with `--remote` their live state'
            cand add 'Add a provider: a step-by-step wizard, or fully scripted with flags'
            cand remove 'Remove a provider from the config file'
            cand enable 'Enable a provider (`enabled: true`)'
            cand disable 'Disable a provider (`enabled: false`) without removing it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;providers;help;list'= {
        }
        &'claude-lb;providers;help;add'= {
        }
        &'claude-lb;providers;help;remove'= {
        }
        &'claude-lb;providers;help;enable'= {
        }
        &'claude-lb;providers;help;disable'= {
        }
        &'claude-lb;providers;help;help'= {
        }
        &'claude-lb;clients'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a client: print a new random key once and write only its SHA-256 to the config'
            cand list 'List the clients of the config file (never their keys)'
            cand remove 'Remove a client from the config file (its key stops working)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;clients;add'= {
            cand --providers 'The providers this client may reach, by name, comma-separated (default: all)'
            cand --models 'The model patterns it may request (`*` matches anything), comma-separated (default: any)'
            cand --rpm 'The most requests it may send per minute (default: no limit)'
            cand --max-concurrent 'The most requests it may have in flight at once (default: no limit)'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -y 'Do not ask for confirmation before writing'
            cand --yes 'Do not ask for confirmation before writing'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;clients;list'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print one JSON document (an array, one object per client) instead of a table'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;clients;remove'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;clients;help'= {
            cand add 'Add a client: print a new random key once and write only its SHA-256 to the config'
            cand list 'List the clients of the config file (never their keys)'
            cand remove 'Remove a client from the config file (its key stops working)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;clients;help;add'= {
        }
        &'claude-lb;clients;help;list'= {
        }
        &'claude-lb;clients;help;remove'= {
        }
        &'claude-lb;clients;help;help'= {
        }
        &'claude-lb;test'= {
            cand --provider 'Send only to this provider (by its `name`), as if it were the only one enabled'
            cand --model 'The client model to ask for (default: claude-sonnet-5-5 when the pool serves it)'
            cand --remote 'Send the request through a running `claude-lb serve` at this URL'
            cand --client-key 'With `--remote`: the client key to send as `x-api-key`, for an instance with `clients:`'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --no-stream 'Ask for the whole answer at once (`stream: false`) instead of a stream'
            cand --json 'Print one JSON document at the end instead of the streamed text and footer'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;demo'= {
            cand --listen 'Listen on this address (port 0 picks a free one; `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)'
            cand --requests 'Send N requests through the proxy, show each one, print a summary and exit'
            cand --interval-ms 'Milliseconds to wait between two of the demo''s requests'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;config'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Load the config exactly as `serve` would and report every problem at once'
            cand init 'Write a commented starter config to the default path (never overwrites)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;config;validate'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print the report as one JSON document: `file`, `valid`, `providers`, `enabled`, and `errors` and `warnings` as lists of `{line, column, path, message}`'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;config;init'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;config;help'= {
            cand validate 'Load the config exactly as `serve` would and report every problem at once'
            cand init 'Write a commented starter config to the default path (never overwrites)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;config;help;validate'= {
        }
        &'claude-lb;config;help;init'= {
        }
        &'claude-lb;config;help;help'= {
        }
        &'claude-lb;route'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand explain 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;route;explain'= {
            cand -H 'A request header the rules may read, as `NAME: VALUE` (repeatable)'
            cand --header 'A request header the rules may read, as `NAME: VALUE` (repeatable)'
            cand --remote 'Ask a running `claude-lb serve` at this URL instead of reading the config file'
            cand --admin-token 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print one JSON document instead of text'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;route;help'= {
            cand explain 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;route;help;explain'= {
        }
        &'claude-lb;route;help;help'= {
        }
        &'claude-lb;code'= {
            cand --claude 'The Claude Code executable (default: `claude` on PATH)'
            cand --listen 'Use (or start) claude-lb on this address instead of `settings.listen`'
            cand --client-key 'The key Claude Code sends to claude-lb (`ANTHROPIC_API_KEY`), when clients need one'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;env'= {
            cand --shell 'The syntax to print: bash, zsh, fish or powershell'
            cand --listen 'Point at this address instead of `settings.listen`'
            cand --client-key 'Also set `ANTHROPIC_API_KEY` to this key (when clients need one)'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;health'= {
            cand --listen 'Ask the instance on this address instead of `settings.listen`'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;top'= {
            cand --remote 'The running instance to watch (default: the configured `listen` address)'
            cand --interval 'How often to ask the instance, from 100ms to 1m'
            cand --admin-token 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;usage'= {
            cand --since 'From when: a duration back from now (24h, 7d) or a UTC date (2026-12-01)'
            cand --until 'Up to when (default: now): a duration back from now or a UTC date'
            cand --by 'Group by provider, model, client, route, day or hour (several: comma-separated or repeated)'
            cand --remote 'Ask a running `claude-lb serve` at this URL (`GET /usage`) instead of reading the ledger file'
            cand --admin-token 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only'
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand --json 'Print one JSON document (as `GET /usage` answers) instead of a table'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;completions'= {
            cand --config 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)'
            cand -v 'Log more (repeat for more: -v, -vv, -vvv)'
            cand --verbose 'Log more (repeat for more: -v, -vv, -vvv)'
            cand -q 'Log only errors and hide notices'
            cand --quiet 'Log only errors and hide notices'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'claude-lb;help'= {
            cand serve 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`'
            cand mock 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks'
            cand check 'Probe every enabled provider with a minimal real request and report which work'
            cand providers 'List, add, remove, enable or disable providers; or show a running instance''s providers'
            cand clients 'Add, list or remove the clients allowed to send requests, each with its own key'
            cand test 'Send one real request through the pool (or a running instance) and show the answer'
            cand demo 'Run the proxy in front of three simulated providers: a tour with no key and no config'
            cand config 'Check or create the configuration file'
            cand route 'Show which routing rule a request matches, and why'
            cand code 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed'
            cand env 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"'
            cand health 'Exit 0 when the claude-lb at the configured address answers with a provider available'
            cand top 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers'
            cand usage 'Show where tokens and money went: requests, failures, tokens and cost per group'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;help;serve'= {
        }
        &'claude-lb;help;mock'= {
        }
        &'claude-lb;help;check'= {
        }
        &'claude-lb;help;providers'= {
            cand list 'List the providers of the config file, or with `--remote` their live state'
            cand add 'Add a provider: a step-by-step wizard, or fully scripted with flags'
            cand remove 'Remove a provider from the config file'
            cand enable 'Enable a provider (`enabled: true`)'
            cand disable 'Disable a provider (`enabled: false`) without removing it'
        }
        &'claude-lb;help;providers;list'= {
        }
        &'claude-lb;help;providers;add'= {
        }
        &'claude-lb;help;providers;remove'= {
        }
        &'claude-lb;help;providers;enable'= {
        }
        &'claude-lb;help;providers;disable'= {
        }
        &'claude-lb;help;clients'= {
            cand add 'Add a client: print a new random key once and write only its SHA-256 to the config'
            cand list 'List the clients of the config file (never their keys)'
            cand remove 'Remove a client from the config file (its key stops working)'
        }
        &'claude-lb;help;clients;add'= {
        }
        &'claude-lb;help;clients;list'= {
        }
        &'claude-lb;help;clients;remove'= {
        }
        &'claude-lb;help;test'= {
        }
        &'claude-lb;help;demo'= {
        }
        &'claude-lb;help;config'= {
            cand validate 'Load the config exactly as `serve` would and report every problem at once'
            cand init 'Write a commented starter config to the default path (never overwrites)'
        }
        &'claude-lb;help;config;validate'= {
        }
        &'claude-lb;help;config;init'= {
        }
        &'claude-lb;help;route'= {
            cand explain 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
        }
        &'claude-lb;help;route;explain'= {
        }
        &'claude-lb;help;code'= {
        }
        &'claude-lb;help;env'= {
        }
        &'claude-lb;help;health'= {
        }
        &'claude-lb;help;top'= {
        }
        &'claude-lb;help;usage'= {
        }
        &'claude-lb;help;completions'= {
        }
        &'claude-lb;help;help'= {
        }
    ]
    $completions[$command]
}
