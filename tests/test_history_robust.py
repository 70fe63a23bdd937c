"""The history under hostile conditions: a full disk, no write access, damaged rows.

Real processes where the operating system has to refuse something: a full disk
is faked with RLIMIT_FSIZE, and read-only files with a child that has lost the
capability to override file permissions (see ``as_unprivileged``), since the
tests run as root.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import HistoryStore
from clirun import Result, process_env, run_cli
from fakeapi import SSE, FakeAPI, text_stream


def db_path() -> Path:
    return Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db"


def seed(*messages: dict[str, Any]) -> str:
    """One stored conversation holding ``messages``; the store is closed again."""
    store = HistoryStore.open(db_path())
    cid = store.create_conversation("seeded", profile=None, base_url=None, model="m")
    for message in messages:
        store.append(cid, message)
    store.close()
    return cid


def small_files() -> None:
    """Files may not grow past 2 KB, as on a full disk."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def run_child(args: list[str], preexec: Callable[[], None] | None = None) -> Result:
    done = subprocess.run([sys.executable, "-m", "chatcli", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, env=process_env(), preexec_fn=preexec,
                          timeout=60, check=False)
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())


# -- 1: reading needs no write ----------------------------------------------


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the history runs from now on."""
    seen: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(seen.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    yield seen


WRITING = ("BEGIN", "INSERT", "UPDATE", "DELETE", "CREATE", "PRAGMA JOURNAL_MODE =",
           "PRAGMA JOURNAL_MODE=", "PRAGMA USER_VERSION =", "PRAGMA USER_VERSION=")


def test_opening_a_current_database_writes_nothing(statements: list[str]) -> None:
    seed({"role": "user", "content": "hi"})
    first = list(statements)
    assert any(s.startswith("BEGIN") for s in first)  # the migration did write
    statements.clear()
    store = HistoryStore.open(db_path())
    assert [c.title for c in store.conversations()] == ["seeded"]
    store.close()
    assert statements
    assert [s for s in statements if s.strip().upper().startswith(WRITING)] == []


def test_continue_on_a_full_disk_reads_the_conversation_and_answers(fakeapi: FakeAPI) -> None:
    seed({"role": "user", "content": "earlier"}, {"role": "assistant", "content": "before"})
    fakeapi.add(SSE(text_stream(["Answered all the same."])))
    result = run_child(["--base-url", fakeapi.base_url, "-c", "and now"], small_files)
    assert (result.exit_code, result.stdout) == (0, "Answered all the same.\n")
    [warning] = result.stderr.splitlines()
    assert warning.startswith(f"chatcli: warning: history database {db_path()}")
    assert "disk I/O error" in warning
    assert warning.endswith("this exchange is not kept")
    assert fakeapi.requests[-1].json()["messages"] == [
        {"role": "user", "content": "earlier"}, {"role": "assistant", "content": "before"},
        {"role": "user", "content": "and now"}]


def test_history_commands_read_on_a_full_disk() -> None:
    cid = seed({"role": "user", "content": "kept safe"})
    listed = run_child(["history", "list"], small_files)
    assert (listed.exit_code, listed.stderr) == (0, "")
    assert listed.stdout.startswith(cid) and listed.stdout.endswith("seeded\n")
    shown = run_child(["history", "show", cid], small_files)
    assert (shown.exit_code, shown.stderr) == (0, "")
    assert shown.stdout.endswith("\n[user]\nkept safe\n")


CHILD_APPENDS = """
import sys
from pathlib import Path
from chatcli.history import HistoryStore
store = HistoryStore.open(Path(sys.argv[1]))
store.append(sys.argv[2], {"role": "user", "content": "from the child"})
store.close()
"""


def test_opening_keeps_the_locks_of_connections_already_open() -> None:
    """Closing a descriptor of the database drops every lock the process holds on it; then
    a process that closes thinks it is the last and deletes a -wal still in use."""
    store = HistoryStore.open(db_path())
    cid = store.create_conversation("open", profile=None, base_url=None, model=None)
    HistoryStore.open(db_path()).close()  # a second store in this process comes and goes
    subprocess.run([sys.executable, "-c", CHILD_APPENDS, str(db_path()), cid],
                   env=process_env(), check=True)
    assert db_path().with_name("history.db-wal").exists()  # the child knew it was not last
    store.append(cid, {"role": "user", "content": "from the parent"})
    fresh = sqlite3.connect(db_path())
    assert [row[0] for row in fresh.execute("SELECT message FROM messages ORDER BY id")] == [
        '{"role": "user", "content": "from the child"}',
        '{"role": "user", "content": "from the parent"}']
    fresh.close()
    store.close()


# -- 2: a history that cannot be written still reads ------------------------

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def as_unprivileged() -> None:
    """In the child: root gives up the capabilities that pass over file permissions, so
    a 0555 directory or a 0444 file refuses it as it would refuse anyone."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def locked() -> Iterator[Callable[[Path, int], None]]:
    """``lock(path, mode)`` changes a mode for the test; every mode is put back after."""
    saved: list[tuple[Path, int]] = []

    def lock(path: Path, mode: int) -> None:
        saved.append((path, stat.S_IMODE(path.stat().st_mode)))
        path.chmod(mode)

    yield lock
    for path, mode in reversed(saved):
        path.chmod(mode)


