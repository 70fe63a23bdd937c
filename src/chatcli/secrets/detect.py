"""The scan: every rule over one text, overlaps settled, each hit placed by line and column.

``scan`` asks the pre-filter first and imports the detailed rules only when it hits,
so an ordinary prompt costs a few substring tests. Where rules overlap (a GitHub
token assigned to ``GITHUB_TOKEN``) the more specific one is kept, so each secret is
reported once. Pure: no I/O, nothing printed, nothing decided.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatcli.secrets.finding import Finding, Hit, mask
from chatcli.secrets.prefilter import lowered, might_contain_secrets


def scan(text: str, origin: str) -> list[Finding]:
    """Every suspected secret in ``text`` (from ``origin``: "stdin", a path…), in order."""
    if not might_contain_secrets(text):
        return []
    from chatcli.secrets import assignments, tokens  # the detailed rules load only now

    low = lowered(text)
    hits: list[Hit] = []
    for rule in tokens.RULES:
        hits.extend(rule(text))
    hits.extend(assignments.assignments(text, low))
    hits.extend(assignments.authorization_headers(text, low))
    return _place(text, origin, settle(hits))


def settle(hits: Iterable[Hit]) -> list[Hit]:
    """The hits that survive overlaps, in text order: of two that overlap, the higher
    priority wins, then the earlier start, then the longer span. One linear sweep."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.priority, h.start - h.end)):
        if kept and kept[-1].end > hit.start:
            if hit.priority <= kept[-1].priority:
                continue
            kept.pop()
        kept.append(hit)
    return kept


def _place(text: str, origin: str, hits: list[Hit]) -> list[Finding]:
    """Findings with 1-based line and column, counted once along the text."""
    findings: list[Finding] = []
    line, counted, line_start = 1, 0, 0
    for hit in hits:
        line += text.count("\n", counted, hit.start)
        line_start = text.rfind("\n", counted, hit.start) + 1 or line_start
        counted = hit.start
        column = hit.start - line_start + 1
        preview = mask(text[hit.start:hit.end], hit.shown)
        findings.append(Finding(hit.kind, origin, line, column, hit.start, hit.end, preview,
                                hit.name))
    return findings
