"""The answer's Markdown: parsed into tokens safe to show, and split as it grows.

Every top-level block but the last is final once the next starts, and is
printed once; an open top-level fenced code block gives up lines as they
complete. Only complete lines are parsed, a long open block only now and then,
so the cost stays linear. Nothing here prints or styles.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatcli.render.line_buffer import LineBuffer, last_chars
from chatcli.sanitize import visible

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token as Token

SMALL_TAIL = 8_000  # characters of open tail that may be parsed at every look
REPARSE_GROWTH = 4  # a longer one is parsed again once it grew by a quarter
_BLOCK_MARKS = frozenset("#>-*+_=~`|0123456789")  # what a line that starts a block begins with


@functools.cache
def block_parser() -> MarkdownIt:
    """Rich's markdown-it setup (CommonMark, tables, strikethrough) with raw HTML off, so
    HTML is shown as the text it is; built once, shared by the splitter and the renderer."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
    parser.parse("# a\n\n- [b](c) *d* `e`\n\n| f |\n|---|\n| g |\n")  # compile every rule chain now
    return parser


def parse(source: str) -> list[Token]:
    """``source`` as tokens that are safe to show (see ``make_safe``)."""
    parser = block_parser()
    tokens = parser.parse(source)
    make_safe(tokens, parser.normalizeLink)
    return tokens


def make_safe(tokens: list[Token], normalize: Callable[[str], str]) -> None:
    """Make every text the tokens carry visible (the parser decodes character references
    such as ``&#x202E;``, so widths are computed on what is shown), and follow each link
    whose text is not its own target with that target."""
    for token in tokens:
        if token.content:
            token.content = visible(token.content)
        if token.info:
            token.info = visible(token.info)
        for key, value in token.attrs.items():
            if isinstance(value, str):
                token.attrs[key] = visible(value)
        if token.children:
            make_safe(token.children, normalize)
            token.children = _with_targets(token.children, normalize)


def _with_targets(children: list[Token], normalize: Callable[[str], str]) -> list[Token]:
    """Inline tokens with `` (target)`` after each link that does not show its target."""
    out: list[Token] = []
    link: Token | None = None
    words: list[str] = []
    for token in children:
        out.append(token)
        if token.type == "link_open":
            link, words = token, []
        elif link is None:
            continue
        elif token.type in ("text", "code_inline", "image"):
            words.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif token.type == "link_close":
            href = str(link.attrs.get("href", ""))
            if not _shows_target(link, "".join(words).strip(), href, normalize):
                out += [_text(token, " ("), link.copy(), _text(token, href), token.copy(),
                        _text(token, ")")]
            link = None
    return out


def _shows_target(link: Token, shown: str, href: str, normalize: Callable[[str], str]) -> bool:
    """Whether a link's text is its target: an autolink, or text that is the URL."""
    if link.markup == "autolink":
        return True
    return bool(shown) and href in (shown, normalize(shown), "mailto:" + shown)


def _text(like: Token, content: str) -> Token:
    return like.copy(type="text", tag="", nesting=0, attrs={}, content=content, markup="",
                     info="", children=None)


@dataclass(frozen=True)
class Finished:
    """Final top-level blocks: their source, their tokens if parsed, the last one's type."""

    source: str
    tokens: list[Token] | None
    kind: str


@dataclass(frozen=True)
class CodeLines:
    """Lines of a top-level fenced code block, given up while it is still open."""

    lexer: str
    lines: list[str]  # each ends in a newline, but perhaps the block's very last
    first: bool  # the block's first lines
    last: bool  # the block ends with these


@dataclass
class _OpenFence:
    opener: str  # the fence's first line
    lexer: str
    held: list[str] = field(default_factory=list)  # code lines not given up yet
    given: bool = False