def test_the_unprivileged_child_really_cannot_write(locked: Callable[[Path, int], None],
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    locked(folder, 0o555)
    probe = "import sys; open(sys.argv[1], 'w')"
    done = subprocess.run([sys.executable, "-c", probe, str(folder / "f")], capture_output=True,
                          preexec_fn=as_unprivileged, check=False)
    assert done.returncode == 1
    assert b"PermissionError" in done.stderr


READ_ONLY = ["directory", "file"]


def lock_history(what: str, lock: Callable[[Path, int], None]) -> None:
    if what == "directory":
        lock(db_path().parent, 0o555)
    else:
        lock(db_path(), 0o444)
    assert not db_path().with_name("history.db-shm").exists()  # WAL at rest


@pytest.mark.parametrize("what", READ_ONLY)
def test_read_commands_work_on_a_read_only_history(
        what: str, locked: Callable[[Path, int], None], tmp_path: Path) -> None:
    cid = seed({"role": "user", "content": "penguins swim"},
               {"role": "assistant", "content": "They do."})
    lock_history(what, locked)
    listed = run_child(["history", "list"], as_unprivileged)
    assert (listed.exit_code, listed.stderr) == (0, "")
    assert listed.stdout.startswith(cid) and listed.stdout.endswith("   2 msgs  m  seeded\n")
    shown = run_child(["history", "show", cid[:6]], as_unprivileged)
    assert (shown.exit_code, shown.stderr) == (0, "")
    assert shown.stdout.endswith("\n[user]\npenguins swim\n\n[assistant]\nThey do.\n")
    found = run_child(["history", "search", "penguins"], as_unprivileged)
    assert (found.exit_code, found.stderr) == (0, "")
    assert found.stdout.startswith(cid) and "[penguins] swim" in found.stdout
    exported = run_child(["history", "export", cid, "--format", "json"], as_unprivileged)
    assert (exported.exit_code, exported.stderr) == (0, "")
    assert [m["message"]["content"] for m in json.loads(exported.stdout)["messages"]] == [
        "penguins swim", "They do."]
    assert run_child(["history", "path"], as_unprivileged) == Result(0, f"{db_path()}\n", "")


@pytest.mark.parametrize("what", READ_ONLY)
def test_delete_on_a_read_only_history_is_one_clear_error(
        what: str, locked: Callable[[Path, int], None]) -> None:
    cid = seed({"role": "user", "content": "stay"})
    lock_history(what, locked)
    result = run_child(["history", "delete", cid], as_unprivileged)
    assert (result.exit_code, result.stdout) == (1, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(f"chatcli: error: history database {db_path()} cannot be written (")
    assert len(HistoryStore.open(db_path()).messages(cid)) == 1


@pytest.mark.parametrize(("what", "resume"), [("directory", ["-c"]), ("file", ["--cid", ""])])
def test_continuing_a_read_only_history_answers_and_warns(
        what: str, resume: list[str], fakeapi: FakeAPI,
        locked: Callable[[Path, int], None]) -> None:
    cid = seed({"role": "user", "content": "first"}, {"role": "assistant", "content": "one"})
    lock_history(what, locked)
    fakeapi.add(SSE(text_stream(["two"])))
    args = [a or cid for a in resume]
    result = run_child(["--base-url", fakeapi.base_url, *args, "second"], as_unprivileged)
    assert (result.exit_code, result.stdout) == (0, "two\n")
    reason = "attempt to write a readonly database" if what == "directory" else (
        "no write access to it")
    assert result.stderr == (f"chatcli: warning: history database {db_path()} cannot be"
                             f" written ({reason}); this exchange is not kept\n")
    assert [m["content"] for m in fakeapi.requests[-1].json()["messages"]] == [
        "first", "one", "second"]
    assert len(HistoryStore.open(db_path()).messages(cid)) == 2


def test_a_read_only_directory_without_a_database_lists_nothing(
        fakeapi: FakeAPI, locked: Callable[[Path, int], None]) -> None:
    db_path().parent.mkdir(parents=True)
    locked(db_path().parent, 0o555)
    assert run_child(["history", "list"], as_unprivileged) == Result(0, "", "")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_child(["--base-url", fakeapi.base_url, "hi"], as_unprivileged)
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert result.stderr == (f"chatcli: warning: history database {db_path()} cannot be"
                             " written (cannot create it: Permission denied); this exchange"
                             " is not kept\n")
    assert not db_path().exists()


LEAVE_WAL = """
import os, sys
from pathlib import Path
from chatcli.history import HistoryStore
store = HistoryStore.open(Path(sys.argv[1]))
store.create_conversation("only in the wal", profile=None, base_url=None, model=None)
os._exit(0)  # as if killed: the commit stays in history.db-wal, not yet in history.db
"""


def test_an_unreadable_wal_is_said_not_hidden(locked: Callable[[Path, int], None]) -> None:
    seed({"role": "user", "content": "checkpointed"})
    subprocess.run([sys.executable, "-c", LEAVE_WAL, str(db_path())], env=process_env(),
                   check=True)
    db_path().with_name("history.db-shm").unlink()
    locked(db_path().parent, 0o555)
    result = run_child(["history", "list"], as_unprivileged)
    assert result.exit_code == 0
    assert result.stdout.endswith("seeded\n") and "only in the wal" not in result.stdout
    assert result.stderr == (f"chatcli: warning: history database {db_path()} is read"
                             " without history.db-wal, which cannot be opened here; the latest"
                             " changes may be missing\n")


def test_a_file_that_is_no_database_is_an_error_not_a_read_only_history(
        fakeapi: FakeAPI) -> None:
    db_path().parent.mkdir(parents=True)
    db_path().write_bytes(b"not a database, " * 512)
    assert run_cli(["history", "list"]) == Result(
        1, "", f"chatcli: error: history database {db_path()}: file is not a database\n")
    fakeapi.add(SSE(text_stream(["answered"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]) == Result(
        0, "answered\n", f"chatcli: warning: history database {db_path()}: file is not a"
        " database; this exchange is not kept\n")


def test_a_read_only_store_refuses_writes_before_touching_the_file() -> None:
    from chatcli.history import HistoryError

    cid = seed({"role": "user", "content": "x"})
    store = HistoryStore.open(db_path())
    store.read_only = "told so"
    with pytest.raises(HistoryError, match=r"cannot be written \(told so\)"):
        store.append(cid, {"role": "user", "content": "y"})
    assert len(store.messages(cid)) == 1


# -- 3: damaged rows are shown as damaged and never sent ---------------------

# Each stored text, and the reason it is damaged (None: a message).
ROWS: list[tuple[Any, str | None]] = [
    ('{"role": "user", "content": "first"}', None),
    ("{not json", "not JSON"),
    ("[1, 2]", "not a message object"),
    ('{"content": "no role"}', "not a message object"),
    ('{"role": 5, "content": "x"}', "not a message object"),
    (b"\xff\xfe{", "not JSON"),
    ('{"role": "assistant", "content": "last"}', None),
]


def plant(rows: list[tuple[Any, str | None]] = ROWS, usage: str | None = None) -> str:
    """A conversation whose rows were written by something other than chatcli."""
    cid = seed()
    db = sqlite3.connect(db_path())
    with db:
        for raw, _ in rows:
            db.execute("INSERT INTO messages (conversation_id, role, message, usage, created_at)"
                       " VALUES (?, 'user', ?, ?, 1730000000)", (cid, raw, usage))
    db.close()
    return cid


def test_show_marks_damaged_rows_and_goes_on() -> None:
    cid = plant()
    shown = run_cli(["history", "show", cid])
    assert (shown.exit_code, shown.stderr) == (0, "")
    body = shown.stdout.split("\n", 2)[2]
    assert body == ("\n[user]\nfirst\n"
                    "\n[damaged message 2] (not JSON)\n{not json\n"
                    "\n[damaged message 3] (not a message object)\n[1, 2]\n"
                    '\n[damaged message 4] (not a message object)\n{"content": "no role"}\n'
                    '\n[damaged message 5] (not a message object)\n{"role": 5, "content": "x"}\n'
                    "\n[damaged message 6] (not JSON)\n\ufffd\ufffd{\n"
                    "\n[assistant]\nlast\n")


def test_show_json_and_export_mark_damaged_rows(tmp_path: Path) -> None:
    cid = plant()
    shown = run_cli(["history", "show", cid, "--json"])
    assert (shown.exit_code, shown.stderr) == (0, "")
    exported = run_cli(["history", "export", cid, "--format", "json"])
    assert exported.exit_code == 0
    for document in (json.loads(shown.stdout), json.loads(exported.stdout)):
        entries = document["messages"]
        assert [e["status"] for e in entries] == ["complete", *["damaged"] * 5, "complete"]
        assert entries[1] == {"status": "damaged", "number": 2, "reason": "not JSON",
                              "raw": "{not json", "created_at": 1730000000.0, "message": None}
        assert [e["raw"] for e in entries[1:6]] == [
            "{not json", "[1, 2]", '{"content": "no role"}', '{"role": 5, "content": "x"}',
            "\ufffd\ufffd{"]
    markdown = run_cli(["history", "export", cid])
    assert (markdown.exit_code, markdown.stderr) == (0, "")
    assert "## User\n\nfirst\n\n## Damaged message 2 (not JSON)\n\n```\n{not json\n```\n" in (
        markdown.stdout)
    assert markdown.stdout.endswith("## Assistant\n\nlast\n")


@pytest.mark.parametrize("how", ["-c", "--cid"])
def test_continuing_leaves_damaged_rows_out_with_one_warning(how: str,
                                                             fakeapi: FakeAPI) -> None:
    cid = plant()
    fakeapi.add(SSE(text_stream(["fine"])))
    resume = ["-c"] if how == "-c" else ["--cid", cid]
    result = run_cli(["--base-url", fakeapi.base_url, *resume, "again"])
    assert (result.exit_code, result.stdout) == (0, "fine\n")
    assert result.stderr == (f"chatcli: warning: conversation {cid}: 5 damaged messages are"
                             f" left out of what is sent (`chatcli history show {cid}`"
                             " shows them)\n")
    assert fakeapi.requests[-1].json()["messages"] == [
        {"role": "user", "content": "first"}, {"role": "assistant", "content": "last"},
        {"role": "user", "content": "again"}]


def test_the_repl_loads_and_continues_without_damaged_rows(fakeapi: FakeAPI) -> None:
    from chatcli.session.options import AskRequest
    from test_repl import err, repl

    cid = plant()
    fakeapi.add(SSE(text_stream(["after load"])))
    fakeapi.add(SSE(text_stream(["after -c"])))
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url})
    repl(request, f"/load {cid}\rnext\r")
    assert [m["content"] for m in fakeapi.requests[-1].json()["messages"]] == [
        "first", "last", "next"]
    request = AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}, cid=cid)
    _, env = repl(request, "more\r")
    assert [m["content"] for m in fakeapi.requests[-1].json()["messages"]] == [
        "first", "last", "next", "after load", "more"]
    assert "5 damaged messages are left out of what is sent" in err(env)


