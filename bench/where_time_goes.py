"""Where a streamed answer's time goes, stage by stage: chatcli run in this process under
cProfile against ``BenchServer``, each function's own time added up by the stage its
module belongs to (a built-in counted with the stage that called it most).

    .venv/bin/python bench/where_time_goes.py plain      # or rich; --tokens N

Figures are microseconds per event under the profiler, which slows Python calls about
threefold: read them as shares, not as timings.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
from pathlib import Path

from markdown_tokens import tokens
from server import BenchServer

STAGES = (("protocol/sse", "SSE framing (protocol/sse.py)"),
          ("protocol/events", "JSON and event parsing (protocol/events.py)"),
          ("protocol/text_pieces", "JSON and event parsing (protocol/events.py)"),
          ("protocol/accumulator", "accumulating the message (protocol/accumulator.py)"),
          ("engine/turn", "dispatch (engine/turn.py)"),
          ("render/plain", "plain rendering and writes (render/plain.py, output_guard)"),
          ("output_guard", "plain rendering and writes (render/plain.py, output_guard)"),
          ("render/", "Rich rendering (render/terminal.py, markdown_blocks, …)"),
          ("sanitize", "Rich rendering (render/terminal.py, markdown_blocks, …)"),
          ("rich", "Rich, markdown-it and pygments themselves"),
          ("markdown_it", "Rich, markdown-it and pygments themselves"),
          ("pygments", "Rich, markdown-it and pygments themselves"),
          ("httpx", "HTTP reads (httpx, httpcore, h11)"),
          ("httpcore", "HTTP reads (httpx, httpcore, h11)"),
          ("h11", "HTTP reads (httpx, httpcore, h11)"))


def stage(file: str) -> str:
    return next((name for part, name in STAGES if part in file),
                "start-up and the rest (imports, config, the request)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("plain", "rich"))
    parser.add_argument("--tokens", type=int, default=100_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="chatcli-profile-"))
    os.environ.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
                      XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    if args.mode == "rich":
        os.environ.update(TTY_COMPATIBLE="1", COLUMNS="120", LINES="40")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from chatcli.cli import main as chatcli

    with BenchServer(tokens(args.tokens)) as server, open(os.devnull, "w") as sink:
        shown, sys.stdout = sys.stdout, sink
        profile = cProfile.Profile()
        profile.enable()
        chatcli(["--base-url", server.base_url, "--api-key", "sk-bench", "-m", "bench-model",
                 "-O", args.mode, "--no-history", "write the answer"])
        profile.disable()
        sys.stdout = shown
    spent: dict[str, float] = {}
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (file, _, _), (_, _, own, _, callers) in stats.items():
        where = file
        if file == "~" and callers:  # a built-in: with the stage that called it most
            where = max(callers.items(), key=lambda item: item[1][0])[0][0]
        spent[stage(where)] = spent.get(stage(where), 0.0) + own
    total = sum(spent.values())
    print(f"| stage ({args.mode}, {args.tokens} tokens) | µs per event | share |")
    print("|---|---:|---:|")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {seconds * 1e6 / args.tokens:.2f} | {seconds / total:.0%} |")
    print(f"| all, under the profiler | {total * 1e6 / args.tokens:.2f} | 100% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
