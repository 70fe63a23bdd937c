"""Benchmark the chatcli CLI against a bare httpx floor and print a Markdown report.

Sections: start-up (``--version``, ``--help`` vs ``python -c 'import httpx'``),
first byte of a 1-token reply, streaming replies of several sizes in each
output mode (``rich`` under a 120x40 pseudo-terminal, the others on a pipe),
derived checks, and optionally an import-time profile.  Every child gets a
scratch HOME, no proxy or OpenAI variables, and talks to a local server
(bench/server.py) run in its own process for each reply size.

Run: ``.venv/bin/python bench/run.py [--quick] [--sizes 2000,20000] ...``
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from markdown_tokens import plain_tokens
from measure import Result, measure
from report import WATCHED_IMPORTS, ImportProfile, Report, Row, derive_checks, write_report
from shapes import SHAPES

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SRC = ROOT / "src"
MODES = ("plain", "rich", "json", "events")
TTY_MODES = frozenset({"rich"})
FLOOR_MIN_REPEAT = 3  # the floor is cheap: always best of at least 3
SECTIONS = ("startup", "firstbyte", "stream", "importtime")
PROMPT = "write the answer"
API_KEY = "sk-bench"
MODEL = "bench-model"
DROP_ENV = re.compile(
    r"^(OPENAI_.*|CHATCLI_.*|.*_PROXY|FORCE_COLOR|NO_COLOR|CLICOLOR.*|COLUMNS|LINES|TERM|COLORTERM"
    r"|PYTHONSTARTUP|PYTHONDEVMODE|PYTHONPROFILEIMPORTTIME|PYTHONINSPECT|PYTHONHOME)$",
    re.IGNORECASE,
)


def chat_args(base_url: str, mode: str) -> list[str]:
    """chatcli's arguments for one streamed answer."""
    return ["--base-url", base_url, "--api-key", API_KEY, "-m", MODEL, "-O", mode, PROMPT]


@dataclass(frozen=True)
class Client:
    """A command that takes chatcli's command line."""

    name: str
    argv: tuple[str, ...]

    def chat(self, base_url: str, mode: str) -> list[str]:
        return [*self.argv, *chat_args(base_url, mode)]

    def importtime(self, *args: str) -> tuple[list[str], dict[str, str]]:
        """Command and extra environment to profile imports of ``client args``."""
        if Path(self.argv[0]).name.startswith("python"):
            return [self.argv[0], "-X", "importtime", *self.argv[1:], *args], {}
        return [*self.argv, *args], {"PYTHONPROFILEIMPORTTIME": "1"}


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _floor_client() -> Client:
    return Client("floor", (sys.executable, str(BENCH / "floor.py")))


def _client(kind: str, command: str | None) -> Client:
    if command:
        argv = shlex.split(command)
        exe = shutil.which(argv[0]) or argv[0]
        return Client("chatcli", (exe, *argv[1:]))
    if kind == "floor":
        return Client("floor-as-client", _floor_client().argv)
    if kind == "script":
        script = Path(sys.executable).parent / "chatcli"
        if not script.exists():
            raise SystemExit(f"{script} not found; use --client module")
        return Client("chatcli", (str(script),))
    return Client("chatcli", (sys.executable, "-m", "chatcli"))


def child_env(home: Path) -> dict[str, str]:
    """The environment every measured child gets."""
    env = {k: v for k, v in os.environ.items() if not DROP_ENV.match(k)}
    path = [str(SRC), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(path),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "NO_PROXY": "127.0.0.1,localhost",
            "TERM": "xterm-256color",
            "LANG": os.environ.get("LANG") or "C.UTF-8",
        }
    )
    return env


@contextmanager
def serve(n_tokens: int, shape: str, seed: int) -> Iterator[str]:
    """Run bench/server.py in its own process; yield its base URL."""
    cmd = [
        sys.executable,
        str(BENCH / "server.py"),
        "--tokens",
        str(n_tokens),
        "--shape",
        shape,
        "--seed",
        str(seed),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"server did not start: {url!r}")
        yield url
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()


def _best(results: Sequence[Result], key: str = "wall") -> Result:
    ok = [r for r in results if r.ok]
    if not ok:
        return results[0]
    return min(ok, key=lambda r: getattr(r, key) if getattr(r, key) is not None else float("inf"))


def _progress(section: str, label: str, result: Result) -> None:
    status = "ok" if result.ok else ("timeout" if result.timed_out else f"exit {result.exit_code}")
    cost = f"{result.wall:.3f} s wall, {result.cpu:.3f} s cpu, {result.bytes_out:,} B"
    _log(f"[{section}] {label}: {cost}, {status}")


