
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
            cand demo 'Run the proxy in front of three simulated providers: a tour with no key and no config'
            cand config 'Check or create the configuration file'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;serve'= {
            cand --listen 'Listen on this address instead of `settings.listen` (default 127.0.0.1:8080)'
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
            cand --listen 'Where to listen'
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
        &'claude-lb;demo'= {
            cand --listen 'Listen on this address (port 0 picks a free one)'
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
            cand demo 'Run the proxy in front of three simulated providers: a tour with no key and no config'
            cand config 'Check or create the configuration file'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'claude-lb;help;serve'= {
        }
        &'claude-lb;help;mock'= {
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
        &'claude-lb;help;completions'= {
        }
        &'claude-lb;help;help'= {
        }
    ]
    $completions[$command]
}
