"""Benchmark results, the checks derived from them, and the Markdown report.

`derive_checks` turns streaming rows into pass/over/info verdicts;
`render` formats a `Report` as Markdown; `write_report` writes it to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from measure import Result

AMPLIFIED = 5.0  # bytes out / answer bytes above which output is likely re-rendered
LINEAR_SLACK = 1.1  # time may grow 10% faster than the size (5x the size: within 5.5x)
WATCHED_IMPORTS: tuple[str, ...] = ("rich.markdown", "prompt_toolkit", "sqlite3", "pygments")


@dataclass
class Row:
    """One measured command (best of its repeats) next to its floor."""

    client: str
    mode: str
    result: Result | None
    floor: Result | None = None
    tokens: int = 0
    runs: int = 0
    note: str = ""
    shape: str = "markdown"


@dataclass
class Check:
    name: str
    value: str
    target: str
    verdict: str


@dataclass
class ImportProfile:
    command: str
    top: list[tuple[int, int, str]] = field(
        default_factory=list
    )  # (cumulative us, self us, module)
    watched: dict[str, bool] = field(default_factory=dict)
    modules: int = 0
    total_us: int = 0
    error: str = ""


@dataclass
class Report:
    header: list[tuple[str, str]] = field(default_factory=list)
    startup: list[Row] = field(default_factory=list)
    first_byte: list[Row] = field(default_factory=list)
    stream: list[Row] = field(default_factory=list)
    answer_bytes: dict[tuple[str, int], int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    imports: list[ImportProfile] = field(default_factory=list)
    footer: list[tuple[str, str]] = field(default_factory=list)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den <= 0:
        return "—"
    return f"{num / den:.2f}×"


def _failure(result: Result | None, note: str) -> str | None:
    if result is None:
        return note or "not run"
    if result.timed_out:
        return f"TIMEOUT after {result.wall:.1f} s"
    if result.exit_code != 0:
        return f"FAILED exit {result.exit_code}: {result.last_error_line()[:160]}"
    return None


def _table(head: Sequence[str], rows: Sequence[Sequence[object]], align: str) -> list[str]:
    """Markdown table; ``align`` has one letter per column, ``l`` or ``r``."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    lines = ["| " + " | ".join(head) + " |", rule]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def _startup_lines(rows: Sequence[Row]) -> list[str]:
    body: list[list[object]] = []
    for row in rows:
        r = row.result
        failed = _failure(r, row.note)
        if failed or r is None:
            body.append([row.client, "—", "—", "—", "—", failed])
            continue
        body.append(
            [
                row.client,
                _secs(r.wall),
                _secs(r.cpu),
                f"{r.rss_mb:.1f}",
                _ratio(r.wall, row.floor.wall if row.floor else None),
                row.note,
            ]
        )
    return _table(
        ["command", "wall s", "cpu s", "peak RSS MB", "wall × floor", "note"], body, "lrrrrl"
    )


def _first_byte_lines(rows: Sequence[Row]) -> list[str]:
    body: list[list[object]] = []
    for row in rows:
        r = row.result
        failed = _failure(r, row.note)
        if failed or r is None:
            body.append([row.client, row.mode, "—", "—", "—", "—", failed])
            continue
        floor_first = row.floor.first_marker if row.floor else None
        body.append(
            [
                row.client,
                row.mode,
                _secs(r.first_byte),
                _secs(r.first_marker),
                _secs(r.wall),
                _ratio(r.first_marker, floor_first),
                row.note,
            ]
        )
    head = [
        "client",
        "mode",
        "first byte s",
        "first content s",
        "wall s",
        "content × floor",
        "note",
    ]
    return _table(head, body, "llrrrrl")


