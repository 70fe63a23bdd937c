"""The figures a run is held to: ``baseline.json``, ratios to the floor from an earlier run.

Each figure is chatcli's time over the floor's in the same run (start-up, first
content, streaming wall time), so a slower or busier machine moves both sides.
A figure more than ``SLACK`` above the baseline's is a regression, and the
benchmark exits 1 saying which. A baseline is only compared on the machine it was
taken on (the same CPU count, architecture and Python); elsewhere the report
says so and compares nothing. ``--save-baseline`` writes the figures of this run.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from report import Report

SLACK = 1.10  # a figure may be 10% above its baseline before it is a regression
DEFAULT = Path(__file__).resolve().parent / "baseline.json"


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version()}


def figures(report: Report) -> dict[str, float]:
    """This run's ratios to the floor, by name (only rows measured against a floor)."""
    found: dict[str, float] = {}
    for row in report.startup:
        if row.result is not None and row.result.ok and row.floor is not None:
            found[f"startup {row.client}"] = row.result.wall / row.floor.wall
    for row in report.first_byte:
        result, floor = row.result, row.floor
        if (result is not None and result.ok and floor is not None
                and result.first_marker and floor.first_marker and row.client != "floor"):
            found[f"first content {row.mode}"] = result.first_marker / floor.first_marker
    for row in report.stream:
        if (row.result is not None and row.result.ok and row.floor is not None
                and row.client != "floor"):
            found[f"stream {row.shape} {row.mode} {row.tokens}"] = (
                row.result.wall / row.floor.wall)
    return {name: round(value, 3) for name, value in found.items()}


def save(path: Path, report: Report) -> None:
    path.write_text(json.dumps({"machine": machine(), "figures": figures(report)},
                               indent=2, sort_keys=True) + "\n", encoding="utf-8")


def compare(path: Path, report: Report) -> tuple[list[str], list[str]]:
    """The report's lines about the baseline, and the regressions among them."""
    if not path.is_file():
        return [f"- no baseline at {path} (`--save-baseline` writes one)"], []
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved.get("machine") != machine():
        return [f"- the baseline was taken on {saved.get('machine')}, this is {machine()}:"
                " not compared"], []
    lines = ["| figure | baseline × floor | now × floor | change | verdict |",
             "|---|---:|---:|---:|---|"]
    regressions = []
    for name, now in sorted(figures(report).items()):
        then = saved.get("figures", {}).get(name)
        if not then:
            continue
        change = now / then
        verdict = "ok" if change <= SLACK else "REGRESSION"
        if verdict != "ok":
            regressions.append(f"{name}: {then:.2f}× → {now:.2f}× the floor")
        lines.append(f"| {name} | {then:.2f} | {now:.2f} | {change - 1:+.0%} | {verdict} |")
    return lines, regressions
