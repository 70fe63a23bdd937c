"""Records one conversation's turns into the history, never stopping the exchange.

The recorder is what ``turn.run_turn`` is given: it appends the request's new
messages before sending and the reply when the turn ends. It never prints;
a failed write is kept in ``failed`` for the caller to report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatcli.history.records import HistoryError, message_text, title_of
from chatcli.history.store import HistoryStore

if TYPE_CHECKING:
    from chatcli.protocol.result import TurnResult


class ConversationRecorder:
    """Records one conversation's turns; satisfies ``turn.Recorder``.

    ``known`` messages of the request are already stored (a continued
    conversation); the rest are appended before the request is sent. The reply
    is appended when the turn ends, as a partial if it was cut short; a turn
    that produced nothing leaves no assistant message behind.

    A write that fails for any reason (a full disk, data no column can hold)
    never stops the exchange: the error is kept in ``failed`` as a
    ``HistoryError``, later writes are skipped, and the caller says that the
    history was not saved.
    """

    def __init__(self, store: HistoryStore, conversation_id: str | None = None, known: int = 0,
                 *, profile: str | None = None, base_url: str | None = None,
                 model_alias: str | None = None, name: str | None = None,
                 fork_from: str | None = None) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.known = known
        self.profile = profile
        self.base_url = base_url
        self.model_alias = model_alias  # what -m said, when it was an alias
        self.name = name  # the name a conversation made here gets (--name, /rename)
        self.fork_from = fork_from  # --fork: the conversation copied at the first write
        self.parent: int | None = None  # the row the next message follows, if not the head
        self.failed: HistoryError | None = None
        self.last_user: int | None = None  # the row of this request's user message
        self.last_reply: int | None = None  # the row of the last answer stored
        self.sources: list[str] | None = None  # the next user message's -f sources, if any
        self._rows: dict[int, tuple[Mapping[str, Any], tuple[int, ...]]] = {}

    def note_rows(self, pairs: Iterable[tuple[Mapping[str, Any], tuple[int, ...]]]) -> None:
        """Which stored rows each of these messages stands for (a resumed conversation)."""
        for message, rows in pairs:
            if rows:
                self._rows[id(message)] = (message, rows)

    def rows_of(self, message: Mapping[str, Any]) -> tuple[int, ...]:
        """The rows ``message`` stands for; none if it is not stored."""
        found = self._rows.get(id(message))
        return found[1] if found is not None and found[0] is message else ()

    def record_summary(self, replaced: Sequence[Mapping[str, Any]],
                       summary: Sequence[Mapping[str, Any]], *, model: str | None,
                       usage: Mapping[str, Any] | None) -> bool:
        """Keep ``summary`` to stand for ``replaced`` when the conversation replays; False
        (nothing kept) if any of them is not stored."""
        rows = [self.rows_of(m) for m in replaced]
        if self.failed is not None or self.conversation_id is None or not all(rows):
            return False
        every = tuple(sorted({row for found in rows for row in found}))
        try:
            self.store.add_summary(self.conversation_id, every, summary, model=model,
                                   usage=usage)
        except Exception as exc:  # whatever it is, the conversation goes on
            self.failed = self._failure(exc)
            return False
        self.note_rows((m, every) for m in summary)
        return True

    def record_request(self, messages: Sequence[Mapping[str, Any]],
                       body: Mapping[str, Any]) -> None:
        if self.failed is None:
            try:
                self._record_request(messages, body)
            except Exception as exc:  # whatever it is, the answer goes on
                self.failed = self._failure(exc)

    def fork_now(self) -> None:
        """Make the copy ``--fork`` asked for now, not at the first message (the REPL, whose
        commands change the conversation before anything is sent)."""
        if self.failed is None and self.conversation_id is None and self.fork_from:
            try:
                self.conversation_id = self.store.fork(self.fork_from, self.name)
            except Exception as exc:  # whatever it is, the conversation goes on
                self.failed = self._failure(exc)

    def put_system(self, message: Mapping[str, Any]) -> None:
        """A system message set once the conversation is stored: kept first, as it is sent."""
        if self.failed is None and self.conversation_id is not None and self.known:
            try:
                if self.store.put_system(self.conversation_id, message):
                    self.known += 1
            except Exception as exc:  # whatever it is, the conversation goes on
                self.failed = self._failure(exc)

    def record_reply(self, result: TurnResult) -> None:
        """Append the reply of a ``turn.TurnResult``, complete or partial."""
        if self.failed is None:
            try:
                self._record_reply(result)
            except Exception as exc:  # whatever it is, the answer goes on
                self.failed = self._failure(exc)

    def record_joined(self, cut: Mapping[str, Any], message: Mapping[str, Any],
                      result: TurnResult, usage: Mapping[str, Any] | None,
                      duration: float | None) -> bool:
        """Keep ``message`` in place of the stored answer ``cut`` (the two parts of an
        answer ``--more`` continued); False (nothing kept) if ``cut`` is not stored."""
        rows = self.rows_of(cut)
        if self.failed is not None or self.conversation_id is None or len(rows) != 1:
            return False
        choice = (result.completion.get("choices") or [{}])[0]
        try:
            self.store.rewrite_answer(self.conversation_id, rows[0], message,
                                      status=result.status, usage=usage,
                                      finish_reason=choice.get("finish_reason"),
                                      duration=duration)
        except Exception as exc:  # whatever it is, the answer goes on
            self.failed = self._failure(exc)
            return False
        self._rows[id(message)] = (message, rows)
        self.last_reply = rows[0]
        return True

    def record_outcome(self, outcome: Mapping[str, Any], row: int | None = None) -> None:
        """What became of an answer, the last one unless ``row`` names another
        (``HistoryStore.set_outcome``)."""
        row = self.last_reply if row is None else row
        if self.failed is None and row is not None:
            try:
                self.store.set_outcome(row, outcome)
            except Exception as exc:  # whatever it is, the command's outcome stands
                self.failed = self._failure(exc)

    def _failure(self, exc: Exception) -> HistoryError:
        if isinstance(exc, HistoryError):
            return exc
        failure = HistoryError(f"history database {self.store.path}: could not record the"
                               f" exchange ({type(exc).__name__}: {exc})")
        failure.__cause__ = exc
        return failure

    def _record_request(self, messages: Sequence[Mapping[str, Any]],
                        body: Mapping[str, Any]) -> None:
        model = body.get("model")
        if self.conversation_id is None and self.fork_from is not None:
            self.conversation_id = self.store.fork(self.fork_from, self.name)
        if self.conversation_id is None:
            first = next((m for m in messages if m.get("role") == "user"), {})
            self.conversation_id = self.store.create_conversation(
                title_of(message_text(first)), profile=self.profile, base_url=self.base_url,
                model=str(model) if model else None, model_alias=self.model_alias,
                name=self.name)
        self.last_user = None
        asked = str(model) if model else None
        for message in messages[self.known:]:
            user = message.get("role") == "user"
            row = self.store.append(self.conversation_id, message, asked_model=asked,
                                    sources=self.sources if user else None, parent=self.parent)
            self.parent = None  # the rest follow it
            self._rows[id(message)] = (message, (row,))
            self.last_user = row if user else None
            if user:
                self.sources = None  # they were part of this message alone
        self.known = len(messages)

    def _record_reply(self, result: TurnResult) -> None:
        if self.conversation_id is None:
            return
        message: dict[str, Any] = result.message
        if not any(message.get(k) for k in ("content", "reasoning_content", "tool_calls",
                                             "refusal")):
            if result.status != "complete" and self.last_user is not None:
                # Kept, so nothing typed is lost, but never sent again: the caller's
                # conversation drops it too.
                self.store.mark(self.last_user, result.status)
                self.known -= 1
            self.last_user = None
            return
        choice = result.completion["choices"][0]
        self.last_reply = self.store.append(
            self.conversation_id, message, status=result.status,
            usage=result.completion.get("usage"), finish_reason=choice.get("finish_reason"),
            trace_id=result.trace_id, time_to_first_token=result.time_to_first_token,
            duration=result.duration, model=result.completion.get("model"))
        self._rows[id(message)] = (message, (self.last_reply,))
        self.known += 1
        self.last_user = None
