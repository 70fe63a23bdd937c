"""Text that arrives in pieces: whole characters, and a leading ``<think>`` block.

A piece may end inside a surrogate pair or inside a ``<think>`` tag; what cannot
be decided yet is held back until the next piece of the same text, or the end.
Text only: no JSON and no events here (``events.py`` uses these per choice).
"""

from __future__ import annotations

from chatcli.sanitize import whole_characters

Key = tuple[int, str | int]  # (choice, part): "content", "reasoning", ... or a tool call index
UNCLOSED = "the answer opened <think> and never closed it; it is shown as the answer"


def whole(text: str) -> str:
    """``text`` with surrogates made whole; ASCII text (the usual case) is not searched."""
    return text if text.isascii() else whole_characters(text)


class PairJoiner:
    """Whole characters from the pieces of several texts, each named by a key.

    Fixture split_surrogate.sse: gateways slicing UTF-16 cut a surrogate pair
    between chunks. A trailing high surrogate waits for the next piece of the
    same text; one that never gets its other half becomes U+FFFD.
    """

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held: dict[Key, str] = {}  # a high surrogate awaiting its pair

    def join(self, text: str, key: Key) -> str:
        """``text`` as whole characters, less a trailing high surrogate kept for later."""
        text = self.held.pop(key, "") + text
        if text and "\ud800" <= text[-1] <= "\udbff":
            self.held[key] = text[-1]
            text = text[:-1]
        return whole_characters(text)

    def release(self, choice: int) -> list[str | int]:
        """The parts of ``choice`` left holding half a pair, now forgotten."""
        keys = [key for key in self.held if key[0] == choice]
        for key in keys:
            del self.held[key]
        return [key[1] for key in keys]


THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


class ThinkSplitter:
    """Routes a leading ``<think>…</think>`` block of content to reasoning.

    Fixture think_tags.sse: some gateways put reasoning inside content; tags may
    be split across chunks, so undecided text is held back. Fixture
    think_unclosed.sse: a block never closed was the answer after all, so the
    content is also kept as received until the block closes.
    """

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> after -> text
        self._held = ""
        self._raw: list[str] = []  # content as received, while a <think> block is open

    def split(self, text: str) -> tuple[str, str]:
        """Return (reasoning, content) for this piece of content."""
        if self._state == "text":
            return "", text
        self._held += text
        if self._state != "after":
            self._raw.append(text)
        if self._state == "start":
            probe = self._held.lstrip()
            if probe.startswith(THINK_OPEN):
                self._state, self._held = "think", probe[len(THINK_OPEN):]
            elif THINK_OPEN.startswith(probe):
                return "", ""  # could still become "<think>"
            else:
                held, self._state, self._held, self._raw = self._held, "text", "", []
                return "", held
        reasoning = ""
        if self._state == "think":
            end = self._held.find(THINK_CLOSE)
            if end < 0:
                cut = len(self._held) - _partial_suffix(self._held, THINK_CLOSE)
                reasoning, self._held = self._held[:cut], self._held[cut:]
                return reasoning, ""
            reasoning, self._held = self._held[:end], self._held[end + len(THINK_CLOSE):]
            self._state, self._raw = "after", []
        stripped = self._held.lstrip()
        self._held = ""
        if stripped:
            self._state = "text"
        return reasoning, stripped

    @property
    def decided(self) -> bool:
        """Nothing more can be reasoning: every later piece is plain content."""
        return self._state == "text"

    def flush(self) -> tuple[str, bool]:
        """End of the answer: (content still held, whether ``<think>`` was left open).

        Left open, the whole content as received is the answer.
        """
        held, state, raw = self._held, self._state, self._raw
        self._held, self._state, self._raw = "", "text", []
        if state == "think":
            return "".join(raw), True
        return held if state != "after" else held.lstrip(), False


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
