"""Deterministic token streams that look like a chat model's answer.

`tokens(n, seed)` returns exactly ``n`` tokens of Markdown: headings, paragraphs
with bold and inline code, bullet and numbered lists, fenced ``python`` and
``bash`` blocks of 5-30 lines, and tables of 3-6 rows.  `plain_tokens(n, seed)`
returns prose only.  Tokens are ~4 characters: word pieces carrying their
leading space, punctuation, indentation runs, and newlines (sometimes alone,
sometimes glued to the previous piece).  The same ``(n, seed)`` always yields
the same list, and ``tokens(n)`` is a prefix of ``tokens(m)`` for ``n <= m``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

WORDS: tuple[str, ...] = (
    "the",
    "a",
    "an",
    "this",
    "that",
    "each",
    "every",
    "your",
    "our",
    "its",
    "client",
    "server",
    "request",
    "response",
    "stream",
    "token",
    "buffer",
    "message",
    "session",
    "model",
    "endpoint",
    "header",
    "payload",
    "chunk",
    "terminal",
    "renderer",
    "parser",
    "config",
    "option",
    "value",
    "field",
    "timeout",
    "retry",
    "cache",
    "queue",
    "worker",
    "thread",
    "process",
    "file",
    "path",
    "line",
    "table",
    "column",
    "row",
    "list",
    "item",
    "key",
    "error",
    "status",
    "result",
    "output",
    "input",
    "event",
    "handler",
    "function",
    "module",
    "package",
    "library",
    "interface",
    "schema",
    "returns",
    "reads",
    "writes",
    "sends",
    "receives",
    "parses",
    "renders",
    "updates",
    "checks",
    "validates",
    "handles",
    "stores",
    "loads",
    "calls",
    "creates",
    "starts",
    "stops",
    "waits",
    "keeps",
    "uses",
    "needs",
    "makes",
    "is",
    "are",
    "was",
    "can",
    "should",
    "will",
    "may",
    "must",
    "does",
    "quickly",
    "safely",
    "only",
    "always",
    "usually",
    "often",
    "then",
    "also",
    "when",
    "if",
    "because",
    "so",
    "but",
    "and",
    "or",
    "with",
    "without",
    "for",
    "from",
    "into",
    "over",
    "after",
    "before",
    "by",
    "in",
    "on",
    "of",
    "to",
    "at",
    "as",
    "once",
    "per",
    "between",
    "across",
    "through",
    "small",
    "large",
    "fast",
    "slow",
    "simple",
    "explicit",
    "default",
    "incremental",
    "streaming",
    "asynchronous",
    "configurable",
    "predictable",
    "expensive",
    "cheap",
    "correct",
    "complete",
    "partial",
    "visible",
    "latency",
    "throughput",
    "memory",
    "performance",
    "behaviour",
    "context",
    "conversation",
    "history",
    "prompt",
    "answer",
    "question",
    "example",
    "implementation",
    "application",
    "environment",
    "variable",
    "argument",
    "connection",
    "certificate",
    "authentication",
    "authorization",
    "serialization",
    "deserialization",
    "compatibility",
    "documentation",
)

IDENTS: tuple[str, ...] = (
    "client",
    "response",
    "chunk",
    "delta",
    "buffer",
    "tokens",
    "line",
    "payload",
    "session",
    "config",
    "result",
    "text",
    "event",
    "count",
    "timeout",
    "url",
    "headers",
    "messages",
    "usage",
    "model",
    "data",
)

FUNCS: tuple[str, ...] = (
    "stream_reply",
    "parse_event",
    "render_chunk",
    "load_config",
    "send_request",
    "read_lines",
    "build_payload",
    "flush_output",
    "retry_after",
    "main",
)

SHELL: tuple[str, ...] = (
    "export OPENAI_BASE_URL=http://localhost:8000/v1",
    "python -m venv .venv && source .venv/bin/activate",
    "pip install --upgrade httpx rich",
    "curl -sN \"$OPENAI_BASE_URL/chat/completions\" -H 'Content-Type: application/json'",
    'chatcli --model local-model "summarise this file" < notes.md',
    "git status --short",
    "ls -la ~/.config/chatcli",
    'grep -rn "timeout" src/ | head -20',
    "time python -X importtime -c 'import httpx' 2> imports.log",
    'echo "done: $?"',
    'for f in *.md; do wc -l "$f"; done',
    "tail -f /var/log/app.log | grep --line-buffered ERROR",
    "sudo systemctl restart inference-server",
    "docker run --rm -p 8000:8000 local/llm:latest",
    "jq '.choices[0].delta.content' events.jsonl",
)

TOKEN_RE = re.compile(r"\n+| +(?=\n)| {2,}| ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]{1,3}| ")


def _words(rng: random.Random, lo: int, hi: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]


def _sentence(rng: random.Random, markup: bool) -> str:
    words = _words(rng, 6, 22)
    if markup and rng.random() < 0.35:
        i = rng.randrange(len(words))
        words[i] = f"`{rng.choice(IDENTS)}.{rng.choice(FUNCS)}()`"
    if markup and rng.random() < 0.25:
        i = rng.randrange(len(words) - 1)
        words[i] = f"**{words[i]} {words[i + 1]}**"
        del words[i + 1]
    if rng.random() < 0.2:
        words.insert(rng.randrange(1, len(words)), f"{rng.randint(2, 4096)}")
    text = " ".join(words)
    if rng.random() < 0.2:
        cut = text.find(" ", len(text) // 2)
        if cut > 0:
            text = f"{text[:cut]},{text[cut:]}"
    return text[0].upper() + text[1:] + rng.choice(".....!?:")


def _paragraph(rng: random.Random, markup: bool) -> str:
    return " ".join(_sentence(rng, markup) for _ in range(rng.randint(2, 5)))


def _heading(rng: random.Random) -> str:
    level = rng.choice((2, 2, 3, 3, 3, 4))
    title = " ".join(_words(rng, 2, 6)).title()
    if rng.random() < 0.3:
        title = f"Step {rng.randint(1, 9)}: {title}"
    return f"{'#' * level} {title}"


def _bullets(rng: random.Random) -> str:
    numbered = rng.random() < 0.4
    lines = []
    for i in range(rng.randint(3, 7)):
        mark = f"{i + 1}." if numbered else "-"
        lines.append(f"{mark} {_sentence(rng, True)}")
        if not numbered and rng.random() < 0.2:
            lines.append(f"  - {_sentence(rng, True)}")
    return "\n".join(lines)


def _python_line(rng: random.Random, indent: int) -> str:
    a, b = rng.choice(IDENTS), rng.choice(IDENTS)
    f = rng.choice(FUNCS)
    pad = "    " * indent
    return pad + rng.choice(
        (
            f"{a} = {f}({b}, timeout={rng.randint(1, 120)})",
            f"{a}.append({b}[{rng.randint(0, 9)}])",
            f"if not {a}:",
            f"for {a} in {b}.iter_lines():",
            f"return {a}",
            f"# {' '.join(_words(rng, 3, 8))}",
            f'{a} = json.loads({b}.removeprefix("data: "))',
            f'sys.stdout.write({a}.get("{b}", ""))',
            f"{a} += len({b})",
            f"with httpx.Client(timeout={rng.randint(5, 60)}.0) as {a}:",
            f'raise ValueError(f"bad {b}: {{{a}!r}}")',
        )
    )


def _python_block(rng: random.Random) -> str:
    lines = [
        "import json",
        "import sys",
        "",
        f"def {rng.choice(FUNCS)}({rng.choice(IDENTS)}: str) -> int:",
    ]
    indent = 1
    for _ in range(rng.randint(1, 26)):
        line = _python_line(rng, indent)
        lines.append(line)
        if line.endswith(":"):
            indent = min(indent + 1, 3)
        elif indent > 1 and rng.random() < 0.3:
            indent -= 1
    return "```python\n" + "\n".join(lines) + "\n```"


def _bash_block(rng: random.Random) -> str:
    lines = [rng.choice(SHELL) for _ in range(rng.randint(5, 30))]
    return "```bash\n" + "\n".join(lines) + "\n```"


def _table(rng: random.Random) -> str:
    cols = rng.randint(2, 4)
    head = [rng.choice(WORDS).title() for _ in range(cols)]
    rows = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(" --- " for _ in range(cols)) + "|",
    ]
    for _ in range(rng.randint(3, 6)):
        cells = [f"`{rng.choice(IDENTS)}`", *(" ".join(_words(rng, 1, 4)) for _ in range(cols - 2))]
        cells.append(f"{rng.randint(1, 999)} ms")
        rows.append("| " + " | ".join(cells[:cols]) + " |")
    return "\n".join(rows)


def _markdown_blocks(rng: random.Random) -> Iterator[str]:
    yield _paragraph(rng, True)
    while True:
        yield _heading(rng)
        for _ in range(rng.randint(2, 5)):
            kind = rng.random()
            if kind < 0.35:
                yield _paragraph(rng, True)
            elif kind < 0.55:
                yield _bullets(rng)
            elif kind < 0.70:
                yield _python_block(rng)
            elif kind < 0.82:
                yield _bash_block(rng)
            else:
                yield _table(rng)


def _plain_blocks(rng: random.Random) -> Iterator[str]:
    while True:
        yield _paragraph(rng, False)


def _split(block: str, rng: random.Random) -> Iterator[str]:
    """Cut text into ~4-character pieces; the pieces join back to ``block``."""
    for match in TOKEN_RE.finditer(block):
        piece = match.group()
        if piece.startswith("\n") or piece.isspace():
            yield piece
            continue
        while len(piece) > 7:
            size = rng.randint(3, 5)
            yield piece[:size]
            piece = piece[size:]
        yield piece


def _stream(blocks: Iterator[str], rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    first = True
    for block in blocks:
        for piece in _split(block if first else "\n\n" + block, rng):
            if piece.startswith("\n") and out and not out[-1].endswith("\n") and rng.random() < 0.4:
                out[-1] += piece
            else:
                out.append(piece)
            if len(out) > n:
                return out[:n]
        first = False
    return out[:n]


def _generate(n: int, seed: int, make: Callable[[random.Random], Iterator[str]]) -> list[str]:
    if n <= 0:
        return []
    rng = random.Random(seed)
    return _stream(make(rng), random.Random(seed + 1), n)


def tokens(n: int, seed: int = 0) -> list[str]:
    """Return ``n`` tokens of a Markdown answer (headings, lists, code, tables)."""
    return _generate(n, seed, _markdown_blocks)


def plain_tokens(n: int, seed: int = 0) -> list[str]:
    """Return ``n`` tokens of Markdown-free prose."""
    return _generate(n, seed, _plain_blocks)

