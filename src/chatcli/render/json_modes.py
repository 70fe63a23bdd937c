"""Machine-readable output: ``json`` (one final object) and ``events`` (one line per chunk).

``json`` prints the assembled ``chat.completion`` when the turn ends, also when
it fails: then with ``"incomplete": true`` and the error, so a script keeps
what arrived. ``events`` re-serialises each chunk as it is parsed. Half a
surrogate pair in a string is written as U+FFFD: it has no UTF-8 form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chatcli.errors import ChatcliError
from chatcli.output_guard import TextSink
from chatcli.protocol.events import Event
from chatcli.protocol.result import TurnResult
from chatcli.sanitize import visible_json, whole_characters


class JsonRenderer:
    def __init__(self, out: TextSink, hide_reasoning: bool = False,
                 terminal: bool = False) -> None:
        self.out = out
        self.hide_reasoning = hide_reasoning
        self._text = visible_json if terminal else _same
        self.final_only = False  # the caller prints the finished result itself (tool loop)

    def start(self) -> None:
        pass

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self, result: TurnResult) -> None:
        if not self.final_only:
            self._dump(result.completion)

    def abort(self, result: TurnResult) -> None:
        body = dict(result.completion)
        body["incomplete"] = True
        body["error"] = describe(result.error)
        self._dump(body)

    def _dump(self, body: Mapping[str, Any]) -> None:
        if self.hide_reasoning:
            hidden = ("reasoning_content", "reasoning_details")
            body = {**body, "choices": [
                {**c, "message": {k: v for k, v in c["message"].items() if k not in hidden}}
                for c in body["choices"]]}
        text = whole_characters(json.dumps(body, ensure_ascii=False, indent=2))
        self.out.write(self._text(text) + "\n")
        self.out.flush()


class EventsRenderer:
    """One JSON line per chunk, written once per network read.

    A chunk that arrived on one line is written as it came (it parsed, so it is
    JSON); one spread over several ``data:`` lines is re-serialised compactly.
    """

    def __init__(self, out: TextSink, terminal: bool = False) -> None:
        self.out = out
        self._text = visible_json if terminal else _same
        self._lines: list[str] = []
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def start(self) -> None:
        pass

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        if raw is None:
            return
        if "\n" in raw or "\r" in raw:  # multi-line data: make it one line
            raw = whole_characters(self._encode(json.loads(raw)))
        self._lines.append(raw)  # a chunk that parsed is already one line of JSON
        self._lines.append("\n")

    def flush(self) -> None:
        if self._lines:
            data = "".join(self._lines)
            self._lines.clear()
            self.out.write(self._text(data))
        self.out.flush()

    def finish(self, result: TurnResult) -> None:
        self.flush()

    def abort(self, result: TurnResult) -> None:
        self.flush()


def _same(text: str) -> str:
    return text


def describe(error: BaseException | None) -> dict[str, Any] | None:
    """An error as JSON: its message, class and exit code."""
    if error is None:
        return None
    if isinstance(error, ChatcliError):
        return {"message": error.describe(), "type": type(error).__name__,
                "exit_code": int(error.exit_code)}
    if isinstance(error, KeyboardInterrupt):
        return {"message": "interrupted", "type": "Interrupted", "exit_code": 130}
    return {"message": str(error), "type": type(error).__name__, "exit_code": 1}
