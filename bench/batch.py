"""``chatcli batch`` against its floor: many short answers with a fixed latency each.

A local server answers every request after ``--latency`` seconds with an SSE stream
of ``--tokens`` tokens (and, with ``--refuse-every 3``, a 429 with ``Retry-After: 0``
to every third request instead). The floor is an asyncio + httpx script making
the same requests at the same concurrency, decoding each event with ``json.loads``
and writing one JSON line per answer. Reported: wall time of both, chatcli's
ratio, peak RSS for a small and a large run (flat memory), and, under 429s, that
every item completed exactly once.

    .venv/bin/python bench/batch.py                      # 1000 items, -j 16, 50 ms each
    .venv/bin/python bench/batch.py --items 200 --refuse-every 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from markdown_tokens import tokens as markdown_tokens

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FLOOR = textwrap.dedent('''
    import asyncio, json, sys
    import httpx

    async def one(client, url, prompt, out):
        body = {"model": "bench-model", "stream": True,
                "messages": [{"role": "user", "content": prompt}]}
        for _ in range(20):
            async with client.stream("POST", url, json=body) as response:
                if response.status_code == 429:
                    await response.aread()
                    continue
                text = []
                async for line in response.aiter_lines():
                    if line.startswith("data:") and line[5:].strip() != "[DONE]":
                        for choice in json.loads(line[5:]).get("choices") or ():
                            text.append((choice.get("delta") or {}).get("content") or "")
                out.write(json.dumps({"prompt": prompt, "answer": "".join(text)}) + "\\n")
                return

    async def main(url, path, concurrency):
        prompts = [line.rstrip("\\n") for line in open(path)]
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            async def guarded(prompt):
                async with gate:
                    await one(client, url, prompt, sys.stdout)
            await asyncio.gather(*(guarded(p) for p in prompts))

    asyncio.run(main(sys.argv[1] + "/chat/completions", sys.argv[2], int(sys.argv[3])))
''')


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            number = self.server.requests
        time.sleep(self.server.latency)
        if self.server.refuse_every and number % self.server.refuse_every == 0:
            body = b'{"error": {"message": "slow down"}}'
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    lock = threading.Lock()
    requests = 0
    latency = 0.05
    refuse_every = 0
    body = b""


def _body(count: int) -> bytes:
    def event(delta: dict[str, object], finish: str | None = None) -> bytes:
        chunk = {"id": "b", "object": "chat.completion.chunk", "model": "bench-model",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"
    parts = [event({"role": "assistant", "content": ""})]
    parts += [event({"content": piece}) for piece in markdown_tokens(count)]
    parts.append(event({}, "stop"))
    usage = {"id": "b", "object": "chat.completion.chunk", "model": "bench-model",
             "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": count,
                                      "total_tokens": 12 + count}}
    parts.append(b"data: " + json.dumps(usage).encode() + b"\n\ndata: [DONE]\n\n")
    return b"".join(parts)


def _run(argv: list[str], out: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB, and the exit status of one child."""
    started = time.monotonic()
    with out.open("wb") as sink:
        child = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10, help="items of the memory baseline")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("-j", "--concurrency", type=int, default=16)
    parser.add_argument("--refuse-every", type=int, default=0)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.latency, server.body = args.latency, _body(args.tokens)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    scratch = Path(tempfile.mkdtemp(prefix="chatcli-batch-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHATCLI_"))}
    env.update(HOME=str(scratch), XDG_CONFIG_HOME=str(scratch / "config"),
               XDG_DATA_HOME=str(scratch / "data"), XDG_CACHE_HOME=str(scratch / "cache"),
               PYTHONPATH=str(ROOT / "src"))
    print(f"- load at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- {args.items} items of {args.tokens} tokens, {args.latency * 1000:.0f} ms each,"
          f" -j {args.concurrency}" + (f", a 429 to every {args.refuse_every}th request"
                                       if args.refuse_every else ""))
    print("\n| client | items | wall s | peak RSS MB | items/s | × floor |")
    print("|---|---:|---:|---:|---:|---:|")
    floor_wall, peaks, ratio_seen = None, [], 0.0
    for count in (args.small, args.items):
        items = scratch / f"items-{count}.txt"
        items.write_text("".join(f"item {n}\n" for n in range(count)))
        server.refuse_every = args.refuse_every
        floor = [sys.executable, "-c", FLOOR, url, str(items), str(args.concurrency)]
        wall, rss, status = _run(floor, scratch / "floor.jsonl", env)
        if count == args.items:
            floor_wall = wall
        print(f"| floor | {count} | {wall:.2f} | {rss:.1f} | {count / wall:.0f} | — |")
        chatcli = [sys.executable, "-m", "chatcli", "batch", "--base-url", url, "--api-key",
                   "sk-bench", "-m", "bench-model", "-q", "-j", str(args.concurrency),
                   "--state", str(scratch / f"state-{count}"), str(items)]
        wall, rss, status = _run(chatcli, scratch / f"chatcli-{count}.jsonl", env)
        peaks.append(rss)
        if floor_wall and count == args.items:
            ratio_seen = wall / floor_wall
        ratio = f"{ratio_seen:.2f}×" if floor_wall and count == args.items else "—"
        print(f"| chatcli | {count} | {wall:.2f} | {rss:.1f} | {count / wall:.0f} | {ratio} |"
              + ("" if status == 0 else f" exit {status}"))
        results = [json.loads(line) for line in
                   (scratch / f"chatcli-{count}.jsonl").read_text().splitlines()]
        ids = [r["id"] for r in results]
        ok = sum(r["status"] == "ok" for r in results)
        if ok != count or len(set(ids)) != len(ids):
            print(f"\nFAILED: {ok} of {count} ok, {len(ids) - len(set(ids))} duplicated")
            return 1
    print(f"\n- chatcli wall vs floor at {args.items} items: {ratio_seen:.2f}× (target ≤ 1.3)")
    print(f"- chatcli peak RSS, {args.items} items vs {args.small}: {peaks[-1] / peaks[0]:.2f}×"
          " (target ≤ 1.5)")
    print(f"- every item answered once; load at end:"
          f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