def _stream_lines(rows: Sequence[Row]) -> list[str]:
    body: list[list[object]] = []
    for row in rows:
        r = row.result
        failed = _failure(r, row.note)
        if failed or r is None:
            body.append(
                [row.shape, row.client, row.mode, row.tokens, *["—"] * 6, failed]
            )
            continue
        f = row.floor
        body.append(
            [
                row.shape,
                row.client,
                row.mode,
                row.tokens,
                _secs(r.wall),
                _secs(r.cpu),
                f"{r.rss_mb:.1f}",
                f"{r.bytes_out:,}",
                _ratio(r.wall, f.wall if f else None),
                _ratio(r.cpu, f.cpu if f else None),
                f"best of {row.runs}" + (f"; {row.note}" if row.note else ""),
            ]
        )
    head = [
        "shape",
        "client",
        "mode",
        "tokens",
        "wall s",
        "cpu s",
        "peak RSS MB",
        "bytes out",
        "wall × floor",
        "cpu × floor",
        "note",
    ]
    return _table(head, body, "lllrrrrrrrl")


def _ok(row: Row) -> Result | None:
    return row.result if row.result is not None and row.result.ok else None


def _scaling_checks(
    by_key: dict[tuple[str, int], Row], modes: list[str], big: int, small: int, shape: str
) -> list[Check]:
    limit = big / small * LINEAR_SLACK
    checks: list[Check] = []
    for mode in modes:
        a, b = by_key.get((mode, big)), by_key.get((mode, small))
        ra, rb = (_ok(a) if a else None), (_ok(b) if b else None)
        name = f"{shape} {mode} {big}/{small} wall ratio"
        if ra is None or rb is None:
            checks.append(Check(name, "—", f"≤ {limit:g}", "n/a (a run failed)"))
            continue
        ratio = ra.wall / rb.wall
        verdict = "ok" if ratio <= limit else "over (worse than linear)"
        floors = (a.floor, b.floor) if a and b else (None, None)
        if floors[0] and floors[1] and floors[0].ok and floors[1].ok:
            floor_ratio = floors[0].wall / floors[1].wall
            value = f"{ratio:.2f} (floor {floor_ratio:.2f})"
        else:
            value = f"{ratio:.2f}"
        checks.append(Check(name, value, f"≤ {limit:g}", verdict))
    return checks


def _floor_checks(row: Row, res: Result) -> list[Check]:
    if row.floor is None or not row.floor.ok:
        return []
    where = f"{row.shape} {row.mode} {row.tokens}"
    return [
        Check(f"{where} wall vs floor", _ratio(res.wall, row.floor.wall), "info", "info"),
        Check(f"{where} cpu vs floor", _ratio(res.cpu, row.floor.cpu), "info", "info"),
    ]


def _bytes_check(row: Row, res: Result, answer: int) -> Check:
    ratio = res.bytes_out / answer
    name = f"{row.shape} {row.mode} {row.tokens} bytes out / answer bytes"
    value = f"{ratio:.3f} ({res.bytes_out:,} / {answer:,})"
    if row.mode == "plain":
        return Check(name, value, "≈ 1.00", "ok" if 0.99 <= ratio <= 1.01 else "differs")
    if row.mode == "events":
        return Check(name, value, "info", "info (a JSON line per chunk)")
    verdict = "info" if ratio < AMPLIFIED else "amplified: output re-sent?"
    return Check(name, value, f"info (flag ≥ {AMPLIFIED:g})", verdict)


def derive_checks(rows: Sequence[Row], answer_bytes: dict[tuple[str, int], int], client: str,
                  rendered_bytes: dict[tuple[str, int], int] | None = None) -> list[Check]:
    """Scaling, floor and output-size checks over the client's streaming rows, per shape."""
    checks: list[Check] = []
    for shape in dict.fromkeys(r.shape for r in rows):
        mine = [r for r in rows if r.client == client and r.shape == shape]
        checks += _shape_checks(mine, shape, answer_bytes, rendered_bytes or {})
        checks += _bare_checks(mine, [r for r in rows if r.client == "bare line loop"
                                      and r.shape == shape])
    return checks


BARE_TARGETS = {"plain": 1.6, "rich": 2.5}  # issue targets against the bare line loop


def _bare_checks(mine: Sequence[Row], bare: Sequence[Row]) -> list[Check]:
    """The largest size of each mode with a target, against the bare httpx line loop."""
    if not mine or not bare:
        return []
    size = max(r.tokens for r in mine)
    loop = next((r.result for r in bare if r.tokens == size and r.result and r.result.ok), None)
    checks = []
    for row in mine:
        limit = BARE_TARGETS.get(row.mode)
        res = _ok(row)
        if limit is None or row.tokens != size or res is None or loop is None:
            continue
        ratio = res.wall / loop.wall
        checks.append(Check(f"{row.shape} {row.mode} {size} wall vs bare line loop",
                            f"{ratio:.2f}× ({res.wall:.3f} / {loop.wall:.3f} s)",
                            f"≤ {limit}", "ok" if ratio <= limit else "over"))
    return checks


