"""The REPL's slash commands: what ``/model``, ``/save``, ``/undo``… do to a ``ChatSession``.

Each command is a function ``(session, arg)`` registered in ``COMMANDS`` (the
order of ``/help``). Commands raise ``UsageError`` for bad arguments; the
session prints it as one line and the REPL goes on. Nothing here touches
prompt-toolkit or the terminal's keys.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.dotted import MISSING, deep_merge, lookup, without
from chatcli.errors import ChatcliError, UsageError
from chatcli.protocol.messages import Message, options_to_fields
from chatcli.repl.exchange import exchange, send
from chatcli.repl.registry import COMMANDS, Command, command
from chatcli.session.conversation import Resumed, load_messages
from chatcli.session.extract import code_block

if TYPE_CHECKING:
    from chatcli.history import Conversation, HistoryStore, StoredMessage
    from chatcli.repl.session import ChatSession


KEYS_HELP = ("keys: Enter sends · Alt-Enter or Ctrl-J: new line · Ctrl-X Ctrl-E: edit in $EDITOR"
             " · Ctrl-R: search input history · Ctrl-C: cancel · Ctrl-D: leave")
HISTORY_LIMIT = 20


@command("help", "", "list the commands and keys")
def show_help(session: ChatSession, arg: str) -> None:
    width = max(len(f"/{name} {c.args}") for name, c in COMMANDS.items())
    lines = [f"  {f'/{name} {c.args}'.ljust(width)}  {c.help}" for name, c in COMMANDS.items()]
    session.say("\n".join([*lines, "  //TEXT sends a message that starts with /", KEYS_HELP]))


@command("model", "[NAME]", "switch the model; without NAME, show it")
def set_model(session: ChatSession, arg: str) -> None:
    if arg:
        session.use_model(arg)
    alias = session.settings.model_alias
    shown = f" (alias {alias})" if alias and session.model == session.settings.model else ""
    session.say(f"model: {session.model}{shown}")


@command("system", "[TEXT]", "set the system message; without TEXT, show it")
def set_system(session: ChatSession, arg: str) -> None:
    messages = session.messages
    has_system = bool(messages) and messages[0].get("role") == "system"
    if not arg:
        session.say(str(messages[0].get("content")) if has_system else "(no system message)")
        return
    session.set_system(arg)
    session.say("system message set")


@command("set", "KEY VALUE", "set a request field, as -o (JSON values parse, dotted keys nest)")
def set_field(session: ChatSession, arg: str) -> None:
    key, _, value = arg.partition(" ")
    path = key.split(".")
    if not key or not value.strip():
        raise UsageError("usage: /set KEY VALUE")
    if path[0] == "messages":
        raise UsageError("/set cannot change the messages")
    session.fields = deep_merge(session.fields, options_to_fields([f"{key}={value.strip()}"]))
    session.removed = [p for p in session.removed if p[:len(path)] != path]
    session.say(f"{key} = {json.dumps(lookup(session.body(), path), ensure_ascii=False)}")


@command("unset", "KEY", "remove a request field")
def unset_field(session: ChatSession, arg: str) -> None:
    path = arg.split(".")
    if not arg or " " in arg:
        raise UsageError("usage: /unset KEY")
    if path[0] == "messages":
        raise UsageError("/unset cannot remove the messages")
    if lookup(session.body(), path) is MISSING:
        raise UsageError(f"{arg} is not in the request")
    session.fields = without(session.fields, path)
    if lookup(session.body(), path) is not MISSING:  # it comes from the profile
        session.removed.append(path)
    session.say(f"{arg} unset")


@command("attach", "PATH…", "inline text files in the next message")
def attach(session: ChatSession, arg: str) -> None:
    from chatcli.media.attachments import read_text_file
    from chatcli.session.outgoing import Piece

    paths = _words(arg, "/attach PATH…")
    session.queued_text.extend([Piece(p, read_text_file(p, session.max_bytes), label=p)
                                for p in paths])
    session.say(f"attached to the next message: {', '.join(paths)}")


@command("image", "PATH|URL…", "attach images to the next message")
def attach_image(session: ChatSession, arg: str) -> None:
    from chatcli.media.attachments import image_part

    sources = _words(arg, "/image PATH|URL…")
    session.queued_parts.extend([image_part(s, session.max_bytes, session.image_detail)
                                 for s in sources])
    session.say(f"images for the next message: {', '.join(sources)}")


@command("paste", "", "attach the clipboard's image to the next message")
def paste(session: ChatSession, arg: str) -> None:
    from chatcli.media.clipboard import clipboard_image

    session.queued_parts.append(clipboard_image(session.max_bytes))
    session.say("clipboard image attached to the next message")


@command("clear", "", "start a new conversation (the system message stays)")
def clear(session: ChatSession, arg: str) -> None:
    session.messages = [m for m in session.messages[:1] if m.get("role") == "system"]
    session.replies, session.summarised = [], []
    session.recorder = Resumed(session.store).recorder(session.settings)
    session.say("new conversation")


@command("undo", "", "drop the last exchange, here and in the history")
def undo(session: ChatSession, arg: str) -> None:
    drop_last_exchange(session)
    session.say("dropped the last exchange")


@command("retry", "", "ask for the last answer again")
def retry(session: ChatSession, arg: str) -> None:
    exchange(session, drop_last_exchange(session))


def drop_last_exchange(session: ChatSession) -> Message:
    """Remove the last user message and what followed it; return that message."""
    users = [i for i, m in enumerate(session.messages) if m.get("role") == "user"]
    if not users:
        raise UsageError("there is no exchange to drop")
    message: Message = session.messages[users[-1]]
    del session.messages[users[-1]:]
    recorder = session.recorder
    if session.store is not None and recorder is not None and recorder.conversation_id:
        session.store.drop_last_exchange(recorder.conversation_id)
        recorder.known = min(recorder.known, len(session.messages))
    return message


@command("history", "", "list recent conversations (* marks this one)")
def list_history(session: ChatSession, arg: str) -> None:
    from chatcli.history.export import titled

    for c in _store(session).conversations(HISTORY_LIMIT):
        mark = "*" if c.id == session.conversation_id else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated_at))
        session.say(f"{mark} {c.id}  {when}  {c.message_count:>4} msgs  {c.model or '-'}"
                    f"  {titled(c)}")


@command("load", "ID", "switch to a stored conversation (id or prefix)")
def load(session: ChatSession, arg: str) -> None:
    store = _store(session)
    if not arg:
        raise UsageError("usage: /load ID (see /history)")
    conversation = store.resolve(arg)
    session.switch_to(conversation.id, load_messages(store, conversation.id, session.env))
    session.say(f"loaded {conversation.id}: {conversation.title}"
                f" ({len(session.messages)} messages)")
    session.say(recap(session.messages))


RECAP_MESSAGES = 6  # the last messages /load shows
RECAP_CHARS = 300  # of each


def recap(messages: Sequence[Mapping[str, Any]]) -> str:
    """The end of a conversation, so that one loaded shows where it stands."""
    from chatcli.history.export import plain_text

    lines = [] if len(messages) <= RECAP_MESSAGES else [
        f"  … {len(messages) - RECAP_MESSAGES} earlier messages"]
    for message in messages[-RECAP_MESSAGES:]:
        text = " ".join(plain_text(dict(message)).split())
        cut = text if len(text) <= RECAP_CHARS else text[:RECAP_CHARS - 1] + "…"
        lines.append(f"  [{message.get('role', '?')}] {cut}")
    return "\n".join(lines)


def _store(session: ChatSession) -> HistoryStore:
    if session.store is None:
        raise UsageError("the history is turned off (--no-history, or history = false)")
    return session.store


@command("save", "FILE", "save the conversation: JSON if FILE ends in .json, else Markdown")
def save(session: ChatSession, arg: str) -> None:
    if not arg:
        raise UsageError("usage: /save FILE")
    path = Path(arg).expanduser()
    conversation, stored = _as_stored(session)
    if path.suffix.lower() == ".json":  # the shape of `chatcli history export --format json`
        from chatcli.history.export import document

        text = json.dumps(document(conversation, stored), ensure_ascii=False, indent=2) + "\n"
    else:
        from chatcli.history.export import markdown_export

        text = markdown_export(conversation, stored)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from exc
    session.say(f"saved {len(stored)} messages to {path}")


def _as_stored(session: ChatSession) -> tuple[Conversation, list[StoredMessage]]:
    """The conversation as the history holds it, or as it stands here if it is not stored."""
    from chatcli.history import Conversation, StoredMessage, message_text, title_of

    cid = session.conversation_id
    if session.store is not None and cid is not None:
        return session.store.resolve(cid), session.store.messages(cid)
    now, known = time.time(), {id(m): (s, u) for m, s, u in session.replies}
    stored = []
    for message in session.messages:
        status, usage = known.get(id(message), ("complete", None))
        stored.append(StoredMessage(message, status, now, usage))
    first: Mapping[str, Any] = next(
        (m for m in session.messages if m.get("role") == "user"), {})
    settings = session.settings
    return Conversation("-", title_of(message_text(first)), now, now, settings.profile,
                        settings.base_url, session.model), stored


@command("copy", "[code]", "copy the last answer (or its last code block) to the clipboard")
def copy(session: ChatSession, arg: str) -> None:
    if arg not in ("", "code"):
        raise UsageError("usage: /copy [code]")
    text = _last_answer(session, "there is no answer to copy")
    if arg == "code":
        text = code_block(text, None).code
    from chatcli.session.clipboard import copy_text

    copy_text(session.env, text, terminal=session.env.stdout)  # the REPL's screen: OSC 52
    session.say(f"copied {len(text)} characters to the clipboard")


@command("extract", "[N] [FILE]", "write the last answer's Nth code block (default: the last)"
         " to FILE; without FILE, show it")
def extract(session: ChatSession, arg: str) -> None:
    number, target = _extract_words(arg)
    block = code_block(_last_answer(session, "there is no answer to extract from"), number)
    if target is None and not session.env.stdout_is_terminal:
        session.say(block.code)
        return
    if target is None:
        from chatcli.render.console import terminal_console
        from chatcli.render.extract_view import print_code

        print_code(terminal_console(session.env.stdout), [block])
        return
    from chatcli.render.code_blocks import as_file

    path = Path(target).expanduser()
    try:
        path.write_text(as_file([block]), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from exc
    lines = block.code.count("\n") + 1
    session.say(f"wrote {lines} line{'s' if lines > 1 else ''} of code to {path}")


def _extract_words(arg: str) -> tuple[int | None, str | None]:
    """``[N] [>] [FILE]``: the block's number (1-based) and the file, each perhaps absent."""
    words = shlex.split(arg) if arg.strip() else []
    number = int(words.pop(0)) if words and words[0].isdigit() else None
    if words and words[0].startswith(">"):
        words[0] = words[0][1:]
        if not words[0]:
            words.pop(0)
        if not words:
            raise UsageError("usage: /extract [N] [FILE]: > needs a FILE after it")
    if len(words) > 1 or number == 0:
        raise UsageError("usage: /extract [N] [FILE] (N counts from 1)")
    return number, words[0] if words else None


