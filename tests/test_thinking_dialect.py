"""``--thinking``/``--no-thinking`` in the dialect of the server at hand.

llama.cpp, vLLM and SGLang read the switch inside ``chat_template_kwargs`` and say
who they are in ``GET /models`` (``owned_by``); Qwen's top-level field means nothing
to them. When neither the server nor the model's name says, the switch goes out as
before with one note naming ``thinking_style``. End to end against the fake API.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from clirun import repl_turns, run_cli, spawn_repl
from fakeapi import JSON, MODELS_PATH, SSE, FakeAPI, Raw, text_stream


def listing(owner: str, *ids: str) -> JSON:
    return JSON({"object": "list", "data": [
        {"id": model_id, "object": "model", "created": 1, "owned_by": owner}
        for model_id in ids]})


def ask(api: FakeAPI, *args: str) -> Any:
    return run_cli(["--base-url", api.base_url, "--no-history", *args, "hi"])


def chat_body(api: FakeAPI) -> dict[str, Any]:
    [posted] = [r for r in api.requests if r.method == "POST"]
    body: dict[str, Any] = posted.json()
    return body


@pytest.mark.parametrize(("owner", "model"), [
    ("llamacpp", "gemma-3-12b-it-Q4_K_M.gguf"),
    ("vllm", "Qwen/Qwen3-8B"),  # the server beats the model's name
    ("sglang", "deepseek-v4-flash"),
])
@pytest.mark.parametrize("switch", [False, True])
def test_a_template_server_gets_chat_template_kwargs(fakeapi: FakeAPI, owner: str, model: str,
                                                    switch: bool) -> None:
    fakeapi.add(listing(owner, model), MODELS_PATH)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", model, "--thinking" if switch else "--no-thinking")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    body = chat_body(fakeapi)
    assert body["chat_template_kwargs"] == {"enable_thinking": switch}
    assert "enable_thinking" not in body
    assert body["messages"] == [{"role": "user", "content": "hi"}]  # no directive either


def test_an_unknown_server_and_model_get_the_default_and_one_note(fakeapi: FakeAPI) -> None:
    fakeapi.add(listing("organization-owner", "house-model"), MODELS_PATH)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", "house-model", "--no-thinking")
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert chat_body(fakeapi)["enable_thinking"] is False
    [note] = result.stderr.splitlines()
    assert note.startswith("chatcli: note: --no-thinking has no known effect on this endpoint")
    assert "set thinking_style in the profile" in note
    assert "chat_template_kwargs for llama.cpp, vLLM and SGLang" in note


def test_a_known_model_on_an_unknown_server_needs_no_note(fakeapi: FakeAPI) -> None:
    fakeapi.add(listing("system", "glm-4.6"), MODELS_PATH)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", "glm-4.6", "--no-thinking")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert chat_body(fakeapi)["thinking"] == {"type": "disabled"}


@pytest.mark.parametrize("reply", [
    Raw(404, b'{"error": {"message": "Not found"}}', "application/json"),
    Raw(200, b"<html>a gateway page</html>", "text/html"),
])
def test_a_models_list_that_says_nothing_still_sends_the_question(fakeapi: FakeAPI,
                                                                  reply: Raw) -> None:
    fakeapi.add(reply, MODELS_PATH)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", "house-model", "--no-thinking")
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert chat_body(fakeapi)["enable_thinking"] is False
    assert "--no-thinking has no known effect" in result.stderr


def test_a_profiles_thinking_style_asks_the_server_nothing(fakeapi: FakeAPI,
                                                           tmp_path: Path) -> None:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.toml").write_text('thinking_style = "thinking_object"\n')
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", "house-model", "--no-thinking")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert [r.method for r in fakeapi.requests] == ["POST"]
    assert chat_body(fakeapi)["thinking"] == {"type": "disabled"}


def test_without_the_switch_the_server_is_not_asked(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask(fakeapi, "-m", "house-model")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert [r.method for r in fakeapi.requests] == ["POST"]


def test_the_repl_asks_once_and_notes_once(fakeapi: FakeAPI) -> None:
    fakeapi.add(listing("test", "house-model"), MODELS_PATH)
    for answer in ("first answer", "second answer"):
        fakeapi.add(SSE(text_stream([answer])))
    child = spawn_repl(["--base-url", fakeapi.base_url, "-m", "house-model", "--no-thinking",
                        "--no-history"])
    repl_turns(child, [("one", "first answer"), ("two", "second answer")])
    assert child.exitstatus == 0
    shown = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", child.logfile_read.getvalue()).decode()
    assert shown.count("--no-thinking has no known effect") == 1
    assert [r.method for r in fakeapi.requests] == ["GET", "POST", "POST"]
    assert all(r.json()["enable_thinking"] is False for r in fakeapi.requests[1:])