class MarkdownBlocks:
    """Append text as it streams; pop what is final whenever there is some."""

    def __init__(self) -> None:
        self._buffer = LineBuffer()
        self._lock = threading.RLock()  # the live tail is read from the Live's thread
        self._checked = 0  # complete lines already looked at for a block start
        self._may_split = False  # such a line was seen and not parsed yet
        self._parsed_chars = 0  # size of the tail when it was last parsed
        self._fence: _OpenFence | None = None

    def append(self, text: str) -> None:
        self._buffer.append(text)

    def __bool__(self) -> bool:
        return bool(self._buffer) or self._fence is not None

    def pop_finished(self) -> list[Finished | CodeLines]:
        """What has become final since the last call, in order."""
        items: list[Finished | CodeLines] = []
        with self._lock:
            while self._feed_fence(items) if self._fence else self._split(items):
                pass
        return items

    def pop_all(self) -> list[Finished | CodeLines]:
        """Everything left, at the end of the answer."""
        items: list[Finished | CodeLines] = []
        with self._lock:
            if self._fence is not None:
                self._feed_fence(items, final=True)
            rest = self._buffer.clear()
            if rest.strip():
                items.append(Finished(rest, None, "end"))
            self._checked, self._may_split, self._parsed_chars = 0, False, 0
        return items

    def live(self, max_lines: int, max_chars: int) -> tuple[str | None, str]:
        """What the live tail shows: the last lines of the unprinted text, and the
        lexer of the open code block they belong to (None: they are Markdown)."""
        with self._lock:
            text, _ = self._buffer.window(max_lines, max_chars)
            if self._fence is None:
                return None, text
            held = last_chars(self._fence.held[-max_lines:], max_chars - len(text))
            return self._fence.lexer, held + text

    def _split(self, items: list[Finished | CodeLines]) -> bool:
        """Parse the complete lines if a new block may have started; pop the final
        blocks. True when an open fenced code block begins (its lines come next)."""
        count = self._buffer.count()
        if self._checked < count:
            fresh = self._buffer.lines(max(0, self._checked - 1), count)
            self._checked = count
            self._may_split = self._may_split or any(map(_may_start_block, fresh))
        size = self._buffer.chars
        if not self._may_split or (
                size > SMALL_TAIL and size - self._parsed_chars < size // REPARSE_GROWTH):
            return False
        self._may_split = False
        self._parsed_chars = size
        lines = self._buffer.lines()
        tokens = parse("".join(lines))
        starts = [(i, t) for i, t in enumerate(tokens)
                  if t.level == 0 and t.nesting != -1 and t.map is not None]
        if not starts:
            return False
        index, last = starts[-1]
        assert last.map is not None
        opens, cut = _is_open_fence(last, count), last.map[0]
        if len(starts) >= 2:
            items.append(Finished("".join(lines[:cut]), tokens[:index], starts[-2][1].type))
        if opens:  # what comes before the fence is printed, or blank
            self._fence = _OpenFence(lines[cut], last.info.partition(" ")[0] or "text")
            self._buffer.drop(cut + 1)
            self._checked = 0
        elif len(starts) >= 2:
            self._buffer.drop(cut)
            self._checked -= cut
            self._parsed_chars = self._buffer.chars
        return opens

    def _feed_fence(self, items: list[Finished | CodeLines], final: bool = False) -> bool:
        """Give up the open code block's lines that are final; True when it closed."""
        fence = self._fence
        assert fence is not None
        raw = self._buffer.lines()
        if final and self._buffer.open_line():
            raw.append(self._buffer.open_line())
        content: list[str] = []
        closed, consumed = final, len(raw)
        if raw:  # the same fence rule as for the whole answer: markdown-it's own
            token = parse(fence.opener + "".join(raw))[0]
            content = _split_lines(token.content)
            if len(content) < len(raw):
                closed, consumed = True, (token.map[1] if token.map else len(raw)) - 1
        if final and consumed >= len(raw):
            self._buffer.clear()
        else:
            self._buffer.drop(consumed)
        lines = fence.held + content
        if closed:
            give, fence.held = lines, []
        else:  # the last line with text, and blank lines after it, wait: the end trims them
            keep = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), 0)
            give, fence.held = lines[:keep], lines[keep:]
        if give or closed:
            items.append(CodeLines(fence.lexer, give, first=not fence.given, last=closed))
            fence.given = True
        if closed:
            self._fence = None
            self._checked, self._may_split, self._parsed_chars = 0, True, 0
        return closed


def _may_start_block(line: str) -> bool:
    """Whether a new top-level block could start at or right after this line."""
    text = line.lstrip(" \t")
    return not text.strip() or text[0] in _BLOCK_MARKS


def _is_open_fence(token: Token, lines: int) -> bool:
    """Whether ``token`` is a fenced code block still open at the end of ``lines`` lines."""
    if token.type != "fence" or token.map is None or token.map[1] != lines:
        return False
    return len(_split_lines(token.content)) == lines - token.map[0] - 1


def _split_lines(text: str) -> list[str]:
    """``text`` cut after every newline (and nowhere else)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
