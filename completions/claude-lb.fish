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
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "demo" -d 'Run the proxy in front of three simulated providers: a tour with no key and no config'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "config" -d 'Check or create the configuration file'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c claude-lb -n "__fish_claude_lb_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -l listen -d 'Listen on this address instead of `settings.listen` (default 127.0.0.1:8080)' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand serve" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l type -d 'Which API to simulate: anthropic or openai' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l listen -d 'Where to listen' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l latency-ms -d 'Milliseconds before the response headers of every answer' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l event-gap-ms -d 'Milliseconds between streamed events' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l fail-rate -d 'Share of requests that fail (529/503, 429 with retry-after, cut streams), 0 to 1' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l seed -d 'Seed of the fault sequence, for a repeatable run' -r
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand mock" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand demo" -l listen -d 'Listen on this address (port 0 picks a free one)' -r
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
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -l config -d 'Use this config file (default: the file named by the `CLAUDE_LB_CONFIG` variable, then ./providers.yaml, then ~/.config/claude-lb/providers.yaml)' -r -F
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s v -l verbose -d 'Log more (repeat for more: -v, -vv, -vvv)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s q -l quiet -d 'Log only errors and hide notices'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s h -l help -d 'Print help'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand completions" -s V -l version -d 'Print version'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "serve" -d 'Run the proxy: Claude Code talks to it through `ANTHROPIC_BASE_URL`'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "mock" -d 'Run a simulated provider (Anthropic or OpenAI type), for rehearsals and benchmarks'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "demo" -d 'Run the proxy in front of three simulated providers: a tour with no key and no config'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "config" -d 'Check or create the configuration file'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "completions" -d 'Print the shell completion script for SHELL'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and not __fish_seen_subcommand_from serve mock demo config completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "validate" -d 'Load the config exactly as `serve` would and report every problem at once'
complete -c claude-lb -n "__fish_claude_lb_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a commented starter config to the default path (never overwrites)'
