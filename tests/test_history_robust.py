"""The history under hostile conditions: a full disk, no write access, damaged rows.

Real processes where the operating system has to refuse something: a full disk
is faked with RLIMIT_FSIZE, and read-only files with a child that has lost the
capability to override file permissions (see ``as_unprivileged``), since the
tests run as root.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import HistoryStore
from clirun import Result, process_env
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
