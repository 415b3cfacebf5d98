# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_claude_lb_global_optspecs
    string join \n config= v/verbose q/quiet h/help V/version
end

function __fish_claude_lb_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_claude_lb_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_claude_lb_using_subcommand
    set -l cmd (__fish_claude_lb_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c claude-lb -n "__fish_claude_lb_needs_command" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_needs_command" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "serve" -d 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "mock" -d 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "check" -d 'Probe every enabled provider with a minimal real request and report which work'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "providers" -d 'List, add, remove, enable or disable providers; or show a running instance\'s providers'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "clients" -d 'Add, list or remove the clients allowed to send requests, each with its own key'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "test" -d 'Send one real request through the pool (or a running instance) and show the answer'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "demo" -d 'Run the proxy in front of three simulated providers: a tour with no key and no config'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "config" -d 'Check or create the configuration file'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "route" -d 'Show which routing rule a request matches, and why'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "code" -d 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "env" -d 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "health" -d 'Exit 0 when the claude-lb at the configured address answers with a provider available'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "top" -d 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "usage" -d 'Show where tokens and money went: requests, failures, tokens and cost per group'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -l listen -d 'Listen on this address instead of `settings.listen` (default 127.0.0.1:8080); without it, `CLAUDE_LB_LISTEN` is used when set. `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -l log-format -d 'Write log lines as `text` or `json` (one object per line), instead of `settings.log_format`' -r -f -a "text\t''
json\t''"
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l type -d 'Which API to simulate: anthropic or openai' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l listen -d 'Where to listen (`PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l latency-ms -d 'Milliseconds before the response headers of every answer' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l event-gap-ms -d 'Milliseconds between streamed events' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l fail-rate -d 'Share of requests that fail (529/503, 429 with retry-after, cut streams), 0 to 1' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l seed -d 'Seed of the fault sequence, for a repeatable run' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -l provider -d 'Probe only this provider (by its `name`)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -l json -d 'Print one JSON document (an array, one object per provider) instead of a table'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand check" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "list" -d 'List the providers of the config file, or with `--remote` their live state'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "add" -d 'Add a provider: a step-by-step wizard, or fully scripted with flags'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "remove" -d 'Remove a provider from the config file'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "enable" -d 'Enable a provider (`enabled: true`)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "disable" -d 'Disable a provider (`enabled: false`) without removing it'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and not __fish_seen_subcommand_from list add remove enable disable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -l remote -d 'Show the live state of a running `claude-lb serve` at this URL instead of the config file (availability, cooldowns, failures, latency)' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -l admin-token -d 'The instance\'s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document (an array, one object per provider) instead of a table'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l name -d 'The provider\'s name: letters, digits, `_`, `.` and `-`' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l type -d 'Which API the provider speaks' -r -f -a "anthropic\t'The Anthropic Messages API (the official API or an Anthropic-compatible relay)'
openai\t'An OpenAI-compatible Chat Completions API (translated)'"
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l auth-type -d 'How the credential is sent (default `api_key`)' -r -f -a "api_key\t'`x-api-key` for type anthropic (type openai always sends `Authorization: Bearer`)'
auth_token\t'`Authorization: Bearer`, for Anthropic-compatible relays'"
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l auth-value -d 'The key or token itself, stored in plain text in the config (prefer --auth-env)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l auth-env -d 'The environment variable holding the key, read when the config is loaded (stored as `${VAR}`)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l base-url -d 'The provider\'s base URL (default `https://api.anthropic.com` for type anthropic, `https://api.openai.com/v1` for type openai)' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l model -d 'Map client models matching PATTERN (`*` matches anything) to MODEL; repeat, first match wins' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l weight -d 'The weight for the `weighted` strategy (default 1)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l disabled -d 'Add the provider disabled (`enabled: false`)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -l probe -d 'Send a real minimal request to the provider before saving; do not save if it fails'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -s y -l yes -d 'Do not ask for confirmation before writing'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from remove" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from enable" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from disable" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the providers of the config file, or with `--remote` their live state'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a provider: a step-by-step wizard, or fully scripted with flags'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a provider from the config file'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Enable a provider (`enabled: true`)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Disable a provider (`enabled: false`) without removing it'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand providers; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Add a client: print a new random key once and write only its SHA-256 to the config'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List the clients of the config file (never their keys)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Remove a client from the config file (its key stops working)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -l providers -d 'The providers this client may reach, by name, comma-separated (default: all)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -l models -d 'The model patterns it may request (`*` matches anything), comma-separated (default: any)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -l rpm -d 'The most requests it may send per minute (default: no limit)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -l max-concurrent -d 'The most requests it may have in flight at once (default: no limit)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -s y -l yes -d 'Do not ask for confirmation before writing'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document (an array, one object per client) instead of a table'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from remove" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a client: print a new random key once and write only its SHA-256 to the config'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the clients of the config file (never their keys)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a client from the config file (its key stops working)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand clients; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l provider -d 'Send only to this provider (by its `name`), as if it were the only one enabled' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l model -d 'The client model to ask for (default: claude-sonnet-5-5 when the pool serves it)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l remote -d 'Send the request through a running `claude-lb serve` at this URL' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l client-key -d 'With `--remote`: the client key to send as `x-api-key`, for an instance with `clients:`' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l no-stream -d 'Ask for the whole answer at once (`stream: false`) instead of a stream'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -l json -d 'Print one JSON document at the end instead of the streamed text and footer'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand test" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -l listen -d 'Listen on this address (port 0 picks a free one; `PORT`, `:PORT` and `localhost:PORT` mean 127.0.0.1:PORT)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -l requests -d 'Send N requests through the proxy, show each one, print a summary and exit' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -l interval-ms -d 'Milliseconds to wait between two of the demo\'s requests' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -f -a "validate" -d 'Load the config exactly as `serve` would and report every problem at once'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -f -a "init" -d 'Write a commented starter config to the default path (never overwrites)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and not __fish_seen_subcommand_from validate init help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -l json -d 'Print the report as one JSON document: `file`, `valid`, `providers`, `enabled`, and `errors` and `warnings` as lists of `{line, column, path, message}`'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from init" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from init" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from init" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Load the config exactly as `serve` would and report every problem at once'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a commented starter config to the default path (never overwrites)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -f -a "explain" -d 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and not __fish_seen_subcommand_from explain help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -s H -l header -d 'A request header the rules may read, as `NAME: VALUE` (repeatable)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -l remote -d 'Ask a running `claude-lb serve` at this URL instead of reading the config file' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -l admin-token -d 'The instance\'s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -l json -d 'Print one JSON document instead of text'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from explain" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from help" -f -a "explain" -d 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand route; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -l claude -d 'The Claude Code executable (default: `claude` on PATH)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -l listen -d 'Use (or start) claude-lb on this address instead of `settings.listen`' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -l client-key -d 'The key Claude Code sends to claude-lb (`ANTHROPIC_API_KEY`), when clients need one' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand code" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -l shell -d 'The syntax to print: bash, zsh, fish or powershell' -r -f -a "bash\t''
zsh\t''
fish\t''
powershell\t''"
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -l listen -d 'Point at this address instead of `settings.listen`' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -l client-key -d 'Also set `ANTHROPIC_API_KEY` to this key (when clients need one)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand env" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -l listen -d 'Ask the instance on this address instead of `settings.listen`' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand health" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -l remote -d 'The running instance to watch (default: the configured `listen` address)' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -l interval -d 'How often to ask the instance, from 100ms to 1m' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -l admin-token -d 'The instance\'s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand top" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l since -d 'From when: a duration back from now (24h, 7d) or a UTC date (2026-12-01)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l until -d 'Up to when (default: now): a duration back from now or a UTC date' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l by -d 'Group by provider, model, client, route, day or hour (several: comma-separated or repeated)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l remote -d 'Ask a running `claude-lb serve` at this URL (`GET /usage`) instead of reading the ledger file' -r -f
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l admin-token -d 'The instance\'s admin token (`settings.admin_token`), sent as `Authorization: Bearer`; without it, an instance answers its admin routes to loopback clients only' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -l json -d 'Print one JSON document (as `GET /usage` answers) instead of a table'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand usage" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "serve" -d 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "mock" -d 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "check" -d 'Probe every enabled provider with a minimal real request and report which work'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "providers" -d 'List, add, remove, enable or disable providers; or show a running instance\'s providers'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "clients" -d 'Add, list or remove the clients allowed to send requests, each with its own key'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "test" -d 'Send one real request through the pool (or a running instance) and show the answer'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "demo" -d 'Run the proxy in front of three simulated providers: a tour with no key and no config'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "config" -d 'Check or create the configuration file'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "route" -d 'Show which routing rule a request matches, and why'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "code" -d 'Run Claude Code pointed at claude-lb, starting `serve` for as long as it runs if needed'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "env" -d 'Print the lines that point a shell at claude-lb: eval "$(claude-lb env)"'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "health" -d 'Exit 0 when the claude-lb at the configured address answers with a provider available'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "top" -d 'Watch a running instance live: providers, cooldowns, traffic, latency, failovers'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "usage" -d 'Show where tokens and money went: requests, failures, tokens and cost per group'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock check providers clients test demo config route code env health top usage completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from providers" -f -a "list" -d 'List the providers of the config file, or with `--remote` their live state'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from providers" -f -a "add" -d 'Add a provider: a step-by-step wizard, or fully scripted with flags'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from providers" -f -a "remove" -d 'Remove a provider from the config file'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from providers" -f -a "enable" -d 'Enable a provider (`enabled: true`)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from providers" -f -a "disable" -d 'Disable a provider (`enabled: false`) without removing it'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from clients" -f -a "add" -d 'Add a client: print a new random key once and write only its SHA-256 to the config'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from clients" -f -a "list" -d 'List the clients of the config file (never their keys)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from clients" -f -a "remove" -d 'Remove a client from the config file (its key stops working)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "validate" -d 'Load the config exactly as `serve` would and report every problem at once'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a commented starter config to the default path (never overwrites)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from route" -f -a "explain" -d 'Read a request body and show the facts read, each rule and why it matches or not, and the plan: each provider in order with its state'
