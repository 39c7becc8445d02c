# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_headroom_global_optspecs
    string join \n q/quiet v/verbose color= h/help V/version
end

function __fish_headroom_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_headroom_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_headroom_using_subcommand
    set -l cmd (__fish_headroom_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c headroom -n "__fish_headroom_needs_command" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_needs_command" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_needs_command" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_needs_command" -s V -l version -d 'Print version'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "wrap" -d 'Run an agent through the proxy, then print the session\'s tokens and cost'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "report" -d 'Aggregate session summaries into a cost report (for people, PRs and CI)'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "providers" -d 'List the providers a model can run on: URLs in effect, key variables and whether they are set (never their values), and which models go where'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "statusline" -d 'The command Claude Code runs for its status line (set up by `headroom wrap claude`)'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "status" -d 'Print the status line of the newest running headroom session (for another terminal or a tmux status bar); nothing when none is running'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "man" -d 'Print a manual page (roff) to stdout: headroom\'s, or a subcommand\'s'
complete -c headroom -n "__fish_headroom_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l model -d 'Run the agent on this model, and on its provider' -r
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l agent-bin -d 'Path of the agent binary, instead of looking it up on PATH' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l summary -d 'Where to write the JSON session summary' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l compare -d 'Also price the session\'s tokens on this model and print one line under the table' -r
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l budget -d 'Stop forwarding once the session\'s known cost reaches USD' -r
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l compress -d 'How far large tool outputs may be shrunk (also: HEADROOM_COMPRESS=MODE)' -r -f -a "full\t'Lossless rewrites, then cuts of logs, diffs, long JSON arrays and long search results'
lossless\t'Only rewrites the original can be rebuilt from; nothing is left out'
off\t'Tool outputs forwarded exactly as the agent sent them'"
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l prices -d 'Price overrides (TOML) that add or replace models.' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l providers -d 'Providers (TOML) that add to the built-in table or change its entries.' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l no-statusline -d 'Do not show headroom\'s figures in Claude Code\'s status line'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l no-compress -d 'Forward tool outputs as the agent sent them; the same as `--compress off`'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l otlp -d 'Export to an OpenTelemetry collector (OTLP over HTTP/protobuf), also when no OTEL_EXPORTER_OTLP_*ENDPOINT is set (then to http://localhost:4318)'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -l otlp-traces -d 'Also export one span per request (GenAI attributes, never content); also with OTEL_TRACES_EXPORTER=otlp'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand wrap" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand report" -l since -d 'Only sessions that started after this: a duration (`7d`, `24h`, `2weeks`) or a date (`2026-11-01`, or RFC 3339)' -r
complete -c headroom -n "__fish_headroom_using_subcommand report" -l until -d 'Only sessions that started before this (same forms as --since)' -r
complete -c headroom -n "__fish_headroom_using_subcommand report" -l model -d 'Only requests to models whose name contains this (any case), e.g. `--model opus` or `--model minimax`; sessions without any are left out' -r
complete -c headroom -n "__fish_headroom_using_subcommand report" -l agent -d 'Only sessions of this agent' -r -f -a "claude\t'Claude Code (`claude`, npm package @anthropic-ai/claude-code)'
codex\t'OpenAI Codex CLI (`codex`, npm package @openai/codex)'"
complete -c headroom -n "__fish_headroom_using_subcommand report" -l project -d 'Only sessions run in this project: the git repository (or directory) the agent ran in is PATH or inside it. `--project .` is the repository you are in' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand report" -l tz -d 'Where days begin for `--by day` and the HTML report\'s chart: `utc` or `local` (the system time zone, or TZ)' -r -f -a "utc\t''
local\t''"
complete -c headroom -n "__fish_headroom_using_subcommand report" -l by -d 'How to group rows' -r -f -a "model\t'One row per provider and model'
provider\t'One row per provider'
agent\t'One row per agent (claude, codex)'
day\t'One row per day the session started (UTC, or with --tz local your own)'
session\t'One row per session'
billing\t'One row per way of paying: `api`, or `subscription` (a plan; its cost is API-equivalent)'"
complete -c headroom -n "__fish_headroom_using_subcommand report" -l format -d 'Output format (written to stdout)' -r -f -a "table\t'A table for the terminal'
markdown\t'A GitHub-flavoured markdown table for PRs and job summaries'
json\t'JSON with `null` for unknown costs'
csv\t'CSV with an empty cell for unknown costs'
html\t'One self-contained HTML page (no network): totals, cost per day by provider, models, sessions and compression. It always shows those views; --by does not apply'"
complete -c headroom -n "__fish_headroom_using_subcommand report" -l budget -d 'Exit with code 3 when the total known cost is over USD (for CI)' -r
complete -c headroom -n "__fish_headroom_using_subcommand report" -l reprice -d 'Also price the same tokens on this model, request by request (a line under the table, markdown and HTML reports; `reprice` in JSON; not in CSV)' -r
complete -c headroom -n "__fish_headroom_using_subcommand report" -l prices -d 'Price overrides (TOML) that add or replace models.' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand report" -l providers -d 'Providers (TOML) that add to the built-in table or change its entries.' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand report" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand report" -l all -d 'Every session since install: the lifetime view'
complete -c headroom -n "__fish_headroom_using_subcommand report" -l skip-unreadable -d 'With --budget, skip summaries that cannot be read (with a warning) instead of failing'
complete -c headroom -n "__fish_headroom_using_subcommand report" -l otlp -d 'Export to an OpenTelemetry collector (OTLP over HTTP/protobuf), also when no OTEL_EXPORTER_OTLP_*ENDPOINT is set (then to http://localhost:4318)'
complete -c headroom -n "__fish_headroom_using_subcommand report" -l otlp-traces -d 'Also export one span per request (GenAI attributes, never content); also with OTEL_TRACES_EXPORTER=otlp'
complete -c headroom -n "__fish_headroom_using_subcommand report" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand report" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand providers" -l providers -d 'Providers (TOML) that add to the built-in table or change its entries.' -r -F
complete -c headroom -n "__fish_headroom_using_subcommand providers" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand providers" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand providers" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand providers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand statusline" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand statusline" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand statusline" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand statusline" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand status" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand status" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand status" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand completions" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand completions" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand completions" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand man" -l color -d 'When to use color in headroom\'s output' -r -f -a "auto\t'Color when the stream written to is a terminal (and NO_COLOR is not set)'
always\t'Always color'
never\t'Never color'"
complete -c headroom -n "__fish_headroom_using_subcommand man" -s q -l quiet -d 'Print nothing of headroom\'s own on stderr (for `wrap`: no cost table); errors still go there. What a command writes to stdout (a report) is still written'
complete -c headroom -n "__fish_headroom_using_subcommand man" -s v -l verbose -d '`wrap`: print one line per proxied request on stderr: status, model, upstream, tokens, latency'
complete -c headroom -n "__fish_headroom_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "wrap" -d 'Run an agent through the proxy, then print the session\'s tokens and cost'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "report" -d 'Aggregate session summaries into a cost report (for people, PRs and CI)'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "providers" -d 'List the providers a model can run on: URLs in effect, key variables and whether they are set (never their values), and which models go where'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "statusline" -d 'The command Claude Code runs for its status line (set up by `headroom wrap claude`)'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "status" -d 'Print the status line of the newest running headroom session (for another terminal or a tmux status bar); nothing when none is running'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "man" -d 'Print a manual page (roff) to stdout: headroom\'s, or a subcommand\'s'
complete -c headroom -n "__fish_headroom_using_subcommand help; and not __fish_seen_subcommand_from wrap report providers statusline status completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
