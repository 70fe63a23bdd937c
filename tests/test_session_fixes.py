"""What the one session layer fixed: the REPL and one-shot agree, and what is sent is kept."""

from __future__ import annotations

import base64
import json

import pytest

from chatcli.errors import UsageError
from clirun import run_cli
from fakeapi import JSON, SSE, FakeAPI, chunk, sse_bytes, text_stream
from test_repl import PNG, answer, ask, err, no_catalog, out, repl, screen, sent


def stored_conversation() -> dict[str, object]:
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    shown: dict[str, object] = json.loads(run_cli(["history", "show", "--json",
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
