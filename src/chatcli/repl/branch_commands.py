"""``/rename``, ``/edit``, ``/branches`` and ``/branch``: naming a conversation and going
back to an earlier message to take another way from there.

Messages are numbered as ``/edit`` lists them: the user messages of the current
branch that are sent, from 1 (``history show --tree`` shows the same numbers). An
``/edit N`` lasts for the line it fills in: sent, it starts a branch in place of
message N; an empty line or a command leaves it. The history keeps every branch
(``history.branches``); this module only changes the session and says what changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.repl.registry import command

if TYPE_CHECKING:
    from chatcli.history import HistoryStore
    from chatcli.history.branches import Branch, Tree
    from chatcli.repl.session import ChatSession

WORDS = 60  # characters of a message shown in a listing


@command("rename", "NAME", "name this conversation (unique; --cid NAME and /load NAME find it)")
def rename(session: ChatSession, arg: str) -> None:
    store = _store(session)
    if not arg:
        raise UsageError("usage: /rename NAME")
    recorder = session.recorder
    if recorder is None:
        raise UsageError("this conversation is not kept: the history cannot be written")
    if recorder.conversation_id is None:
        recorder.name = store.refuse_taken(arg)
        session.say(f"the conversation is named {recorder.name!r} once its first message"
                    " is sent")
        return
    name = store.rename(recorder.conversation_id, arg)
    session.say(f"conversation {recorder.conversation_id} is named {name!r}")


@command("edit", "[N]", "put user message N in the input line: sent, it starts a branch"
         " there; without N, list the numbers")
def edit(session: ChatSession, arg: str) -> None:
    users = _user_messages(session)
    if not arg:
        session.say("\n".join(f"  {n}  {_words(session.messages[i])}"
                              for n, i in enumerate(users, start=1))
                    or "(no user message yet)")
        return
    number = _number(arg, len(users), "/edit N", "user message", "/edit lists them")
    message = session.messages[users[number - 1]]
    text, others = _text(message.get("content"))
    session.pending_input, session.editing = text, number
    session.say(f"editing message {number}: Enter sends it as a new branch from there"
                " (an empty line or a command leaves it)")
    if others:
        session.env.warn(f"message {number} had {others} attachment"
                         f"{'s' if others > 1 else ''}; the edited message goes without")
    if session.template_prompt is not None:
        session.env.warn(f"the line holds message {number} as it was sent, the template's"
                         " prompt around it; what is sent goes into the template's prompt"
                         " again")


def start_branch(session: ChatSession, number: int) -> None:
    """Take the conversation back to before user message ``number``: the message sent next
    takes its place, in a new branch (the old one stays in the history)."""
    users = _user_messages(session)
    index = users[number - 1]
    edited = session.messages[index]
    del session.messages[index:]
    recorder = session.recorder
    if recorder is None or recorder.conversation_id is None or session.store is None:
        if recorder is not None:
            recorder.known = min(recorder.known, index)
        return
    from chatcli.history.branches import user_rows

    tree = session.store.tree(recorder.conversation_id)
    own = recorder.rows_of(edited)
    rows = user_rows(tree, tree.path())
    if len(own) == 1 and own[0] in tree.parents:  # the row it was stored as
        recorder.known = min(recorder.known, index)
        recorder.parent = tree.parents[own[0]] or 0
        return
    if len(rows) != len(users):
        raise UsageError("this conversation here no longer matches the history; /load it"
                         " again before /edit")
    recorder.known = min(recorder.known, index)
    recorder.parent = tree.parents[rows[number - 1]] or 0


@command("branches", "", "list this conversation's branches (* marks the current one)")
def list_branches(session: ChatSession, arg: str) -> None:
    store, conversation_id = _stored(session)
    tree = store.tree(conversation_id)
    current = tree.current()
    for branch in tree.branches():
        mark = "*" if current is not None and branch.number == current.number else " "
        session.say(f"{mark} {branch.number}  {_fork_point(tree, branch)}"
                    f"  {len(branch.rows)} messages  {_first_words(tree, branch)}")
    if current is None:
        session.say("  (here: a new branch, from the last message kept)")


@command("branch", "N", "switch to branch N (see /branches); the messages sent from then on"
         " are its")
def switch_branch(session: ChatSession, arg: str) -> None:
    from chatcli.session.conversation import load_messages

    store, conversation_id = _stored(session)
    branches = store.tree(conversation_id).branches()
    number = _number(arg, len(branches), "/branch N", "branch", "/branches lists them")
    branch = branches[number - 1]
    store.set_head(conversation_id, branch.rows[-1])
    session.switch_to(conversation_id, load_messages(store, conversation_id, session.env))
    last = session.messages[-1] if session.messages else {}
    session.say(f"on branch {number} ({len(session.messages)} messages); it ends:"
                f" [{last.get('role', '?')}] {_words(last)}")


def _store(session: ChatSession) -> HistoryStore:
    if session.store is None:
        raise UsageError("the history is turned off (--no-history, or history = false)")
    return session.store


def _stored(session: ChatSession) -> tuple[HistoryStore, str]:
    store = _store(session)
    conversation_id = session.conversation_id
    if conversation_id is None:
        raise UsageError("nothing is stored yet: branches start once a message is sent")
    return store, conversation_id


def _user_messages(session: ChatSession) -> list[int]:
    """The user messages ``/edit`` numbers (a summary of earlier turns is not one)."""
    from chatcli.session.compaction import is_summary

    return [i for i, m in enumerate(session.messages)
            if m.get("role") == "user" and not is_summary(m)]


def _number(arg: str, count: int, usage: str, what: str, where: str) -> int:
    if not arg.strip().isdigit() or not 1 <= int(arg) <= count:
        span = f"1 to {count}" if count else "there is none yet"
        raise UsageError(f"usage: {usage}: N is a {what}'s number ({span}; {where})")
    return int(arg)


def _text(content: Any) -> tuple[str, int]:
    """A user message's text, and how many parts of it are not text (images, audio)."""
    if isinstance(content, str):
        return content, 0
    parts = content if isinstance(content, list) else []
    texts = [p["text"] for p in parts if isinstance(p, dict) and p.get("type") == "text"
             and isinstance(p.get("text"), str)]
    return "\n\n".join(texts), len(parts) - len(texts)


def _words(message: Any) -> str:
    from chatcli.history.export import plain_text

    text = " ".join(plain_text(dict(message)).split()) if isinstance(message, dict) else ""
    return text if len(text) <= WORDS else text[:WORDS - 1] + "…"


def _fork_point(tree: Tree, branch: Branch) -> str:
    """Where a branch leaves the one it came from: "edits message 2", or "from the start"."""
    from chatcli.history.branches import user_rows

    rows, start = branch.rows, branch.start
    users = user_rows(tree, rows)
    if branch.number == 1:
        return "from the start"
    if start in users:
        return f"edits message {users.index(start) + 1}"
    return f"after message {len([r for r in users if rows.index(r) < rows.index(start)])}"


def _first_words(tree: Tree, branch: Branch) -> str:
    """The words a branch starts with: its first user message of its own, else its first."""
    from chatcli.history.branches import user_rows

    own = branch.rows[branch.rows.index(branch.start):]
    row = next(iter(user_rows(tree, own)), branch.start)
    entry = tree.entries.get(row)
    return _words(entry.message) if entry is not None and entry.message is not None else "?"