def _last_answer(session: ChatSession, missing: str) -> str:
    answer: Mapping[str, Any] = next(
        (m for m in reversed(session.messages) if m.get("role") == "assistant"), {})
    content = answer.get("content")
    if not isinstance(content, str) or not content:
        raise UsageError(missing)
    return content


@command("usage", "", "tokens used in this conversation so far")
def usage(session: ChatSession, arg: str) -> None:
    prompt, completion, total, counted = session.usage_totals()
    if not counted:
        session.say("usage: no answer has reported token usage yet")
        return
    cost = session.cost_so_far(ask=True)
    from chatcli.session.cost import dollars

    priced = f" · cost {dollars(cost)} at {session.model}'s prices" if cost is not None else ""
    session.say(f"usage: prompt {prompt} · completion {completion} · total {total} tokens"
                f" ({counted} answer{'s' if counted > 1 else ''}){priced}")


@command("reasoning", "show|hide", "show or hide the model's thinking")
def reasoning(session: ChatSession, arg: str) -> None:
    if arg not in ("", "show", "hide"):
        raise UsageError("usage: /reasoning show|hide")
    session.reasoning = arg or session.reasoning
    session.say(f"reasoning: {session.reasoning}")


@command("tools", "", "list the loaded tools, where they come from and who approves them")
def list_tools(session: ChatSession, arg: str) -> None:
    from chatcli.repl.tools import describe_tools

    session.say(describe_tools(session.tools))


