"""``chatcli history …``: list, show, rename, search, export and delete stored conversations.

Reading commands work on a history that cannot be written; a damaged row is
shown as damaged, never fatal. Output goes through ``env`` (guarded streams).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from chatcli.errors import UsageError
from chatcli.history.export import (
    document,
    markdown_export,
    outcome_note,
    plain_text,
    preview,
    titled,
    when,
)
from chatcli.output_guard import json_text, write_json
from chatcli.session.conversation import history_path
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.history import HistoryStore
    from chatcli.session.spending import Tally


def _store(env: Environment) -> HistoryStore:
    """The history, read-only if it cannot be written; a doubt about what is read is said."""
    from chatcli.history import HistoryStore

    store = HistoryStore.open(history_path())
    if store.notice is not None:
        env.warn(store.notice)
    return store


def _costs(store: HistoryStore, env: Environment) -> dict[str, Tally]:
    """Each conversation's tokens and cost, priced from the config and the cache (a config
    that does not load leaves the prices unknown: listing the history must still work)."""
    from chatcli.errors import ConfigError
    from chatcli.session.spending import conversation_costs

    try:
        settings = env.settings({}, quiet=True)
    except ConfigError:
        settings = None
    return conversation_costs(store, settings)


def _cost(tally: Tally | None) -> float | None:
    return tally.cost if tally is not None and tally.answers > tally.unpriced else None


def list_conversations(limit: int, as_json: bool, env: Environment | None = None, *,
                       names_only: bool = False) -> None:
    from chatcli.session.cost import dollars

    env = env or Environment.from_process()
    if names_only:  # what shell completion offers: quiet, and the database is not made
        from chatcli.history.opening import completion_words

        env.stdout.write("".join(f"{word}\n" for word in completion_words(history_path(),
                                                                            limit)))
        return
    store = _store(env)
    found = store.conversations(limit)
    costs = _costs(store, env)
    if as_json:
        write_json(env.stdout, [{**asdict(c), "cost": _cost(costs.get(c.id))} for c in found])
        return
    for conversation in found:
        state = "" if conversation.state == "complete" else f"  [{conversation.state}]"
        cost = _cost(costs.get(conversation.id))
        shown = f"  {dollars(cost)}" if cost is not None else ""
        env.stdout.write(f"{conversation.id}  {when(conversation.updated_at)}"
                         f"  {conversation.message_count:>4} msgs  {conversation.model or '-'}"
                         f"{shown}{state}  {titled(conversation)}\n")


def show(prefix: str, as_json: bool, env: Environment | None = None, *,
         tree: bool = False) -> None:
    env = env or Environment.from_process()
    if tree and as_json:
        raise UsageError("--tree draws the branches as text; --json prints the current branch",
                         hint="Give one of them.")
    store = _store(env)
    conversation = store.resolve(prefix)
    entries = store.transcript(conversation.id)
    if as_json:
        write_json(env.stdout, document(conversation, entries))
        return
    alias = f" (alias {conversation.model_alias})" if conversation.model_alias else ""
    env.stdout.write(f"{conversation.id}  {titled(conversation)}\n"
                     f"{when(conversation.created_at)}  model {conversation.model or '-'}{alias}"
                     f"  profile {conversation.profile or '-'}\n")
    spent = _costs(store, env).get(conversation.id)
    if spent is not None and _cost(spent) is not None:
        from chatcli.session.cost import dollars

        unpriced = f", {spent.unpriced} of unknown price" if spent.unpriced else ""
        answers = f"{spent.answers} answer" + ("s" if spent.answers != 1 else "")
        env.stdout.write(f"cost {dollars(spent.cost)} for {spent.prompt + spent.completion}"
                         f" tokens in {answers}{unpriced}\n")
    drawn = store.tree(conversation.id)
    if tree:
        from chatcli.history.tree_text import draw_tree

        env.stdout.write("\n" + "".join(line + "\n" for line in draw_tree(drawn)))
        return
    branches, current = drawn.branches(), drawn.current()
    if len(branches) > 1:  # what is shown is one of them: say which
        which = f"{len(branches)} branches, this one new"
        if current is not None:
            which = f"branch {current.number} of {len(branches)}"
        env.stdout.write(f"{which} (history show --tree draws them all)\n")
    from chatcli.history import DamagedMessage

    for entry in entries:
        if isinstance(entry, DamagedMessage):
            env.stdout.write(f"\n[damaged message {entry.number}] ({entry.reason})\n"
                             f"{preview(entry.raw)}\n")
            continue
        status = "" if entry.status == "complete" else f" ({entry.status})"
        status += outcome_note(entry.outcome)
        sources = f"sources: {', '.join(entry.sources)}\n" if entry.sources else ""
        env.stdout.write(f"\n[{entry.message.get('role', '?')}]{status}\n{sources}"
                         f"{plain_text(entry.message)}\n")


def rename(prefix: str, name: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    kept = store.rename(conversation.id, name)
    env.stderr.write(f"renamed {conversation.id} to {kept!r}\n")


def search(text: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    for conversation, snippet in _store(env).search(text):
        env.stdout.write(f"{conversation.id}  {when(conversation.updated_at)}"
                         f"  {conversation.title}\n    {snippet}\n")


def export(prefix: str, format: str, output: Path | None,
           env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    entries = store.transcript(conversation.id)
    if format == "json":
        terminal = output is None and env.stdout_is_terminal
        text = json_text(document(conversation, entries), terminal=terminal) + "\n"
    else:
        text = markdown_export(conversation, entries)
    if output is None:
        env.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc.strerror}") from exc


def delete(prefix: str, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    store = _store(env)
    conversation = store.resolve(prefix)
    store.delete(conversation.id)
    env.stderr.write(f"deleted {conversation.id} ({conversation.title})\n")


def print_path(env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    env.stdout.write(f"{history_path()}\n")
