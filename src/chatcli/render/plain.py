"""Plain output for pipes and files: the answer's raw text, nothing else, on stdout.

Text is collected per network read and written (and flushed) once per read, so
a fast stream costs one write per read rather than one per token, whatever the
stream's buffering. No ANSI codes
are ever written here. Reasoning goes to stderr only with ``--reasoning show``;
tool calls are summarised on stderr; with several choices, each is headed by
``--- choice N ---`` and those after the first are printed when complete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chatcli.output_guard import TextSink
from chatcli.protocol.events import AudioDelta, Event, ReasoningDelta, TextDelta
from chatcli.protocol.result import TurnResult
from chatcli.render import RenderOptions, sources, spoken_text
from chatcli.sanitize import visible


class PlainRenderer:
    def __init__(self, out: TextSink, err: TextSink, options: RenderOptions, *,
                 out_is_terminal: bool = False, err_is_terminal: bool = False) -> None:
        self.out = out
        self.err = err
        # On a terminal, control characters are shown escaped; to a pipe, bytes pass.
        self._out_text = visible if out_is_terminal else _same
        self._err_text = visible if err_is_terminal else _same
        self.options = options
        self._show_reasoning = options.reasoning == "show"
        self._multi = options.choices > 1
        self._headed = False
        self._last = ""  # last character given to stdout (pending or written)
        self._pending: list[str] = []
        self._reasoning_open = False
        self._spoken = False  # the answer is the transcript of spoken output

    def start(self) -> None:
        pass

    def on_events(self, events: Sequence[Event], raw: str | None) -> None:
        for event in events:
            if type(event) is TextDelta:
                if event.choice == 0 and event.text:
                    self._write(self._out_text(event.text))
            elif type(event) is ReasoningDelta and self._show_reasoning and event.choice == 0:
                self._reasoning_open = not event.text.endswith("\n")
                self.err.write(self._err_text(event.text))
            elif (type(event) is AudioDelta and event.choice == 0 and event.transcript
                  and (self._spoken or not self._last)):  # only while no text came
                self._spoken = True
                self._write(self._out_text(event.transcript))

    def flush(self) -> None:
        if self._pending:
            data = "".join(self._pending)
            self._pending.clear()
            self.out.write(data)
        self.out.flush()
        if self._show_reasoning:
            self.err.flush()

    def _write(self, text: str) -> None:
        if self._reasoning_open:
            self._reasoning_open = False
            self.err.write("\n")
            self.err.flush()
        if self._multi and not self._headed:
            self._pending.append("--- choice 0 ---\n")
            self._headed = True
        self._pending.append(text)
        self._last = text[-1]

    def _end_line(self) -> None:
        if self._last and self._last != "\n":
            self._pending.append("\n")
            self._last = "\n"

    def finish(self, result: TurnResult) -> None:
        choices = result.completion["choices"]
        if self._multi and not self._headed and any(c["index"] == 0 for c in choices):
            self._pending.append("--- choice 0 ---\n")
            self._headed = True
        self._end_line()
        # Choice 0 was streamed (with one asked for, turn.py shows the first to arrive as 0).
        rest = [c for c in choices if c["index"]] if self._multi else choices[1:]
        for choice in rest:
            message = choice["message"]
            text = self._out_text(message.get("content") or spoken_text(message))
            self._pending.append(f"--- choice {choice['index']} ---\n{text}")
            self._last = text[-1:] or "\n"
            self._end_line()
        self.flush()
        self._summarise_tools(choices)
        if choices:  # sources on stderr, so that a pipe gets only the answer
            for line in sources(choices[0]["message"]):
                self.err.write(self._err_text(line) + "\n")
        self.err.flush()

    def abort(self, result: TurnResult) -> None:
        self._end_line()
        self.flush()

    def _summarise_tools(self, choices: list[dict[str, Any]]) -> None:
        for choice in choices:
            for call in choice["message"].get("tool_calls") or ():
                function = call["function"]
                line = f"tool call: {function['name']}({_compact(function['arguments'])})"
                self.err.write(self._err_text(f"{line} [{call['id']}]") + "\n")


def _same(text: str) -> str:
    return text


def _compact(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return arguments
