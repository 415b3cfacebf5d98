
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'claude-lb' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'claude-lb'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'claude-lb' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`')
            [CompletionResult]::new('mock', 'mock', [CompletionResultType]::ParameterValue, 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Probe every enabled provider with a minimal real request and report which work')
            [CompletionResult]::new('providers', 'providers', [CompletionResultType]::ParameterValue, 'List, add, remove, enable or disable providers; or show a running instance''s providers')
            [CompletionResult]::new('clients', 'clients', [CompletionResultType]::ParameterValue, 'Add, list or remove the clients allowed to send requests, each with its own key')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send one real request through the pool (or a running instance) and show the answer')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the proxy in front of three simulated providers: a tour with no key and no config')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check or create the configuration file')
            [CompletionResult]::new('route', 'route', [CompletionResultType]::ParameterValue, 'Show which routing rule a request matches, and why')
            [CompletionResult]::new('code', 'code', [CompletionResultType]::ParameterValue, 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Exit 0 when the claude-lb at the configured address answers with a provider available')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Show where tokens and money went: requests, failures, tokens and cost per group')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Listen on this address instead of `settings.listen` (default 127.0.0.1:8080); without it, `CLAUDE_LB_LISTEN` is used when set. `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Write log lines as `text` or `json` (one object per line), instead of `settings.log_format`')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;mock' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Which API to simulate: anthropic or openai')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Where to listen (`PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)')
            [CompletionResult]::new('--latency-ms', '--latency-ms', [CompletionResultType]::ParameterName, 'Milliseconds before the response headers of every answer')
            [CompletionResult]::new('--event-gap-ms', '--event-gap-ms', [CompletionResultType]::ParameterName, 'Milliseconds between streamed events')
            [CompletionResult]::new('--fail-rate', '--fail-rate', [CompletionResultType]::ParameterName, 'Share of requests that fail (529/503, 429 with retry-after, cut streams), 0 to 1')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the fault sequence, for a repeatable run')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;check' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Probe only this provider (by its `name`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (an array, one object per provider) instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the providers of the config file, or with `--remote` their live state')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a provider: a step-by-step wizard, or fully scripted with flags')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a provider from the config file')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a provider (`enabled: true`)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a provider (`enabled: false`) without removing it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;providers;list' {
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Show the live state of a running `claude-lb serve` at this URL instead of the config file (availability, cooldowns, failures, latency)')
            [CompletionResult]::new('--admin-token', '--admin-token', [CompletionResultType]::ParameterName, 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (an array, one object per provider) instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The provider''s name: letters, digits, `_`, `.` and `-`')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Which API the provider speaks')
            [CompletionResult]::new('--auth-type', '--auth-type', [CompletionResultType]::ParameterName, 'How the credential is sent (default `api_key`)')
            [CompletionResult]::new('--auth-value', '--auth-value', [CompletionResultType]::ParameterName, 'The key or token itself, stored in plain text in the config (prefer --auth-env)')
            [CompletionResult]::new('--auth-env', '--auth-env', [CompletionResultType]::ParameterName, 'The environment variable holding the key, read when the config is loaded (stored as `${VAR}`)')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'The provider''s base URL (default `https://api.anthropic.com` for type anthropic, `https://api.openai.com/v1` for type openai)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Map client models matching PATTERN (`*` matches anything) to MODEL; repeat, first match wins')
            [CompletionResult]::new('--weight', '--weight', [CompletionResultType]::ParameterName, 'The weight for the `weighted` strategy (default 1)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--disabled', '--disabled', [CompletionResultType]::ParameterName, 'Add the provider disabled (`enabled: false`)')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'Send a real minimal request to the provider before saving; do not save if it fails')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before writing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before writing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers;remove' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers;enable' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers;disable' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;providers;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the providers of the config file, or with `--remote` their live state')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a provider: a step-by-step wizard, or fully scripted with flags')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a provider from the config file')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a provider (`enabled: true`)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a provider (`enabled: false`) without removing it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;providers;help;list' {
            break
        }
        'claude-lb;providers;help;add' {
            break
        }
        'claude-lb;providers;help;remove' {
            break
        }
        'claude-lb;providers;help;enable' {
            break
        }
        'claude-lb;providers;help;disable' {
            break
        }
        'claude-lb;providers;help;help' {
            break
        }
        'claude-lb;clients' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a client: print a new random key once and write only its SHA-256 to the config')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the clients of the config file (never their keys)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a client from the config file (its key stops working)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;clients;add' {
            [CompletionResult]::new('--providers', '--providers', [CompletionResultType]::ParameterName, 'The providers this client may reach, by name, comma-separated (default: all)')
            [CompletionResult]::new('--models', '--models', [CompletionResultType]::ParameterName, 'The model patterns it may request (`*` matches anything), comma-separated (default: any)')
            [CompletionResult]::new('--rpm', '--rpm', [CompletionResultType]::ParameterName, 'The most requests it may send per minute (default: no limit)')
            [CompletionResult]::new('--max-concurrent', '--max-concurrent', [CompletionResultType]::ParameterName, 'The most requests it may have in flight at once (default: no limit)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before writing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation before writing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;clients;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (an array, one object per client) instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;clients;remove' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;clients;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a client: print a new random key once and write only its SHA-256 to the config')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the clients of the config file (never their keys)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a client from the config file (its key stops working)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;clients;help;add' {
            break
        }
        'claude-lb;clients;help;list' {
            break
        }
        'claude-lb;clients;help;remove' {
            break
        }
        'claude-lb;clients;help;help' {
            break
        }
        'claude-lb;test' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Send only to this provider (by its `name`), as if it were the only one enabled')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The client model to ask for (default: claude-sonnet-5-5 when the pool serves it)')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Send the request through a running `claude-lb serve` at this URL')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'With `--remote`: the client key to send as `x-api-key`, for an instance with `clients:`')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--no-stream', '--no-stream', [CompletionResultType]::ParameterName, 'Ask for the whole answer at once (`stream: false`) instead of a stream')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document at the end instead of the streamed text and footer')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;demo' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Listen on this address (port 0 picks a free one; `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)')
            [CompletionResult]::new('--requests', '--requests', [CompletionResultType]::ParameterName, 'Send N requests through the proxy, show each one, print a summary and exit')
            [CompletionResult]::new('--interval-ms', '--interval-ms', [CompletionResultType]::ParameterName, 'Milliseconds to wait between two of the demo''s requests')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;config' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Load the config exactly as `serve` would and report every problem at once')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter config to the default path (never overwrites)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;config;validate' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON document: `file`, `valid`, `providers`, `enabled`, and `errors` and `warnings` as lists of `{line, column, path, message}`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;config;init' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;config;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Load the config exactly as `serve` would and report every problem at once')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter config to the default path (never overwrites)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;config;help;validate' {
            break
        }
        'claude-lb;config;help;init' {
            break
        }
        'claude-lb;config;help;help' {
            break
        }
        'claude-lb;route' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;route;explain' {
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'A request header the rules may read, as `NAME: VALUE` (repeatable)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'A request header the rules may read, as `NAME: VALUE` (repeatable)')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Ask a running `claude-lb serve` at this URL instead of reading the config file')
            [CompletionResult]::new('--admin-token', '--admin-token', [CompletionResultType]::ParameterName, 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document instead of text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;route;help' {
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;route;help;explain' {
            break
        }
        'claude-lb;route;help;help' {
            break
        }
        'claude-lb;code' {
            [CompletionResult]::new('--claude', '--claude', [CompletionResultType]::ParameterName, 'The Claude Code executable (default: `claude` on PATH)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Use (or start) claude-lb on this address instead of `settings.listen`')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'The key Claude Code sends to claude-lb (`ANTHROPIC_API_KEY`), when clients need one')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;env' {
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'The syntax to print: bash, zsh, fish or powershell')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Point at this address instead of `settings.listen`')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'Also set `ANTHROPIC_API_KEY` to this key (when clients need one)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;health' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Ask the instance on this address instead of `settings.listen`')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;top' {
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'The running instance to watch (default: the configured `listen` address)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'How often to ask the instance, from 100ms to 1m')
            [CompletionResult]::new('--admin-token', '--admin-token', [CompletionResultType]::ParameterName, 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;usage' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'From when: a duration back from now (24h, 7d) or a UTC date (2026-12-01)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Up to when (default: now): a duration back from now or a UTC date')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Group by provider, model, client, route, day or hour (several: comma-separated or repeated)')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Ask a running `claude-lb serve` at this URL (`GET /usage`) instead of reading the ledger file')
            [CompletionResult]::new('--admin-token', '--admin-token', [CompletionResultType]::ParameterName, 'The instance''s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document (as `GET /usage` answers) instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more (repeat for more: -v, -vv, -vvv)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Log only errors and hide notices')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'claude-lb;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`')
            [CompletionResult]::new('mock', 'mock', [CompletionResultType]::ParameterValue, 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Probe every enabled provider with a minimal real request and report which work')
            [CompletionResult]::new('providers', 'providers', [CompletionResultType]::ParameterValue, 'List, add, remove, enable or disable providers; or show a running instance''s providers')
            [CompletionResult]::new('clients', 'clients', [CompletionResultType]::ParameterValue, 'Add, list or remove the clients allowed to send requests, each with its own key')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send one real request through the pool (or a running instance) and show the answer')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run the proxy in front of three simulated providers: a tour with no key and no config')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check or create the configuration file')
            [CompletionResult]::new('route', 'route', [CompletionResultType]::ParameterValue, 'Show which routing rule a request matches, and why')
            [CompletionResult]::new('code', 'code', [CompletionResultType]::ParameterValue, 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Exit 0 when the claude-lb at the configured address answers with a provider available')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Show where tokens and money went: requests, failures, tokens and cost per group')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'claude-lb;help;serve' {
            break
        }
        'claude-lb;help;mock' {
            break
        }
        'claude-lb;help;check' {
            break
        }
        'claude-lb;help;providers' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the providers of the config file, or with `--remote` their live state')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a provider: a step-by-step wizard, or fully scripted with flags')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a provider from the config file')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a provider (`enabled: true`)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a provider (`enabled: false`) without removing it')
            break
        }
        'claude-lb;help;providers;list' {
            break
        }
        'claude-lb;help;providers;add' {
            break
        }
        'claude-lb;help;providers;remove' {
            break
        }
        'claude-lb;help;providers;enable' {
            break
        }
        'claude-lb;help;providers;disable' {
            break
        }
        'claude-lb;help;clients' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a client: print a new random key once and write only its SHA-256 to the config')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the clients of the config file (never their keys)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a client from the config file (its key stops working)')
            break
        }
        'claude-lb;help;clients;add' {
            break
        }
        'claude-lb;help;clients;list' {
            break
        }
        'claude-lb;help;clients;remove' {
            break
        }
        'claude-lb;help;test' {
            break
        }
        'claude-lb;help;demo' {
            break
        }
        'claude-lb;help;config' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Load the config exactly as `serve` would and report every problem at once')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented starter config to the default path (never overwrites)')
            break
        }
        'claude-lb;help;config;validate' {
            break
        }
        'claude-lb;help;config;init' {
            break
        }
        'claude-lb;help;route' {
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state')
            break
        }
        'claude-lb;help;route;explain' {
            break
        }
        'claude-lb;help;code' {
            break
        }
        'claude-lb;help;env' {
            break
        }
        'claude-lb;help;health' {
            break
        }
        'claude-lb;help;top' {
            break
        }
        'claude-lb;help;usage' {
            break
        }
        'claude-lb;help;completions' {
            break
        }
        'claude-lb;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
