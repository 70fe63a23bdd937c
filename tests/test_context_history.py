"""The history keeps what each ``-f`` was with the user message it was part of, and
``history show`` lists it; ``chat -f`` reads the same sources through the same path."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from clirun import repl_turns, run_cli, spawn_repl
from fakeapi import CHAT_PATH, SSE, FakeAPI, Raw, text_stream


def conversation_ids() -> list[str]:
    listed = run_cli(["history", "list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    return [c["id"] for c in json.loads(listed.stdout)]


def test_history_show_lists_each_sources_of_a_user_message(
        fakeapi: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHELL", "/bin/sh")
    (tmp_path / "notes.md").write_text("notes\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    (tmp_path / "src" / "b.py").write_text("b = 2\n")
    fakeapi.add(Raw(200, b"<h1>Page</h1>", "text/html"), "/page")
    url = f"http://127.0.0.1:{fakeapi.port}/page"
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-f", "notes.md", "-f", url,
                      "-f", "src/", "-f", "!echo hi", "review"])
    assert result.exit_code == 0, result.stderr
    [cid] = conversation_ids()
    shown = run_cli(["history", "show", cid])
    assert shown.exit_code == 0, shown.stderr
    sent = fakeapi.requests[-1].json()["messages"][-1]["content"]
    assert f"\n[user]\nsources: -f notes.md, -f {url} (html), -f src/ (2 files),"\
           f" -f !echo hi\n{sent}\n" in shown.stdout
    assert "\n[assistant]\nok\n" in shown.stdout
    as_json = json.loads(run_cli(["history", "show", cid, "--json"]).stdout)
    user, reply = as_json["messages"]
    assert user["sources"] == ["-f notes.md", f"-f {url} (html)", "-f src/ (2 files)",
                               "-f !echo hi"]
    assert user["message"]["content"] == sent  # kept exactly as sent
    assert reply["sources"] is None


def test_a_message_without_f_has_no_sources_line(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 0
    [cid] = conversation_ids()
    shown = run_cli(["history", "show", cid]).stdout
    assert "sources:" not in shown
    assert "\n[user]\nhi\n" in shown


def test_a_version_3_database_is_migrated_forward(fakeapi: FakeAPI, tmp_path: Path) -> None:
    from chatcli.history import MIGRATIONS

    path = Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db"
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        old.executescript(script)
    old.execute("INSERT INTO conversations VALUES ('abc123abc123', 'old', 1, 1, NULL, NULL,"
                " NULL)")
    old.execute("INSERT INTO messages (conversation_id, role, message, created_at) VALUES"
                " ('abc123abc123', 'user', '{\"role\": \"user\", \"content\": \"then\"}', 1)")
    old.execute("PRAGMA user_version = 3")
    old.commit()
    old.close()
    (tmp_path / "n.txt").write_text("now\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-f", str(tmp_path / "n.txt"), "q"])
    assert result.exit_code == 0, result.stderr
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert "\n[user]\nthen\n" in run_cli(["history", "show", "abc123"]).stdout
    new = next(c for c in conversation_ids() if c != "abc123abc123")
    assert f"sources: -f {tmp_path / 'n.txt'}\n" in run_cli(["history", "show", new]).stdout


def test_chat_takes_a_url_and_keeps_its_source(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"from the page\n", "text/plain"), "/ctx.txt")
    url = f"http://127.0.0.1:{fakeapi.port}/ctx.txt"
    fakeapi.add(SSE(text_stream(["Noted."])))
    child = spawn_repl(["--base-url", fakeapi.base_url, "-f", url])
    repl_turns(child, [("what does it say", "Noted.")])
    assert child.exitstatus == 0
    chat = [r for r in fakeapi.requests if r.path == CHAT_PATH]
    assert chat[-1].json()["messages"][-1]["content"] == (
        f"what does it say\n\n```{url}\nfrom the page\n```")
    [cid] = conversation_ids()
    assert f"sources: -f {url} (text)\n" in run_cli(["history", "show", cid]).stdout
