"""The history store and the commands around it, with real processes where it matters."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import MIGRATIONS, ConversationRecorder, HistoryStore
from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, Gate, chunk, load_stream, sse_bytes, text_stream
from test_process import read_until

SHAPES: list[dict[str, Any]] = [
    {"role": "system", "content": "Be terse."},
    {"role": "developer", "content": "Rules."},
    {"role": "user", "content": "plain text with “quotes” and 中文 and \u2028 separators"},
    {"role": "user", "name": "alice", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=",
                                            "detail": "low"}}]},
    {"role": "assistant", "content": None, "reasoning_content": "need the weather",
     "tool_calls": [{"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "assistant", "content": "It is sunny.", "refusal": None},
]


def db_path() -> Path:
    return Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db"


def store() -> HistoryStore:
    return HistoryStore.open(db_path())


def test_migrates_a_new_file_and_an_empty_one(tmp_path: Path) -> None:
    fresh = HistoryStore.open(tmp_path / "a" / "history.db")
    assert fresh.schema_version == len(MIGRATIONS)
    fresh.close()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    again = HistoryStore.open(empty)
    assert again.schema_version == len(MIGRATIONS)
    again.close()
    reopened = HistoryStore.open(empty)  # migrations are not run twice
    assert reopened.conversations() == []
    tables = {row[0] for row in sqlite3.connect(empty).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"conversations", "messages", "message_text"} <= tables


def test_database_and_folder_are_private() -> None:
    store().close()
    assert stat.S_IMODE(db_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path().parent.stat().st_mode) == 0o700
    journal = sqlite3.connect(db_path()).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_every_message_shape_round_trips() -> None:
    history = store()
    cid = history.create_conversation("t", profile=None, base_url=None, model="m")
    for message in SHAPES:
        history.append(cid, message)
    assert [m.message for m in history.messages(cid)] == SHAPES
    assert [json.dumps(m.message) for m in history.messages(cid)] == [
        json.dumps(m) for m in SHAPES]


def test_one_shot_exchange_is_recorded(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["Four."], usage={"prompt_tokens": 5, "completion_tokens": 2,
                                                  "total_tokens": 7})))
    result = run_cli(["--base-url", fakeapi.base_url, "-s", "Be terse.", "-m", "m1",
                      "--trace-id", "t-1", "two plus two"])
    assert result.exit_code == 0
    [conversation] = store().conversations()
    assert (conversation.title, conversation.model, conversation.message_count) == (
        "two plus two", "m1", 3)  # the model asked for
    messages = store().messages(conversation.id)
    assert [m.message for m in messages] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "two plus two"},
        {"role": "assistant", "content": "Four."}]
    reply = messages[-1]
    assert (reply.status, reply.finish_reason, reply.trace_id) == ("complete", "stop", "t-1")
    assert reply.model == "test-model"  # the model the server said answered
    assert reply.usage == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert reply.duration is not None and reply.time_to_first_token is not None


def test_the_user_message_is_stored_before_the_request_is_answered(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=b": thinking\n\n", rest=text_stream(["done"])))
    child = subprocess.Popen([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                              "remember me"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=process_env())
    gate.wait_reached()
    [conversation] = store().conversations()
    assert [m.message for m in store().messages(conversation.id)] == [
        {"role": "user", "content": "remember me"}]
    gate.release()
    out, _ = child.communicate(timeout=30)
    assert (child.returncode, out) == (0, b"done\n")


def test_continue_sends_exactly_the_stored_messages(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("reasoning_content")))
    assert run_cli(["--base-url", fakeapi.base_url, "-s", "sys", "first"]).exit_code == 0
    first_body = fakeapi.requests[-1].json()
    stored = [m.message for m in store().messages(store().conversations()[0].id)]
    fakeapi.add(SSE(text_stream(["second answer"])))
    assert run_cli(["--base-url", fakeapi.base_url, "-c", "second"]).exit_code == 0
    sent = fakeapi.requests[-1].json()["messages"]
    assert sent == [*stored, {"role": "user", "content": "second"}]
    assert sent[:2] == first_body["messages"]
    assert sent[2]["reasoning_content"].startswith("Okay, the user asks")
    assert len(store().conversations()) == 1
    assert store().conversations()[0].message_count == 5


def test_cid_takes_a_unique_prefix(fakeapi: FakeAPI) -> None:
    history = store()
    a = history.create_conversation("a", profile=None, base_url=None, model=None)
    history.append(a, {"role": "user", "content": "in a"})
    b = history.create_conversation("b", profile=None, base_url=None, model=None)
    history.append(b, {"role": "user", "content": "in b"})
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--cid", a[:6], "more"]).exit_code == 0
    assert fakeapi.requests[-1].json()["messages"][0] == {"role": "user", "content": "in a"}
    for bad, message in (("zz", "ids are hexadecimal"), ("0" * 12, "no conversation")):
        result = run_cli(["--base-url", fakeapi.base_url, "--cid", bad, "x"])
        assert result.exit_code == 2
        assert message in result.stderr


def test_no_history_flag_and_setting(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--no-history", "hi"]).exit_code == 0
    assert not db_path().exists()
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "config.toml").write_text("history = false\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 0
    assert not db_path().exists()
    result = run_cli(["--base-url", fakeapi.base_url, "-c", "hi"])
    assert result.exit_code == 2
    assert "need the history" in result.stderr


def test_partial_answer_is_kept_after_a_mid_stream_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("error_mid_stream")))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 5
    reply = store().messages(store().conversations()[0].id)[-1]
    assert (reply.status, reply.message["content"]) == ("error", "Here is the first part")


def test_nothing_received_leaves_no_assistant_message(fakeapi: FakeAPI) -> None:
    from fakeapi import Raw

    fakeapi.add(Raw(400, b"bad", "text/plain"))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 4
    [conversation] = store().conversations()
    assert [(m.message["role"], m.status) for m in store().transcript(conversation.id)] == [
        ("user", "error")]  # kept, so nothing typed is lost, and marked
    assert conversation.state == "failed"
    assert store().messages(conversation.id) == []  # never replayed


def test_partial_answer_is_kept_after_ctrl_c(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="Half an ans")],
                                            done=False), rest=text_stream(["wer."])))
    child = subprocess.Popen([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                              "hi"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=process_env())
    assert child.stdout is not None
    read_until(child.stdout.fileno(), b"Half an ans")
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=30)
    gate.release()
    assert child.returncode == 130
    reply = store().messages(store().conversations()[0].id)[-1]
    assert (reply.status, reply.message) == (
        "interrupted", {"role": "assistant", "content": "Half an ans"})
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "-c", "go on"]).exit_code == 0
    assert fakeapi.requests[-1].json()["messages"][1] == {"role": "assistant",
                                                          "content": "Half an ans"}


WRITER = """
import sys
from pathlib import Path
from chatcli.history import HistoryStore
store = HistoryStore.open(Path(sys.argv[1]))
shared, own, name = sys.argv[2], sys.argv[3], sys.argv[4]
for i in range(150):
    store.append(shared, {"role": "user", "content": f"{name} shared {i}"})
    store.append(own, {"role": "user", "content": f"{name} own {i}"})