def test_usage_that_is_not_json_is_no_usage() -> None:
    cid = plant(ROWS[:1], usage="{oops")
    [stored] = HistoryStore.open(db_path()).messages(cid)
    assert (stored.message, stored.usage) == ({"role": "user", "content": "first"}, None)
    shown = run_cli(["history", "show", cid, "--json"])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["messages"][0]["usage"] is None


def test_odd_message_shapes_show_without_crashing() -> None:
    odd = [{"role": "user", "content": 5}, {"role": "user", "content": ["text", 3, None]},
           {"role": "assistant", "tool_calls": 7}, {"role": "assistant", "tool_calls": ["x"]},
           {"role": "assistant", "tool_calls": [{"function": "f"}]},
           {"role": "user", "content": [{"type": "text", "text": 9}]}]
    cid = plant([(json.dumps(m), None) for m in odd])
    for args in (["history", "show", cid], ["history", "export", cid]):
        result = run_cli(args)
        assert (result.exit_code, result.stderr) == (0, ""), args


# -- 4: base URLs are kept without their credentials -------------------------

SECRET = "PASS-w0rd-9f2"


def with_userinfo(base_url: str) -> str:
    return base_url.replace("http://", f"http://user:{SECRET}@", 1)


def every_view_of(cid: str) -> list[tuple[str, Any]]:
    """The base URL of ``cid`` as each command shows it."""
    views = []
    for args in (["history", "list", "--json"], ["history", "show", cid, "--json"],
                 ["history", "export", cid, "--format", "json"]):
        result = run_cli(args)
        assert result.exit_code == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr, args
        document = json.loads(result.stdout)
        conversation = document[0] if isinstance(document, list) else document["conversation"]
        views.append((args[1], conversation["base_url"]))
    return views


