"""``--dry-run``: the request exactly as it would be sent, and nothing sent or stored.

For ``ask``, the first turn of ``chat`` and ``cmd``, against the fake API, which must
see no request at all; the body on stdout, the URL and headers (credentials redacted)
on stderr, and no history written.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from clirun import run_cli
from fakeapi import SSE, FakeAPI, Raw, text_stream

KEY = "sk-dryrun-0123456789abcdef"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
                       "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
REFUSAL = json.dumps({"error": {"message": "Unsupported value: 'temperature' does not support"
                                " 0.5 with this model.", "type": "invalid_request_error",
                                "param": "temperature", "code": "unsupported_value"}}).encode()


def no_history() -> bool:
    return not (Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db").exists()


def test_ask_prints_the_body_and_sends_nothing(fakeapi: FakeAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\n")
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f'[profiles.p]\nbase_url = "{fakeapi.base_url}"\napi_key = "{KEY}"\n'
        'extra_body = { user_tag = "team-a" }\n')
    (config / "config.toml").chmod(0o600)
    result = run_cli(["-P", "p", "--dry-run", "-m", "house-model", "--no-thinking",
                      "-f", str(notes), "-i", str(image), "describe", "these"])
    assert result.exit_code == 0, result.stderr
    assert fakeapi.requests == []
    body = json.loads(result.stdout)
    assert body["model"] == "house-model"
    assert body["user_tag"] == "team-a"
    assert body["enable_thinking"] is False  # the default style: the server was not asked
    parts = body["messages"][-1]["content"]
    assert any(p.get("type") == "image_url" and p["image_url"]["url"].startswith(
        "data:image/png;base64,") for p in parts)
    assert any("line one" in (p.get("text") or "") for p in parts)
    lines = result.stderr.splitlines()
    assert lines[0] == f"POST {fakeapi.base_url}/chat/completions"
    assert KEY not in result.stderr
    assert any(line.lower().startswith("authorization: bearer sk-") for line in lines)
    assert "the server was not asked which thinking style it reads" in result.stderr
    assert no_history()


def test_remembered_drops_are_applied(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, REFUSAL, "application/json"))
    fakeapi.add(SSE(text_stream(["ok"])))
    args = ["--base-url", fakeapi.base_url, "--no-history", "-m", "o9", "-t", "0.5"]
    assert run_cli([*args, "hi"]).exit_code == 0
    result = run_cli([*args, "--dry-run", "hi"])
    assert result.exit_code == 0, result.stderr
    assert "temperature" not in json.loads(result.stdout)
    assert len(fakeapi.requests) == 2  # the two of the first run: the dry run sent none


def test_credentials_in_the_base_url_are_not_shown(fakeapi: FakeAPI) -> None:
    url = fakeapi.base_url.replace("http://", "http://user:hunter2@")
    result = run_cli(["--base-url", url, "--dry-run", "hi"])
    assert result.exit_code == 0, result.stderr
    assert "hunter2" not in result.stderr and "hunter2" not in result.stdout
    assert result.stderr.splitlines()[0] == f"POST {fakeapi.base_url}/chat/completions"


def test_chat_prints_its_first_turn(fakeapi: FakeAPI) -> None:
    result = run_cli(["chat", "--base-url", fakeapi.base_url, "-s", "be brief", "--dry-run",
                      "first", "question"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"}]
    assert fakeapi.requests == [] and no_history()


def test_cmd_prints_the_request_it_would_make(fakeapi: FakeAPI) -> None:
    result = run_cli(["cmd", "--base-url", fakeapi.base_url, "--shell", "zsh", "--dry-run",
                      "list", "files"], env={"SHELL": "/bin/bash"})
    assert result.exit_code == 0, result.stderr
    messages = json.loads(result.stdout)["messages"]
    assert "runs zsh on" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": "list files"}
    assert fakeapi.requests == [] and no_history()