def bench_startup(client: Client, env: dict[str, str], repeat: int, timeout: float) -> list[Row]:
    floor_argv = [sys.executable, "-c", "import httpx"]
    jobs: list[tuple[str, list[str]]] = [
        ("python -c 'import httpx' (floor)", floor_argv),
        (f"{client.name} --version", [*client.argv, "--version"]),
        (f"{client.name} --help", [*client.argv, "--help"]),
    ]
    results: dict[str, list[Result]] = {label: [] for label, _ in jobs}
    for _ in range(repeat):
        for label, argv in jobs:
            res = measure(argv, env, timeout=timeout)
            results[label].append(res)
            _progress("startup", label, res)
    floor = _best(results[jobs[0][0]])
    rows = [Row(label, "", _best(rs), floor, runs=len(rs)) for label, rs in results.items()]
    rows[0].floor = None
    version_lines = rows[1].result.head.decode("utf-8", "replace").split() if rows[1].result else []
    rows[1].note = " ".join(version_lines)[:60]
    return rows


def bench_first_byte(
    client: Client,
    floor: Client,
    env: dict[str, str],
    modes: Sequence[str],
    repeat: int,
    timeout: float,
) -> list[Row]:
    marker = plain_tokens(1)[0].strip().encode()
    rows: list[Row] = []
    with serve(1, "plain", 0) as url:
        transports = sorted({mode in TTY_MODES for mode in modes})
        floor_runs: dict[bool, list[Result]] = {tty: [] for tty in transports}
        client_runs: dict[str, list[Result]] = {mode: [] for mode in modes}
        for _ in range(repeat):
            for tty in transports:
                res = measure(
                    floor.chat(url, "plain"), env, tty=tty, timeout=timeout, marker=marker
                )
                floor_runs[tty].append(res)
                _progress("first byte", f"floor {'pty' if tty else 'pipe'}", res)
            for mode in modes:
                res = measure(
                    client.chat(url, mode),
                    env,
                    tty=mode in TTY_MODES,
                    timeout=timeout,
                    marker=marker,
                )
                client_runs[mode].append(res)
                _progress("first byte", f"{client.name} {mode}", res)
        best_floor = {tty: _best(rs, "first_marker") for tty, rs in floor_runs.items()}
        for tty in transports:
            rows.append(Row("floor", "pty" if tty else "pipe", best_floor[tty], runs=repeat))
        for mode in modes:
            best = _best(client_runs[mode], "first_marker")
            note = "" if best.first_marker is not None or not best.ok else "content marker not seen"
            rows.append(
                Row(client.name, mode, best, best_floor[mode in TTY_MODES], runs=repeat, note=note)
            )
    return rows