def _shape_checks(mine: Sequence[Row], shape: str, answer_bytes: dict[tuple[str, int], int],
                  rendered_bytes: dict[tuple[str, int], int]) -> list[Check]:
    modes = list(dict.fromkeys(r.mode for r in mine))
    sizes = sorted({r.tokens for r in mine})
    by_key = {(r.mode, r.tokens): r for r in mine}
    if not sizes:
        return []
    checks = (_scaling_checks(by_key, modes, sizes[-1], sizes[-2], shape)
              if len(sizes) >= 2 else [])
    for mode in modes:
        row = by_key.get((mode, sizes[-1]))
        res = _ok(row) if row else None
        if row is None or res is None:
            continue
        checks += _floor_checks(row, res)
        if answer_bytes.get((shape, row.tokens)):
            checks.append(_bytes_check(row, res, answer_bytes[shape, row.tokens]))
        if row.mode == "rich" and rendered_bytes.get((shape, row.tokens)):
            checks.append(_rendered_check(row, res, rendered_bytes[shape, row.tokens]))
    return checks


def _rendered_check(row: Row, res: Result, rendered: int) -> Check:
    """Terminal bytes against a one-go render: more means repainting."""
    ratio = res.bytes_out / rendered
    name = f"{row.shape} {row.mode} {row.tokens} bytes out / one-go render bytes"
    value = f"{ratio:.3f} ({res.bytes_out:,} / {rendered:,})"
    return Check(name, value, "≤ 3", "ok" if ratio <= 3 else "over (repainting)")


def _import_lines(profile: ImportProfile) -> list[str]:
    lines = [f"### `{profile.command}`", ""]
    if profile.error:
        return [*lines, f"FAILED: {profile.error}", ""]
    total = profile.total_us / 1000
    lines.append(f"{profile.modules} modules imported, {total:.1f} ms in imports in all.")
    lines.append("")
    lines += _table(
        ["cumulative ms", "self ms", "module"],
        [[f"{c / 1000:.1f}", f"{s / 1000:.1f}", f"`{m}`"] for c, s, m in profile.top],
        "rrl",
    )
    lines.append("")
    watched = ", ".join(
        f"`{m}`: {'imported' if hit else 'not imported'}" for m, hit in profile.watched.items()
    )
    lines += [f"Watched: {watched}", ""]
    return lines


def render(report: Report) -> str:
    """Format ``report`` as Markdown."""
    lines = ["# chatcli benchmark", ""]
    lines += [f"- {k}: {v}" for k, v in report.header]
    lines.append("")
    if report.startup:
        lines += ["## Startup (best wall of the repeats)", "", *_startup_lines(report.startup), ""]
    if report.first_byte:
        lines += [
            "## First byte (1-token reply, time from spawn)",
            "",
            *_first_byte_lines(report.first_byte),
            "",
        ]
    if report.stream:
        lines += ["## Streaming", "", *_stream_lines(report.stream), ""]
        if report.answer_bytes:
            sizes = ", ".join(
                f"{shape} {n}: {b:,}" for (shape, n), b in sorted(report.answer_bytes.items())
            )
            lines += [f"Answer size in bytes (shape tokens: bytes): {sizes}", ""]
    if report.checks:
        body = [[c.name, c.value, c.target, c.verdict] for c in report.checks]
        lines += [
            "## Checks",
            "",
            *_table(["check", "value", "target", "verdict"], body, "lrll"),
            "",
        ]
    if report.imports:
        lines += ["## Import time (top cumulative)", ""]
        for profile in report.imports:
            lines += _import_lines(profile)
    lines += [f"- {k}: {v}" for k, v in report.footer]
    return "\n".join(lines).rstrip() + "\n"


def write_report(report: Report) -> None:
    """Write the rendered report to stdout."""
    sys.stdout.write(render(report))
    sys.stdout.flush()