# In /help after the commands above: /template, /templates; /rename, /edit, /branches, /branch;
# /context, /pin, /unpin, /context-policy, /compact; /continue.
from chatcli.repl import (  # noqa: E402
    branch_commands,
    context_commands,
    continue_command,
    template_commands,
)

COMMANDS["exit"] = Command("", "leave (Ctrl-D does too)", None)
__all__ = ["COMMANDS", "branch_commands", "context_commands", "continue_command", "handle",
           "template_commands"]


def _words(arg: str, usage: str) -> list[str]:
    try:
        words = shlex.split(arg)
    except ValueError as exc:
        raise UsageError(f"{usage}: {exc}") from None
    if not words:
        raise UsageError(f"usage: {usage}")
    return words


def handle(session: ChatSession, line: str, *, message: bool = False) -> bool:
    """Do what a line asks: a slash command (unless ``message``), else send it. False
    means leave. Errors and Ctrl-C end the line, never the session."""
    try:
        return _dispatch(session, line.strip(), message)
    except ChatcliError as exc:
        session.error(exc.describe())
        if exc.hint:  # what to try instead, on the line after, as the command line has it
            session.env.log(exc.hint)
    except KeyboardInterrupt:
        session.env.stderr.write("chatcli: interrupted\n")
        session.env.stderr.flush()
    return True

def _dispatch(session: ChatSession, text: str, message: bool) -> bool:
    if not text:
        session.editing = None  # an /edit lasts for the line it filled in
        return True
    if message or not text.startswith("/") or text.startswith("//"):
        send(session, text[1:] if text.startswith("//") and not message else text)
        return True
    name, *arg = text[1:].split(None, 1) or [""]
    session.editing = None
    command = COMMANDS.get(name)
    if command is None:
        raise UsageError(f"unknown command /{name}; /help lists the commands")
    if command.run is None:
        return False
    command.run(session, arg[0].strip() if arg else "")
    return True
