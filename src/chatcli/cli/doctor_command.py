"""``chatcli doctor``: run the probes and show the report as a table or JSON.

The probes live in ``doctor.py`` and return data; this module builds the
client (no retries, no fields dropped after a 400: a diagnosis reports what
happens the first time, as sent) and
formats the rows. Failures are rows, not errors, so a report is printed and the
exit code is 0, unless the endpoint cannot be reached at all: then the network
error is the one line on stderr, with its exit code, and there is no report.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chatcli.output_guard import write_json
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.engine.doctor import Clock, Report

HEADINGS = ("probe", "status", "time", "found")


def run_doctor_command(*, flags: dict[str, Any], headers: list[str], as_json: bool,
                       verbose: bool, ca_bundle: str | None = None, insecure: bool = False,
                       env: Environment | None = None,
                       clock: Clock = time.monotonic) -> None:
    """Probe the endpoint and model the flags resolve to, and print the report."""
    from chatcli.engine.doctor import run_doctor
    from chatcli.session.connect import open_client

    env = env or Environment.from_process()
    settings = replace(env.settings(flags), retries=0)
    # strict: a probe's 400 must be reported, not silently retried without the field
    with open_client(env, settings, headers=headers, verbose=verbose, ca_bundle=ca_bundle,
                     insecure=insecure, strict=True) as client:
        report = run_doctor(client, settings.model, clock=clock)
    if as_json:
        write_json(env.stdout, report_json(report))
        return
    env.stdout.write(format_report(report))


def report_json(report: Report) -> dict[str, Any]:
    """The report for scripts: seconds rounded to the millisecond."""
    data = report.as_dict()
    for row in data["results"]:
        row["seconds"] = round(row["seconds"], 3)
    return data


def format_report(report: Report) -> str:
    """A plain table: one probe a row, its status, its time and what it found."""
    rows = [HEADINGS, *((r.name, r.status, f"{r.seconds * 1000:.0f} ms", r.found)
                        for r in report.results)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"endpoint  {report.base_url}", f"model     {report.model}", ""]
    lines += ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)),
                         row[3]]).rstrip() for row in rows]
    return "\n".join(lines) + "\n"