"""


def test_two_processes_writing_at_once_lose_nothing() -> None:
    history = store()
    ids = [history.create_conversation(t, profile=None, base_url=None, model=None)
           for t in ("shared", "one", "two")]
    children = [subprocess.Popen([sys.executable, "-c", WRITER, str(db_path()), ids[0], own,
                                  name], env=process_env(), stderr=subprocess.PIPE)
                for own, name in ((ids[1], "one"), (ids[2], "two"))]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
    shared = [m.message["content"] for m in history.messages(ids[0])]
    assert len(shared) == 300
    for name in ("one", "two"):
        assert [c for c in shared if c.startswith(name)] == [f"{name} shared {i}"
                                                            for i in range(150)]
    assert len(history.messages(ids[1])) == len(history.messages(ids[2])) == 150


def test_two_chatcli_processes_continue_one_conversation_at_once(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["start"])))
    assert run_cli(["--base-url", fakeapi.base_url, "begin"]).exit_code == 0
    gates = [fakeapi.add(Gate(first=b": wait\n\n", rest=text_stream([f"reply {i}"])))
             for i in range(2)]
    children = []
    for i, gate in enumerate(gates):
        children.append(subprocess.Popen(
            [sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url, "-c", f"ask {i}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=process_env()))
        gate.wait_reached()
    for gate in gates:
        gate.release()
    for child in children:
        child.communicate(timeout=30)
        assert child.returncode == 0
    contents = [m.message["content"] for m in store().messages(store().conversations()[0].id)]
    assert contents[:2] == ["begin", "start"]
    assert sorted(contents[2:]) == ["ask 0", "ask 1", "reply 0", "reply 1"]


def test_the_api_key_is_never_stored(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    key = "sk-never-store-me-0123456789"
    assert run_cli(["--base-url", fakeapi.base_url, "--api-key", key, "hi"]).exit_code == 0
    for path in db_path().parent.iterdir():
        assert key.encode() not in path.read_bytes(), path


def seed_history(fakeapi: FakeAPI) -> list[str]:
    for prompt, answer in (("tell me about penguins", "Penguins swim."),
                           ("write a haiku", "Autumn moonlight")):
        fakeapi.add(SSE(text_stream([answer])))
        assert run_cli(["--base-url", fakeapi.base_url, prompt]).exit_code == 0
    return [c.id for c in store().conversations()]


def test_history_list_and_show(fakeapi: FakeAPI) -> None:
    newest, oldest = seed_history(fakeapi)
    listed = run_cli(["history", "list"])
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [newest, oldest]
    assert lines[0].endswith("write a haiku")
    assert [c["id"] for c in json.loads(run_cli(["history", "list", "--json", "-n", "1"]).stdout)
            ] == [newest]
    shown = run_cli(["history", "show", oldest[:5]])
    assert shown.exit_code == 0
    assert "[user]\ntell me about penguins\n" in shown.stdout
    assert "[assistant]\nPenguins swim.\n" in shown.stdout
    document = json.loads(run_cli(["history", "show", oldest, "--json"]).stdout)
    assert [m["message"]["content"] for m in document["messages"]] == [
        "tell me about penguins", "Penguins swim."]


def test_history_search(fakeapi: FakeAPI) -> None:
    _, oldest = seed_history(fakeapi)
    found = run_cli(["history", "search", "penguins"])
    assert found.exit_code == 0
    assert found.stdout.startswith(oldest)
    assert "[penguins]" in found.stdout.lower()
    assert run_cli(["history", "search", "walrus"]).stdout == ""


def test_history_export_delete_and_path(fakeapi: FakeAPI, tmp_path: Path) -> None:
    newest, oldest = seed_history(fakeapi)
    markdown = run_cli(["history", "export", oldest]).stdout
    assert markdown.startswith("# tell me about penguins\n")
    assert "## User\n\ntell me about penguins\n\n## Assistant\n\nPenguins swim.\n" in markdown
    target = tmp_path / "out.json"
    assert run_cli(["history", "export", oldest, "--format", "json", "-o", str(target)]
                   ).exit_code == 0
    assert json.loads(target.read_text())["conversation"]["id"] == oldest
    deleted = run_cli(["history", "delete", oldest])
    assert deleted.exit_code == 0
    assert [c.id for c in store().conversations()] == [newest]
    assert run_cli(["history", "search", "penguins"]).stdout == ""
    assert run_cli(["history", "path"]).stdout == f"{db_path()}\n"
    assert run_cli(["history", "show", oldest]).exit_code == 2


def test_recorder_appends_only_new_messages() -> None:
    history = store()
    recorder = ConversationRecorder(history)
    recorder.record_request([{"role": "user", "content": "one"}], {"model": "m"})
    recorder.record_request([{"role": "user", "content": "one"},
                             {"role": "user", "content": "two"}], {"model": "m"})
    assert recorder.conversation_id is not None
    assert [m.message["content"] for m in history.messages(recorder.conversation_id)] == [
        "one", "two"]


@pytest.mark.parametrize("args", [["history", "show", "abc"], ["history", "delete", "abc"]])
def test_unknown_ids_are_usage_errors(args: list[str]) -> None:
    store().close()
    result = run_cli(args)
    assert result.exit_code == 2
    assert result.stderr.startswith("chatcli: error: no conversation 'abc'")
