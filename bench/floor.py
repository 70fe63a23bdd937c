"""The floor: the least a streaming chat client can do, as a bare httpx loop.

POST the request with ``stream: true``, iterate ``iter_lines()``, decode each
``data:`` line as JSON and write its delta content (or tool-call arguments) to
stdout, flushing after every delta as an interactive client must.  It accepts the same command line
as chatcli (``--base-url``, ``--api-key``, ``-m``, ``-O``, ``--version``,
``--help``) so the benchmark can run it in place of the real client; ``-O``
is accepted and ignored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import httpx


def stream(base_url: str, api_key: str, model: str, prompt: str) -> int:
    """Stream one reply to stdout; return the number of content deltas."""
    payload = {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    headers = {"Authorization": f"Bearer {api_key}"}
    out = sys.stdout
    deltas = 0
    with httpx.Client(timeout=httpx.Timeout(60.0)) as client:
        url = base_url.rstrip("/") + "/chat/completions"
        with client.stream("POST", url, json=payload, headers=headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                for choice in json.loads(data).get("choices") or ():
                    delta = choice.get("delta") or {}
                    content = delta.get("content") or "".join(
                        (call.get("function") or {}).get("arguments") or ""
                        for call in delta.get("tool_calls") or ())
                    if content:
                        out.write(content)
                        out.flush()
                        deltas += 1
    out.write("\n")
    out.flush()
    return deltas


def bare(base_url: str, api_key: str, model: str, prompt: str) -> int:
    """The bare line loop: every ``data:`` line's payload written (and flushed) as it
    comes, decoded not at all: the floor without its ``json.loads``."""
    payload = {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    out = sys.stdout
    lines = 0
    with httpx.Client(timeout=httpx.Timeout(60.0)) as client:
        url = base_url.rstrip("/") + "/chat/completions"
        with client.stream("POST", url, json=payload,
                           headers={"Authorization": f"Bearer {api_key}"}) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith("data:"):
                    out.write(line[5:])
                    out.flush()
                    lines += 1
    out.write("\n")
    out.flush()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="floor", description="bare httpx streaming loop")
    parser.add_argument("--version", action="version", version="floor 1")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("-m", "--model", default="bench-model")
    parser.add_argument("-O", "--output", default="plain", help="ignored")
    parser.add_argument("--bare", action="store_true", help="read the lines, decode nothing")
    parser.add_argument("prompt")
    args = parser.parse_args(argv)
    (bare if args.bare else stream)(args.base_url, args.api_key, args.model, args.prompt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