def bench_stream(
    client: Client,
    floor: Client,
    env: dict[str, str],
    modes: Sequence[str],
    sizes: Sequence[int],
    repeat: int | None,
    shapes: Sequence[str],
    seed: int,
    timeout: float,
) -> tuple[list[Row], dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    rows: list[Row] = []
    answer_bytes: dict[tuple[str, int], int] = {}
    rendered_bytes: dict[tuple[str, int], int] = {}
    for shape in shapes:
        rows += _bench_shape(client, floor, env, modes, sizes, repeat, shape, seed, timeout,
                             answer_bytes, rendered_bytes)
    return rows, answer_bytes, rendered_bytes


def _bench_shape(
    client: Client,
    floor: Client,
    env: dict[str, str],
    modes: Sequence[str],
    sizes: Sequence[int],
    repeat: int | None,
    shape: str,
    seed: int,
    timeout: float,
    answer_bytes: dict[tuple[str, int], int],
    rendered_bytes: dict[tuple[str, int], int],
) -> list[Row]:
    """Every size of one reply shape: the floor and each mode, interleaved."""
    rows: list[Row] = []
    gave_up: dict[str, str] = {}
    for size in sizes:
        sizes_of = answer_sizes(shape, size, seed, rendered=bool(TTY_MODES & set(modes)))
        answer_bytes[shape, size] = sizes_of["answer"]
        if sizes_of["rendered"]:
            rendered_bytes[shape, size] = sizes_of["rendered"]
        k = repeat if repeat is not None else (3 if size <= 20000 else 1)
        transports = sorted({mode in TTY_MODES for mode in modes})
        floor_runs: dict[bool, list[Result]] = {tty: [] for tty in transports}
        bare_runs: list[Result] = []
        client_runs: dict[str, list[Result]] = {mode: [] for mode in modes if mode not in gave_up}
        with serve(size, shape, seed) as url:
            for i in range(max(k, FLOOR_MIN_REPEAT)):
                for tty in transports:
                    res = measure(floor.chat(url, "plain"), env, tty=tty, timeout=timeout)
                    floor_runs[tty].append(res)
                    where = f"{shape} {size} floor {'pty' if tty else 'pipe'} #{i + 1}"
                    _progress("stream", where, res)
                res = measure([*floor.chat(url, "plain")[:2], "--bare",
                               *floor.chat(url, "plain")[2:]], env, tty=False, timeout=timeout)
                bare_runs.append(res)
                _progress("stream", f"{shape} {size} bare line loop #{i + 1}", res)
                for mode, runs in client_runs.items():
                    if i >= k or (runs and not runs[-1].ok):
                        continue
                    res = measure(
                        client.chat(url, mode), env, tty=mode in TTY_MODES, timeout=timeout
                    )
                    runs.append(res)
                    _progress("stream", f"{shape} {size} {client.name} {mode} #{i + 1}", res)
        best_floor = {tty: _best(rs) for tty, rs in floor_runs.items()}
        rows.append(Row("bare line loop", "pipe", _best(bare_runs), tokens=size,
                        runs=len(bare_runs), shape=shape))
        for tty in transports:
            runs_done = len(floor_runs[tty])
            rows.append(
                Row("floor", "pty" if tty else "pipe", best_floor[tty], tokens=size,
                    runs=runs_done, shape=shape)
            )
        for mode in modes:
            if mode in gave_up:
                rows.append(
                    Row(client.name, mode, None, tokens=size, note=gave_up[mode], shape=shape)
                )
                continue
            runs = client_runs[mode]
            best = _best(runs)
            rows.append(
                Row(
                    client.name,
                    mode,
                    best,
                    best_floor[mode in TTY_MODES],
                    tokens=size,
                    runs=len(runs),
                    shape=shape,
                )
            )
            if best.timed_out:
                gave_up[mode] = f"skipped: timed out at {size} tokens"
    return rows


def answer_sizes(shape: str, size: int, seed: int, rendered: bool) -> dict[str, int]:
    """The answer's size (and its one-go render's), measured in a child process."""
    cmd = [sys.executable, str(Path(__file__).parent / "answer_size.py"), shape, str(size),
           str(seed)]
    done = subprocess.run([*cmd, *(["--rendered"] if rendered else [])], capture_output=True,
                          text=True, check=True)
    sizes: dict[str, int] = json.loads(done.stdout)
    return sizes


IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def profile_imports(
    client: Client, env: dict[str, str], args: Sequence[str], timeout: float
) -> ImportProfile:
    argv, extra = client.importtime(*args)
    label = shlex.join([Path(argv[0]).name, *argv[1:]])
    label = re.sub(r"http://127\.0\.0\.1:\d+/v1", "URL", label)
    try:
        proc = subprocess.run(
            argv,
            env={**env, **extra},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return ImportProfile(label, error=f"timed out after {timeout:.0f} s")
    seen: dict[str, tuple[int, int, str]] = {}
    total_us = 0
    for line in proc.stderr.splitlines():
        m = IMPORT_LINE.match(line)
        if m:  # a name can appear twice (circular imports): keep its largest cost
            entry = (int(m.group(2)), int(m.group(1)), m.group(4))
            seen[entry[2]] = max(seen.get(entry[2], entry), entry)
            if len(m.group(3)) == 1:  # top level: not nested in another import
                total_us += entry[0]
    entries = list(seen.values())
    if proc.returncode != 0:
        rest = [
            ln
            for ln in proc.stderr.splitlines()
            if ln.strip() and not ln.startswith("import time:")
        ]
        return ImportProfile(label, error=f"exit {proc.returncode}: {rest[-1] if rest else ''}")
    names = {name for _, _, name in entries}
    watched = {w: any(n == w or n.startswith(w + ".") for n in names) for w in WATCHED_IMPORTS}
    top = sorted(entries, reverse=True)[:15]
    return ImportProfile(label, top=top, watched=watched, modules=len(entries), total_us=total_us)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad size list: {text!r}") from exc
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def _choices(allowed: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}; got {text!r}")
        return list(dict.fromkeys(items))

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=_sizes, default=[2000, 20000, 100000], help="reply sizes in tokens"
    )
    parser.add_argument(
        "--modes", type=_choices(MODES), default=["plain", "rich"], help="plain,rich,json,events"
    )
    parser.add_argument(
        "--repeat", type=int, help="best-of K for streaming (default 3, 1 above 20000 tokens)"
    )
    parser.add_argument(
        "--startup-repeat", type=int, help="best-of K for startup and first byte (default 5)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per run before it is killed"
    )
    parser.add_argument(
        "--shapes",
        "--shape",
        dest="shapes",
        type=_choices(sorted(SHAPES)),
        default=["markdown"],
        help="reply shapes: " + ",".join(sorted(SHAPES)),
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 200,2000, repeat 1")
    parser.add_argument("--importtime", action="store_true", help="add the import-time profile")
    parser.add_argument(
        "--sections",
        type=_choices(SECTIONS),
        default=["startup", "firstbyte", "stream"],
        help=",".join(SECTIONS),
    )
    parser.add_argument(
        "--client",
        choices=("module", "script", "floor"),
        default="module",
        help="module: python -m chatcli; script: .venv/bin/chatcli; "
        "floor: the floor itself (checks the harness)",
    )
    parser.add_argument("--client-cmd", help="any other command taking chatcli's arguments")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="figures to hold this run to (default: bench/baseline.json)")
    parser.add_argument("--save-baseline", action="store_true",
                        help="write this run's figures as the baseline")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [200, 2000]
        args.repeat = 1
        args.startup_repeat = args.startup_repeat or 3
    args.startup_repeat = args.startup_repeat or 5
    if args.importtime and "importtime" not in args.sections:
        args.sections.append("importtime")
    return args


def compile_sources() -> None:
    """Byte-compile src/ once, as an installed package would be.

    Without this, a shell with PYTHONDONTWRITEBYTECODE set would make every
    measured start compile chatcli from source, while httpx (installed by
    pip, with its .pyc files) would not pay that cost.
    """
    import compileall

    compileall.compile_dir(str(SRC / "chatcli"), quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    compile_sources()
    client = _client(args.client, args.client_cmd)
    floor = _floor_client()
    report = Report()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    started = datetime.datetime.now().astimezone()
    report.header = [
        ("date", started.isoformat(timespec="seconds")),
        ("machine", f"{platform.machine()} {platform.system()} {platform.release()}"),
        ("CPUs", f"{os.cpu_count()} (usable {affinity})"),
        ("load at start", _load()),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("client", " ".join(client.argv)),
        ("floor", f"{' '.join(floor.argv)} (httpx iter_lines loop, flush per delta)"),
        (
            "reply",
            f"shapes {','.join(args.shapes)}, seed {args.seed}, "
            f"sizes {','.join(map(str, args.sizes))}",
        ),
        (
            "modes",
            ", ".join(f"{m} ({'pty 120x40' if m in TTY_MODES else 'pipe'})" for m in args.modes),
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="chatcli-bench-") as tmp:
        env = child_env(Path(tmp))
        if "startup" in args.sections:
            report.startup = bench_startup(client, env, args.startup_repeat, args.timeout)
        if "firstbyte" in args.sections:
            report.first_byte = bench_first_byte(
                client, floor, env, args.modes, args.startup_repeat, args.timeout
            )
        if "stream" in args.sections:
            rows, answer, rendered = bench_stream(
                client,
                floor,
                env,
                args.modes,
                args.sizes,
                args.repeat,
                args.shapes,
                args.seed,
                args.timeout,
            )
            report.stream, report.answer_bytes = rows, answer
            report.checks = derive_checks(rows, answer, client.name, rendered)
        if "importtime" in args.sections:
            report.imports = [
                profile_imports(client, env, [a], args.timeout) for a in ("--version", "--help")
            ]
            with serve(1, "plain", 0) as url:
                ask = chat_args(url, "plain")
                report.imports.append(profile_imports(client, env, ask, args.timeout))
    elapsed = datetime.datetime.now().astimezone() - started
    report.footer = [("load at end", _load()), ("elapsed", f"{elapsed.total_seconds():.0f} s")]
    write_report(report)
    failed = [
        r
        for r in (*report.startup, *report.first_byte, *report.stream)
        if r.result is None or not r.result.ok
    ]
    import baseline

    path = args.baseline or baseline.DEFAULT
    if args.save_baseline:
        baseline.save(path, report)
        print(f"\n- baseline written to {path}")
        return 1 if failed else 0
    lines, regressions = baseline.compare(path, report)
    print("\n## Against the baseline\n\n" + "\n".join(lines))
    for regression in regressions:
        print(f"REGRESSION: {regression}", file=sys.stderr)
    return 1 if failed or regressions else 0


if __name__ == "__main__":
    raise SystemExit(main())
