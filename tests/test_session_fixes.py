"""What the one session layer fixed: the REPL and one-shot agree, and what is sent is kept."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chatcli.errors import UsageError
from clirun import run_cli, unpublished, write_config
from fakeapi import JSON, SSE, FakeAPI, chunk, sse_bytes, text_stream
from test_repl import FUNCTIONS, PNG, answer, ask, err, no_catalog, out, repl, screen, sent


def stored_conversation() -> dict[str, Any]:
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    shown: dict[str, Any] = json.loads(run_cli(["history", "show", "--json",
                                                    listed[0]["id"]]).stdout)
    return shown


def test_the_repl_greets_once_on_a_terminal(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/exit\r", env=screen(terminal=True))
    assert "/help lists the commands and keys · Ctrl-D or /exit leaves" in out(env)
    _, env = repl(ask(fakeapi), "/exit\r")  # not a terminal: nothing said
    assert out(env) == ""


def test_load_shows_where_the_conversation_stands(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["The capital is Paris."])))
    assert run_cli(["--base-url", fakeapi.base_url, "capital of France?"]).exit_code == 0
    conversation = json.loads(run_cli(["history", "list", "--json"]).stdout)[0]["id"]
    _, env = repl(ask(fakeapi), f"/load {conversation}\r")
    assert out(env) == (f"loaded {conversation}: capital of France? (2 messages)\n"
                        "  [user] capital of France?\n"
                        "  [assistant] The capital is Paris.\n")
    assert err(env) == ""


WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 28
PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"


def test_chat_takes_every_attachment_kind_for_its_first_message(fakeapi: FakeAPI,
                                                                tmp_path) -> None:
    (tmp_path / "v.wav").write_bytes(WAV)
    (tmp_path / "doc.pdf").write_bytes(PDF)
    no_catalog(fakeapi)
    fakeapi.add(answer("ok"))
    request = ask(fakeapi, audio=[str(tmp_path / "v.wav")], attach=[str(tmp_path / "doc.pdf")],
                  file_ids=["file-123"], videos=["https://example.test/v.mp4"])
    repl(request, "what is in these?\r")
    kinds = [part["type"] for part in sent(fakeapi)["messages"][-1]["content"]]
    assert kinds == ["text", "input_audio", "file", "file", "video_url"]


def test_chat_with_clipboard_and_no_clipboard_tool_says_so(fakeapi: FakeAPI,
                                                           monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UsageError, match="no clipboard tool found"):
        repl(ask(fakeapi, clipboard=True), "hi\r")


def test_the_repl_refuses_media_the_model_cannot_take_before_sending(fakeapi: FakeAPI,
                                                                     tmp_path) -> None:
    (tmp_path / "pic.png").write_bytes(PNG)
    fakeapi.add(JSON({"modalities": {"input": ["text"]}}), path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(answer("plain"))
    _, env = repl(ask(fakeapi), f"/image {tmp_path}/pic.png\rlook\r\r")
    assert ("model gpt-4o-mini does not take image input (the endpoint lists: text)"
            "; the queued attachments were dropped") in err(env)
    # the typed line came back to the prompt; sent again, it goes without the image
    assert sent(fakeapi)["messages"][-1] == {"role": "user", "content": "look"}


def test_chat_writes_each_spoken_answer_to_audio_out(fakeapi: FakeAPI, tmp_path) -> None:
    audio = base64.b64encode(b"RIFFfake").decode()
    fakeapi.add(SSE(sse_bytes([chunk(role="assistant", content=""),
                               {**chunk(), "choices": [{"index": 0, "delta": {"audio": {
                                   "id": "a1", "data": audio, "transcript": "hello"}},
                                   "finish_reason": None}]},
                               chunk(finish_reason="stop")])))
    target = tmp_path / "out.wav"
    repl(ask(fakeapi, audio_out=str(target)), "speak\r")
    assert target.read_bytes() == b"RIFFfake"


USAGE = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}


@pytest.mark.parametrize("tools", [False, True], ids=["no-tools", "tools-loaded"])
def test_token_counts_add_up_with_tools_loaded_or_not(fakeapi: FakeAPI, tools: bool) -> None:
    for number in range(4):
        fakeapi.add(answer(f"a{number}", usage=USAGE))
    request = ask(fakeapi, functions=[FUNCTIONS], yes=True) if tools else ask(fakeapi)
    unpublished(fakeapi)
    session, env = repl(request, "q0\rq1\rq2\rq3\r/usage\r")
    assert session.usage_totals() == (40, 16, 56, 4)
    assert "56 tokens" in session.toolbar()
    assert out(env).endswith("usage: prompt 40 · completion 16 · total 56 tokens (4 answers)\n")


def test_a_system_message_set_after_the_first_exchange_is_stored(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("a1"))
    fakeapi.add(answer("a2"))
    fakeapi.add(answer("a3"))
    session, _ = repl(ask(fakeapi), "q1\r/system\nanswer in French\rq2\r")
    sent_then = sent(fakeapi)["messages"]
    shown = [entry["message"] for entry in stored_conversation()["messages"]]
    assert shown == [*sent_then, {"role": "assistant", "content": "a2"}]  # as sent, in order
    # continued, the conversation goes out as it went out last time, the answer added
    assert run_cli(["--base-url", fakeapi.base_url, "--cid", str(session.conversation_id),
                    "q3"]).exit_code == 0
    assert sent(fakeapi)["messages"] == [*sent_then, {"role": "assistant", "content": "a2"},
                                         {"role": "user", "content": "q3"}]


def test_replacing_the_system_message_replaces_the_stored_one(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("a1"))
    fakeapi.add(answer("a2"))
    repl(ask(fakeapi, system="be brief"), "q1\r/system\nbe thorough\rq2\r")
    roles_and_text = [(entry["message"]["role"], entry["message"]["content"])
                      for entry in stored_conversation()["messages"]]
    assert roles_and_text == [("system", "be thorough"), ("user", "q1"), ("assistant", "a1"),
                              ("user", "q2"), ("assistant", "a2")]
    assert sent(fakeapi)["messages"][0] == {"role": "system", "content": "be thorough"}


def test_a_request_that_fails_before_any_answer_is_kept_marked_and_not_sent_twice(
        fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "bad model"}}, status=400))
    failed = run_cli(["--base-url", fakeapi.base_url, "what is a monad?"])
    assert failed.exit_code != 0
    listed = run_cli(["history", "list"]).stdout
    assert "[failed]  what is a monad?" in listed
    assert "(error)\nwhat is a monad?" in run_cli(["history", "show",
                                                   listed.split()[0]]).stdout
    fakeapi.add(answer("A monoid in the category of endofunctors."))
    assert run_cli(["--base-url", fakeapi.base_url, "-c", "what is a monad, simply?"]
                   ).exit_code == 0
    assert sent(fakeapi)["messages"] == [{"role": "user", "content": "what is a monad, simply?"}]
    assert "[failed]" not in run_cli(["history", "list"]).stdout


def test_a_failed_turn_in_the_repl_is_not_sent_again(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "bad model"}}, status=400))
    fakeapi.add(answer("ok"))
    repl(ask(fakeapi), "first\rsecond\r")
    assert sent(fakeapi)["messages"] == [{"role": "user", "content": "second"}]
    roles = [(e["message"]["role"], e["status"]) for e in stored_conversation()["messages"]]
    assert roles == [("user", "error"), ("user", "complete"), ("assistant", "complete")]


def test_a_failed_turn_with_tools_loaded_is_not_sent_again(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "bad model"}}, status=400))
    fakeapi.add(answer("ok"))
    repl(ask(fakeapi, functions=[FUNCTIONS], yes=True), "first\rsecond\r")
    assert sent(fakeapi)["messages"] == [{"role": "user", "content": "second"}]


def test_continuing_goes_on_with_the_conversations_profile_and_model(fakeapi: FakeAPI) -> None:
    write_config(f'[profiles.lite]\nbase_url = "{fakeapi.base_url}"\nmodel = "lite-model"\n'
                 '[profiles.other]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "other-model"\n')
    fakeapi.add(answer("a1"))
    assert run_cli(["-P", "lite", "q1"]).exit_code == 0
    fakeapi.add(answer("a2"))
    assert run_cli(["-c", "q2"]).exit_code == 0  # no -P: the conversation's own profile
    assert sent(fakeapi)["model"] == "lite-model"
    fakeapi.add(answer("a3"))
    assert run_cli(["-c", "-m", "picked", "q3"]).exit_code == 0  # a flag overrides
    assert sent(fakeapi)["model"] == "picked"
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    assert [(c["profile"], c["model"]) for c in listed] == [("lite", "picked")]


def test_continuing_goes_on_with_the_conversations_base_url_and_model(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("a1", usage=USAGE))
    assert run_cli(["--base-url", fakeapi.base_url, "-m", "asked", "q1"]).exit_code == 0
    listed = run_cli(["history", "list"]).stdout
    assert " asked  q1" in listed  # the model asked for, not the one that answered
    conversation = listed.split()[0]
    fakeapi.add(answer("a2"))
    # no --base-url: the default endpoint would be api.openai.com; the conversation's is used
    assert run_cli(["--cid", conversation, "q2"]).exit_code == 0
    assert sent(fakeapi)["model"] == "asked"
    assert [m["content"] for m in sent(fakeapi)["messages"]] == ["q1", "a1", "q2"]
    fakeapi.add(answer("a3"))
    repl(ask(fakeapi, flags={"base_url": None}, cid=conversation), "q3\r")
    assert sent(fakeapi)["model"] == "asked"


def test_a_history_from_before_answer_models_opens_and_keeps_its_conversations(
        tmp_path) -> None:
    import sqlite3

    from chatcli.history import MIGRATIONS, HistoryStore

    path = tmp_path / "history.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute("INSERT INTO conversations VALUES ('c1', 'old one', 1, 2, NULL, NULL, 'gpt')")
    old.execute("INSERT INTO messages (conversation_id, role, message, created_at)"
                " VALUES ('c1', 'user', '{\"role\": \"user\", \"content\": \"hi\"}', 1)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = HistoryStore.open(path)
    assert store.schema_version == len(MIGRATIONS) >= 2
    [conversation] = store.conversations()
    assert (conversation.title, conversation.model, conversation.message_count) == (
        "old one", "gpt", 1)
    store.append("c1", {"role": "assistant", "content": "hello"}, model="gpt-2026")
    assert [m.model for m in store.messages("c1")] == [None, "gpt-2026"]
    store.close()


def test_the_greeting_is_dim_unless_colour_is_off(monkeypatch: Any) -> None:
    import io

    from chatcli.output_guard import guard_stream
    from chatcli.render.dim import dim_line

    for environ, expected in (({}, "\x1b[2mhello\x1b[0m\n"), ({"NO_COLOR": ""}, "hello\n"),
                              ({"TERM": "dumb"}, "hello\n")):
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm-256color")
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        sink = io.StringIO()
        dim_line(guard_stream(sink, True), "hello")
        assert sink.getvalue() == expected
