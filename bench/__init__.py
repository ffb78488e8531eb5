"""Benchmarks: mcp-push against Apprise and a thread-per-channel script, on a local server only.

    python -m bench fanout|coldstart|throughput|all [options]    # see `python -m bench --help`

Nothing here is imported by mcp-push; nothing here reaches beyond 127.0.0.1.
"""
