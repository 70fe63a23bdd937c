"""A finished batch item as the output says it, and as the history keeps it (``--history``).

The record is one JSON object: ``id``, ``index``, ``status`` (``ok`` or ``error``),
the answer text (and reasoning, when there is some), ``finish_reason``, ``usage``,
``cost`` (null when the prices are not known), ``duration``, ``trace_id``,
``model``; ``error`` (message, type, exit code) for a failure; the whole
``completion`` with ``-O json``. Main thread only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.session.batch_work import Done
    from chatcli.session.environment import Environment


def record_of(done: Done, with_completion: bool, cost: float | None) -> dict[str, Any] | None:
    """The item's output record; None for one the batch never started."""
    if not done.started:
        return None
    record: dict[str, Any] = {"id": done.item.id, "index": done.item.index}
    result = done.result
    if result is None:
        from chatcli.render.json_modes import describe

        record.update(status="error", error=describe(done.error),
                      duration=round(done.duration, 3),
                      trace_id=getattr(done.error, "trace_id", None))
        return record
    message = result.message
    choice = (result.completion.get("choices") or [{}])[0]
    record.update(status="ok", answer=message.get("content") or "")
    if message.get("reasoning_content"):
        record["reasoning"] = message["reasoning_content"]
    if message.get("tool_calls"):
        record["tool_calls"] = message["tool_calls"]
    record.update(finish_reason=choice.get("finish_reason"),
                  usage=result.completion.get("usage"), cost=cost,
                  duration=round(done.duration, 3), trace_id=result.trace_id,
                  model=result.completion.get("model"))
    if with_completion:
        record["completion"] = result.completion
    return record


def history_keeper(settings: Settings, env: Environment) -> Callable[[Done], None] | None:
    """``--history``: each item answered becomes a conversation, named ``batch-ID-N`` (the
    batch's id, the item's place), so ``history list`` tells a batch's apart."""
    from chatcli.history import ConversationRecorder
    from chatcli.session.conversation import open_history

    opened = open_history(settings, env, wanted=True)
    store = opened.store
    if store is None or store.read_only is not None:
        return None
    batch_id = secrets.token_hex(3)
    env.log(f"chatcli: batch: the history keeps each answer as batch-{batch_id}-N")
    said: list[bool] = []

    def keep(done: Done) -> None:
        if done.result is None or done.messages is None or done.body is None:
            return
        recorder = ConversationRecorder(store, profile=settings.profile,
                                        base_url=settings.base_url,
                                        name=f"batch-{batch_id}-{done.item.index + 1}")
        recorder.record_request(done.messages, done.body)
        recorder.record_reply(done.result)
        if recorder.failed is not None and not said:
            said.append(True)
            env.warn(f"the history was not saved: {recorder.failed.describe()}")
    return keep
