"""Answers made of one long open block: the shapes that expose per-token work growing
with the block rather than with the screen.

`code_tokens` is a "write the whole file" answer: a sentence, then one fenced
``python`` block of about ``n / 10`` lines, closed at the end. `paragraph_tokens`
is one paragraph of prose lines joined by single newlines (no blank line), some
of them starting with a number. `tool_argument_tokens` is the JSON argument text
of one ``write_file`` tool call whose ``content`` is a long file; the server sends
it as ``tool_calls`` deltas (`TOOL_SHAPES`). All are deterministic in ``(n, seed)``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from markdown_tokens import _python_line, _sentence, _split

TOOL_SHAPES = frozenset({"toolargs"})
LINE_WIDTH = 78


def _code_lines(rng: random.Random) -> Iterator[str]:
    yield "import json"
    yield "import sys"
    indent = 0
    while True:
        if indent == 0:
            yield ""
            yield f"def step_{rng.randint(0, 99999)}(value: str) -> int:"
            indent = 1
        line = _python_line(rng, indent)
        yield line
        if line.endswith(":"):
            indent = min(indent + 1, 3)
        elif rng.random() < 0.25:
            indent -= 1


def _take(text_parts: Iterator[str], rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for part in text_parts:
        out.extend(_split(part, rng))
        if len(out) >= n:
            break
    return out[:n]


def code_tokens(n: int, seed: int = 0) -> list[str]:
    """``n`` tokens: one long fenced code block, closed by its last tokens."""
    rng, cut = random.Random(seed), random.Random(seed + 1)
    end = ["\n", "```", "\n"]
    parts = (line + "\n" for line in _code_lines(rng))
    body = _take(iter(["Here is the whole file:\n\n```python\n"]), cut, n)
    body += _take(parts, cut, max(0, n - len(end) - len(body)))
    return (body + end)[:n] if n > len(end) else body[:n]


def _prose_lines(rng: random.Random) -> Iterator[str]:
    line = ""
    while True:
        for word in _sentence(rng, True).split(" "):
            if line and len(line) + 1 + len(word) > LINE_WIDTH:
                yield line + "\n"
                line = ""
            line = f"{line} {word}" if line else word


def paragraph_tokens(n: int, seed: int = 0) -> list[str]:
    """``n`` tokens of one paragraph: lines of prose, single newlines, no blank line."""
    return _take(_prose_lines(random.Random(seed)), random.Random(seed + 1), n)


def tool_argument_tokens(n: int, seed: int = 0) -> list[str]:
    """``n`` pieces of one tool call's JSON arguments: a path and a long file's content."""
    rng, cut = random.Random(seed), random.Random(seed + 1)
    head = '{"path": "src/app.py", "content": "'
    pieces = [head[i:i + 4] for i in range(0, len(head), 4)]
    for line in _code_lines(rng):
        pieces.extend(_split(json.dumps(line + "\n")[1:-1], cut))
        if len(pieces) >= n - 1:
            break
    if n <= 1:
        return ["{}"][:n]
    kept = pieces[: n - 1]
    text = "".join(kept)
    if (len(text) - len(text.rstrip("\\"))) % 2:  # cut inside an escape: keep it JSON
        kept[-1] = kept[-1][:-1] + "x"
    return [*kept, '"}']