def test_a_base_url_is_stored_without_userinfo(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", with_userinfo(fakeapi.base_url), "hi"])
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    for path in db_path().parent.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path
    [conversation] = HistoryStore.open(db_path()).conversations()
    assert every_view_of(conversation.id) == [
        (command, fakeapi.base_url) for command in ("list", "show", "export")]


def test_userinfo_an_older_version_stored_is_never_shown() -> None:
    cid = seed({"role": "user", "content": "old"})
    db = sqlite3.connect(db_path())
    with db:
        db.execute("UPDATE conversations SET base_url = ?",
                   (f"https://me:{SECRET}@gw.example/v1",))
    db.close()
    assert every_view_of(cid) == [(c, "https://gw.example/v1")
                                  for c in ("list", "show", "export")]


def test_repl_save_leaves_userinfo_out(fakeapi: FakeAPI, tmp_path: Path) -> None:
    from chatcli.session.options import AskRequest
    from test_repl import repl

    fakeapi.add(SSE(text_stream(["ok"])))
    target = tmp_path / "saved.json"
    request = AskRequest(prompt=[], flags={"base_url": with_userinfo(fakeapi.base_url)},
                         history=False)
    repl(request, f"hi\r/save {target}\r")
    assert SECRET not in target.read_text()
    assert json.loads(target.read_text())["conversation"]["base_url"] == fakeapi.base_url


@pytest.mark.parametrize(("url", "kept"), [
    ("http://user:pass@host/v1", "http://host/v1"),
    ("http://user:p@ss@w@host:8/v1", "http://host:8/v1"),
    ("https://token@host/v1/@x", "https://host/v1/@x"),
    ("http://host/v1", "http://host/v1"),
])
def test_without_userinfo(url: str, kept: str) -> None:
    from chatcli.sanitize import without_userinfo

    assert without_userinfo(url) == kept


# -- 5: no history write stops the exchange ---------------------------------

# A lone surrogate in each piece of content: half of a character a gateway split.
SPLIT = (b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
         b'"choices":[{"index":0,"delta":{"role":"assistant","content":"half \\ud83d"},'
         b'"finish_reason":null}]}\n\n'
         b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
         b'"choices":[{"index":0,"delta":{"content":" lone \\udc00 end"},'
         b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')


def test_lone_surrogates_are_stored_mended_and_the_answer_stands(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(SPLIT))
    result = run_cli(["--base-url", fakeapi.base_url, "split here"])
    assert result == Result(0, "half \ufffd lone \ufffd end\n", "")
    store = HistoryStore.open(db_path())
    [conversation] = store.conversations()
    # The parser mends half characters (U+FFFD), so the history holds what was shown.
    assert [m.message["content"] for m in store.messages(conversation.id)] == [
        "split here", "half \ufffd lone \ufffd end"]
    assert [c.id for c, _ in store.search("lone")] == [conversation.id]


def test_lone_surrogates_in_every_column_are_stored() -> None:
    store = HistoryStore.open(db_path())
    cid = store.create_conversation("title \ud800", profile="p \udfff", base_url="http://h\ud800",
                                    model="m \ud800")
    store.append(cid, {"role": "user", "content": "c \ud800"}, status="complete",
                 finish_reason="stop \ud800", trace_id="t \ud800", model="n \udc00")
    [conversation] = store.conversations()
    assert (conversation.title, conversation.profile, conversation.model) == (
        "title \ufffd", "p \ufffd", "m \ufffd")
    [stored] = store.messages(cid)
    assert (stored.message, stored.finish_reason, stored.trace_id, stored.model) == (
        {"role": "user", "content": "c \ud800"}, "stop \ufffd", "t \ufffd", "n \ufffd")


def circular() -> dict[str, Any]:
    message: dict[str, Any] = {"role": "user", "content": "loop"}
    message["self"] = message
    return message


@pytest.mark.parametrize(("message", "kind"), [
    ({"role": "user", "content": object()}, "TypeError"),
    (circular(), "ValueError"),
    ({"role": "user", "content": "x", "n": 2 ** 70}, None),  # JSON has no integer limit
])
def test_odd_data_is_a_history_error_not_a_crash(message: dict[str, Any],
                                                 kind: str | None) -> None:
    from chatcli.history import ConversationRecorder, HistoryError

    store = HistoryStore.open(db_path())
    recorder = ConversationRecorder(store)
    recorder.record_request([message], {"model": "m"})
    if kind is None:
        assert recorder.failed is None
        return
    assert isinstance(recorder.failed, HistoryError)
    assert recorder.failed.describe().startswith(f"history database {db_path()}: ")
    assert kind in recorder.failed.describe()
    assert [c.message_count for c in store.conversations()] == [0]  # the append rolled back


class Reply:
    """A ``turn.TurnResult`` with numbers no database column can hold."""

    status = "complete"
    trace_id = None
    time_to_first_token = 10 ** 30
    duration = 1.0

    def __init__(self) -> None:
        self.message = {"role": "assistant", "content": "ok"}
        self.completion = {"choices": [{"finish_reason": "stop"}], "usage": None, "model": "m"}


def test_an_overflowing_number_is_a_history_error() -> None:
    from chatcli.history import ConversationRecorder, HistoryError

    recorder = ConversationRecorder(HistoryStore.open(db_path()))
    recorder.record_request([{"role": "user", "content": "hi"}], {"model": "m"})
    recorder.record_reply(Reply())
    assert isinstance(recorder.failed, HistoryError)
    assert "OverflowError" in recorder.failed.describe()


@pytest.mark.parametrize("error", [ValueError("bad value"), TypeError("bad type"),
                                   UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogate"),
                                   OverflowError("too big"), RuntimeError("anything")])
def test_any_failing_write_is_kept_and_later_writes_are_skipped(
        error: Exception, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatcli.history import ConversationRecorder, HistoryError

    store = HistoryStore.open(db_path())
    calls: list[object] = []

    def failing(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise error

    monkeypatch.setattr(store, "append", failing)
    recorder = ConversationRecorder(store)
    recorder.record_request([{"role": "user", "content": "hi"}], {"model": "m"})
    recorder.record_reply(Reply())
    assert len(calls) == 1
    assert isinstance(recorder.failed, HistoryError)
    assert recorder.failed.describe() == (f"history database {db_path()}: could not record"
                                          f" the exchange ({type(error).__name__}: {error})")


def test_a_write_failing_for_odd_data_still_shows_the_answer(
        fakeapi: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    def odd(*args: object, **kwargs: object) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(HistoryStore, "append", odd)
    fakeapi.add(SSE(text_stream(["The answer."])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout) == (0, "The answer.\n")
    assert result.stderr == (
        f"chatcli: warning: the history was not saved: history database {db_path()}: could"
        " not record the exchange (OverflowError: Python int too large to convert to SQLite"
        " INTEGER)\n")


# -- 6: private whatever the umask -------------------------------------------


def no_umask() -> None:
    os.umask(0)


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}


def test_everything_the_history_creates_is_private_under_umask_000(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    from fakeapi import Gate

    data = tmp_path / "new" / "parents" / "data"
    gate = fakeapi.add(Gate(first=b": thinking\n\n", rest=text_stream(["private"])))
    child = subprocess.Popen([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                              "hi"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=no_umask,
                             env=process_env({"CHATCLI_DATA_DIR": str(data)}))
    gate.wait_reached()  # the user message is stored and the database is open
    while_open = modes(tmp_path / "new")
    gate.release()
    out, err = child.communicate(timeout=30)
    assert (child.returncode, out, err) == (0, b"private\n", b"")
    assert while_open == {
        "parents": 0o700, "parents/data": 0o700, "parents/data/history.db": 0o600,
        "parents/data/history.db-wal": 0o600, "parents/data/history.db-shm": 0o600}
    assert modes(tmp_path / "new") == {"parents": 0o700, "parents/data": 0o700,
                                       "parents/data/history.db": 0o600}


def test_a_read_command_creates_a_private_history_under_umask_000(tmp_path: Path) -> None:
    data = tmp_path / "a" / "b" / "data"
    done = subprocess.run([sys.executable, "-m", "chatcli", "history", "list"],
                          capture_output=True, preexec_fn=no_umask, check=False,
                          env=process_env({"CHATCLI_DATA_DIR": str(data)}))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    assert modes(tmp_path / "a") == {"b": 0o700, "b/data": 0o700, "b/data/history.db": 0o600}


def loose_warning() -> str:
    data = db_path().parent
    return (f"chatcli: warning: the data directory {data} can be written by other users, who"
            f" could change what chatcli reads there; run `chmod 700 {data}`\n")


def test_a_data_directory_others_can_write_is_warned_about(fakeapi: FakeAPI) -> None:
    seed({"role": "user", "content": "planted?"})
    db_path().parent.chmod(0o777)
    fakeapi.add(SSE(text_stream(["ok"])))
    done = subprocess.run([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url, "-c",
                           "hi"], capture_output=True, preexec_fn=no_umask, check=False,
                          env=process_env())
    assert (done.returncode, done.stdout, done.stderr.decode()) == (0, b"ok\n", loose_warning())
    listed = run_cli(["history", "list"])
    assert (listed.exit_code, listed.stderr) == (0, "")
    fakeapi.add(SSE(text_stream(["kept quiet"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--no-history", "hi"]) == Result(
        0, "kept quiet\n", "")


def test_the_repl_warns_once_about_a_loose_data_directory(fakeapi: FakeAPI) -> None:
    from chatcli.session.options import AskRequest
    from test_repl import err, repl

    db_path().parent.mkdir(parents=True)
    db_path().parent.chmod(0o775)
    fakeapi.add(SSE(text_stream(["one"])))
    fakeapi.add(SSE(text_stream(["two"])))
    _, env = repl(AskRequest(prompt=[], flags={"base_url": fakeapi.base_url}), "a\r/clear\rb\r")
    assert err(env) == loose_warning()
