"""Which conversation a command works in: a new one, the latest, one by name or id, or a
copy of one (``--fork``).

Shared by the one-shot command and the REPL. A history database that cannot
be opened or written costs a warning, not the answer; so do damaged rows left
out of a resumed conversation, and a data directory others can write to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.config import Settings, data_dir
from chatcli.errors import ConfigError, UsageError
from chatcli.sanitize import without_userinfo
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.history import Conversation, ConversationRecorder, HistoryStore, StoredMessage
    from chatcli.session.options import AskRequest


@dataclass
class Resumed:
    """The store (None without history), the conversation's id and its stored messages;
    ``fork``: they go on in a copy, made at the first write; ``name``: of a new one."""

    store: HistoryStore | None
    conversation_id: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    conversation: Conversation | None = None
    fork: bool = False
    name: str | None = None
    rows: list[tuple[int, ...]] = field(default_factory=list)  # the stored rows of each message
    last: StoredMessage | None = None  # the last message as kept (``--more`` continues it)

    def recorder(self, settings: Settings) -> ConversationRecorder | None:
        """What records the exchange: None without history, or when it cannot be written."""
        if self.store is None or self.store.read_only is not None:
            return None
        from chatcli.history import ConversationRecorder

        forked = self.conversation_id if self.fork else None
        recorder = ConversationRecorder(self.store, None if forked else self.conversation_id,
                                    len(self.messages), profile=settings.profile,
                                    base_url=settings.base_url,
                                    model_alias=settings.model_alias, name=self.name,
                                    fork_from=forked)
        if not forked:
            recorder.note_rows(zip(self.messages, self.rows, strict=False))
        return recorder


def history_path() -> Path:
    return data_dir() / "history.db"


def open_history(settings: Settings, env: Environment, *, wanted: bool,
                 continue_last: bool = False, cid: str | None = None, fork: bool = False,
                 name: str | None = None) -> Resumed:
    """Open the history (unless turned off) and load the conversation asked for (``fork``:
    to go on in a copy of it); a ``name`` for the new one is refused now if it is taken."""
    resuming = continue_last or cid is not None
    if not (wanted and settings.history):
        if resuming:
            raise UsageError("--continue and --cid need the history, which is turned off")
        if name is not None:
            raise UsageError("--name needs the history, which is turned off")
        return Resumed(None)
    from chatcli.history import HistoryError, HistoryStore
    from chatcli.paths import loose_directory_warning

    path = history_path()
    # Another user who can write here could plant a conversation for -c to replay.
    loose = loose_directory_warning(path.parent, "data directory")
    if loose is not None:
        env.warn(loose)
    try:
        store = HistoryStore.open(path)
    except HistoryError as exc:
        if resuming:
            raise
        env.warn(f"{exc.describe()}; this exchange is not kept")
        return Resumed(None)
    if store.notice is not None:
        env.warn(store.notice)
    if store.read_only is not None:
        env.warn(f"history database {store.path} cannot be written ({store.read_only});"
                 " this exchange is not kept")
    try:
        if name is not None:
            name = store.refuse_taken(name)
        return _resumed(store, env, continue_last, cid, fork, name)
    except BaseException:
        store.close()
        raise


def _resumed(store: HistoryStore, env: Environment, continue_last: bool, cid: str | None,
             fork: bool, name: str | None) -> Resumed:
    if cid is not None:
        conversation = store.resolve(cid)
    elif continue_last:
        latest = store.latest()
        if latest is None:
            raise UsageError("--continue: there is no conversation yet")
        conversation = latest
    else:
        return Resumed(store, name=name)
    loaded = load_messages(store, conversation.id, env)
    return Resumed(store, conversation.id, [m.message for m in loaded], conversation, fork=fork,
                   name=name, rows=[m.rows for m in loaded], last=loaded[-1] if loaded else None)


def continued(settings: Settings, env: Environment, request: AskRequest) -> Resumed:
    """The conversation ``-c``/``--cid`` continue, opened before anything else, since its
    settings come first; without them, nothing yet (refused input touches no history)."""
    resuming = request.continue_last or request.cid is not None
    if request.fork and not resuming:
        raise UsageError("--fork needs -c or --cid: the conversation to copy")
    if request.name is not None and resuming and not request.fork:
        raise UsageError("--name names a new conversation, and -c/--cid go on with one",
                         hint="Add --fork to name a copy, or rename it with"
                              " `chatcli history rename ID NAME`.")
    if not resuming:
        return Resumed(None)
    return open_history(settings, env, wanted=request.history,
                        continue_last=request.continue_last, cid=request.cid,
                        fork=request.fork, name=request.name)


def continued_settings(settings: Settings, env: Environment, flags: Mapping[str, Any],
                       conversation: Conversation | None,
                       template: tuple[str, Mapping[str, Any]] | None = None) -> Settings:
    """The settings a continued conversation goes on with: its own profile, base URL and
    model, unless a flag (or the template in use) says otherwise (``-P`` brings that
    profile's URL and model)."""
    if conversation is None or _chosen(settings.sources.get("profile")):
        return settings
    wanted: dict[str, Any] = {}
    if conversation.profile and conversation.profile != settings.profile:
        wanted["profile"] = conversation.profile
    if conversation.base_url and settings.sources.get("base_url") != "flag" and (
            settings.base_url is None
            or conversation.base_url != without_userinfo(settings.base_url)):
        wanted["base_url"] = conversation.base_url
    if conversation.model and not _chosen(settings.sources.get("model")):
        wanted["model"] = conversation.model
    if not wanted:
        return settings
    try:
        continued = env.settings({**flags, **wanted}, template=template)
    except ConfigError as exc:
        env.warn(f"conversation {conversation.id} cannot go on as it was made ({exc});"
                 " it goes on with the current settings")
        return settings
    if continued.base_url == without_userinfo(settings.base_url or "") and settings.base_url:
        continued = replace(continued, base_url=settings.base_url)  # keep its credentials
    return continued


def _chosen(source: str | None) -> bool:
    """Whether a setting was chosen for this run (a flag, the template), not by default."""
    return source is not None and (source == "flag" or source.startswith("template "))


def load_messages(store: HistoryStore, conversation_id: str,
                  env: Environment) -> list[StoredMessage]:
    """A stored conversation as it replays, with one warning if damaged rows are left out
    (user messages that got no answer are left out quietly: they are not sent twice) and
    its summaries in place of the messages they replace."""
    from chatcli.history import StoredMessage

    entries = store.transcript(conversation_id)
    messages = [e for e in entries if isinstance(e, StoredMessage)]
    damaged = len(entries) - len(messages)
    messages = store.replayed([m for m in messages if not m.unanswered], conversation_id)
    if damaged:
        are = "message is" if damaged == 1 else "messages are"
        env.warn(f"conversation {conversation_id}: {damaged} damaged {are} left out of what"
                 f" is sent (`chatcli history show {conversation_id}` shows them)")
    return messages
