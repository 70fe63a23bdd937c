"""Names and forks, end to end through the command line: ``--name``, ``--cid NAME``,
``history rename``, ``--fork``, and the schema-5 database that must migrate to them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import MIGRATIONS, HistoryStore
from clirun import run_cli
from fakeapi import CHAT_PATH, SSE, FakeAPI, text_stream


def db_path() -> Path:
    return Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db"


def ask(fakeapi: FakeAPI, *args: str, answer: str | None = "ok") -> Any:
    if answer is not None:
        fakeapi.add(SSE(text_stream([answer])))
    return run_cli(["--base-url", fakeapi.base_url, *args])


def chats(fakeapi: FakeAPI) -> list[list[Any]]:
    return [[m["content"] for m in r.json()["messages"]] for r in fakeapi.requests
            if r.path == CHAT_PATH]


def contents(conversation: str) -> list[Any]:
    store = HistoryStore.open(db_path())
    try:
        return [m.message["content"] for m in store.messages(store.resolve(conversation).id)]
    finally:
        store.close()


def test_a_named_conversation_is_listed_shown_and_continued_by_its_name(
        fakeapi: FakeAPI) -> None:
    made = ask(fakeapi, "--name", "trip", "plan a week in Rome", answer="Day 1: the Forum")
    assert (made.exit_code, made.stdout, made.stderr) == (0, "Day 1: the Forum\n", "")
    listed = run_cli(["history", "list"])
    assert listed.exit_code == 0 and listed.stderr == ""
    assert listed.stdout.endswith("  trip: plan a week in Rome\n")
    cid = listed.stdout.split()[0]
    again = ask(fakeapi, "--cid", "trip", "and day 2?", answer="The Vatican")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "The Vatican\n", "")
    assert chats(fakeapi)[-1] == ["plan a week in Rome", "Day 1: the Forum", "and day 2?"]
    shown = run_cli(["history", "show", "trip"])
    assert shown.stdout.startswith(f"{cid}  trip: plan a week in Rome\n")
    assert '"name": "trip"' in run_cli(["history", "list", "--json"]).stdout
    ask(fakeapi, "-c", "day 3?", answer="Ostia")  # -c still takes the latest
    assert contents(cid)[-2:] == ["day 3?", "Ostia"]


def test_a_name_already_taken_is_refused_before_anything_is_sent(fakeapi: FakeAPI) -> None:
    ask(fakeapi, "--name", "trip", "first")
    taken = ask(fakeapi, "--name", "trip", "second", answer=None)
    cid = HistoryStore.open(db_path()).resolve("trip").id
    assert (taken.exit_code, taken.stdout) == (2, "")
    assert taken.stderr == (f"chatcli: error: the name 'trip' is taken by conversation {cid}\n"
                            "Names are unique: choose another, or rename that one with"
                            " `chatcli history rename ID NAME`.\n")
    assert len(chats(fakeapi)) == 1
    assert len(HistoryStore.open(db_path()).conversations()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "cafe", "hi"], "'cafe' would read as a conversation id"),
    (["--name", "  ", "hi"], "a conversation name cannot be empty"),
    (["--name", "a\tb", "hi"], "a conversation name is one line of printable text"),
    (["--name", "x" * 61, "hi"], "a conversation name has at most 60 characters"),
    (["--fork", "hi"], "--fork needs -c or --cid: the conversation to copy"),
    (["-c", "--name", "other", "hi"], "--name names a new conversation, and -c/--cid go on"),
    (["--no-history", "--name", "other", "hi"], "--name needs the history"),
    (["--cid", "nosuch", "hi"], "no conversation 'nosuch': no conversation has that name"),
])
def test_bad_names_and_forks_are_usage_errors(fakeapi: FakeAPI, args: list[str],
                                              message: str) -> None:
    ask(fakeapi, "first")
    refused = ask(fakeapi, *args, answer=None)
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.startswith(f"chatcli: error: {message}")
    assert len(chats(fakeapi)) == 1


def test_history_rename_names_a_conversation_and_keeps_names_unique(fakeapi: FakeAPI) -> None:
    ask(fakeapi, "first question")
    ask(fakeapi, "second question")
    first, second = [c.id for c in reversed(HistoryStore.open(db_path()).conversations())]
    renamed = run_cli(["history", "rename", first[:6], "  notes "])
    assert (renamed.exit_code, renamed.stdout, renamed.stderr) == (
        0, "", f"renamed {first} to 'notes'\n")
    clash = run_cli(["history", "rename", second, "notes"])
    assert clash.exit_code == 2
    assert clash.stderr.startswith(f"chatcli: error: the name 'notes' is taken by conversation"
                                   f" {first}\n")
    assert run_cli(["history", "rename", "notes", "notes"]).exit_code == 0  # its own name
    assert run_cli(["history", "rename", "notes", "journal"]).exit_code == 0
    assert run_cli(["history", "show", "journal"]).stdout.startswith(
        f"{first}  journal: first question\n")
    assert run_cli(["history", "show", "notes"]).exit_code == 2  # the old name is free
    assert run_cli(["history", "rename", second, "notes"]).exit_code == 0


def test_fork_goes_on_in_a_copy_and_leaves_the_original_as_it_was(fakeapi: FakeAPI) -> None:
    ask(fakeapi, "-s", "be brief", "--name", "base", "q1", answer="a1")
    original = HistoryStore.open(db_path()).resolve("base").id
    forked = ask(fakeapi, "--cid", "base", "--fork", "q2", answer="a2")
    assert (forked.exit_code, forked.stdout, forked.stderr) == (0, "a2\n", "")
    assert chats(fakeapi)[-1] == ["be brief", "q1", "a1", "q2"]
    assert contents(original) == ["be brief", "q1", "a1"]
    listed = HistoryStore.open(db_path()).conversations()
    copy = next(c for c in listed if c.id != original)
    assert (copy.name, copy.title, copy.message_count) == (None, "q1", 5)
    assert contents(copy.id) == ["be brief", "q1", "a1", "q2", "a2"]
    named = ask(fakeapi, "-c", "--fork", "--name", "second copy", "q3", answer="a3")
    assert named.exit_code == 0
    assert contents("second copy") == ["be brief", "q1", "a1", "q2", "a2", "q3", "a3"]
    assert contents(copy.id) == ["be brief", "q1", "a1", "q2", "a2"]
    assert len(HistoryStore.open(db_path()).conversations()) == 3


def test_a_refused_fork_makes_no_copy(fakeapi: FakeAPI, tmp_path: Path) -> None:
    ask(fakeapi, "q1")
    refused = ask(fakeapi, "-c", "--fork", "-f", str(tmp_path / "missing.txt"), "q2",
                  answer=None)
    assert refused.exit_code == 2
    assert len(HistoryStore.open(db_path()).conversations()) == 1


def test_a_schema_5_database_migrates_to_names_and_branches(fakeapi: FakeAPI) -> None:
    path = db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:5]:
        old.executescript(script)
    old.execute("INSERT INTO conversations (id, title, created_at, updated_at, model)"
                " VALUES ('abc123abc123', 'old one', 1, 2, 'gpt')")
    for role, text in (("user", "old question"), ("assistant", "old answer"),
                       ("user", "again"), ("assistant", "again yes")):
        old.execute("INSERT INTO messages (conversation_id, role, message, created_at)"
                    f" VALUES ('abc123abc123', '{role}',"
                    f" '{{\"role\": \"{role}\", \"content\": \"{text}\"}}', 1)")
    old.execute("PRAGMA user_version = 5")
    old.commit()
    old.close()
    assert len(MIGRATIONS) >= 6
    renamed = run_cli(["history", "rename", "abc123", "legacy"])
    assert renamed.exit_code == 0, renamed.stderr
    migrated = sqlite3.connect(path)
    assert migrated.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert migrated.execute("SELECT id, parent_id FROM messages ORDER BY id").fetchall() == [
        (1, 0), (2, 1), (3, 2), (4, 3)]
    assert migrated.execute("SELECT name, head FROM conversations").fetchall() == [
        ("legacy", 4)]
    migrated.close()
    ask(fakeapi, "--cid", "legacy", "more", answer="more yes")
    assert chats(fakeapi)[-1] == ["old question", "old answer", "again", "again yes", "more"]
    tree = run_cli(["history", "show", "legacy", "--tree"])
    assert tree.stdout.split("\n", 3)[3] == (
        "user #1: old question\nassistant: old answer\nuser #2: again\n"
        "assistant: again yes\nuser #3: more\nassistant: more yes  [branch 1, current]\n")


def test_a_fork_counts_what_was_spent_once(fakeapi: FakeAPI) -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    fakeapi.add(SSE(text_stream(["a1"], usage=usage)))
    assert run_cli(["--base-url", fakeapi.base_url, "q1"]).exit_code == 0
    before = run_cli(["usage", "--by", "model", "--json"])
    fakeapi.add(SSE(text_stream(["a2"], usage=usage)))
    assert run_cli(["--base-url", fakeapi.base_url, "-c", "--fork", "q2"]).exit_code == 0
    after = run_cli(["usage", "--by", "model", "--json"])
    assert (before.exit_code, after.exit_code) == (0, 0)
    assert '"answers": 1' in before.stdout and '"answers": 2' in after.stdout
    copy = HistoryStore.open(db_path()).latest()
    assert copy is not None
    assert [m.usage for m in HistoryStore.open(db_path()).messages(copy.id)] == [
        None, None, None, usage]
