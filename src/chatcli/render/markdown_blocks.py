"""Splits a growing Markdown answer into finished top-level blocks and a live tail.

CommonMark closes a block for good once the next one starts, so every
top-level block but the last is final and can be printed once. Only complete
lines are parsed, and only the unprinted tail, so the cost stays linear in the
answer's length. Parsing uses the same markdown-it setup as Rich's Markdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


def block_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt().enable("strikethrough").enable("table")


class MarkdownBlocks:
    """Append text as it streams; pop finished blocks' source when there are any."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._new_lines = False
        self._parser: MarkdownIt | None = None

    def append(self, text: str) -> None:
        self._pieces.append(text)
        if "\n" in text:
            self._new_lines = True

    @property
    def tail(self) -> str:
        if len(self._pieces) > 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    def snapshot(self) -> str:
        """The unprinted tail, read without changing anything (safe from the refresh thread)."""
        return "".join(self._pieces)

    def pop_finished(self) -> tuple[str, str] | None:
        """(source, last block's token type) of the blocks now final, or None."""
        if not self._new_lines:
            return None
        self._new_lines = False
        text = self.tail
        complete = text[: text.rfind("\n") + 1]
        if not complete:
            return None
        if self._parser is None:
            self._parser = block_parser()
        starts: list[tuple[int, str]] = []
        for token in self._parser.parse(complete):
            if token.level == 0 and token.nesting != -1 and token.map is not None:
                starts.append((token.map[0], token.type))
        if len(starts) < 2:
            return None
        cut = _line_offset(text, starts[-1][0])
        self._pieces = [text[cut:]]
        return text[:cut], starts[-2][1]

    def pop_all(self) -> str:
        """The whole unprinted tail, at the end of the answer."""
        text = self.tail
        self._pieces = []
        self._new_lines = False
        return text


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset
