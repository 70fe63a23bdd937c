"""The thinking switch and rejected-field drops through the command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from chatcli.config.types import THINKING_STYLES as CONFIG_STYLES
from chatcli.protocol.dialects import THINKING_STYLES
from clirun import run_cli
from fakeapi import JSON, MODELS_PATH, SSE, FakeAPI, Raw, models, text_stream

REFUSAL = json.dumps({"error": {"message": "Unsupported value: 'temperature' does not support"
                                " 0.5 with this model.", "type": "invalid_request_error",
                                "param": "temperature", "code": "unsupported_value"}}).encode()


def cli(api: FakeAPI, *args: str) -> list[str]:
    return ["--base-url", api.base_url, "--trace-id", "t", "--no-history", *args]


def write_config(tmp_path: Path, text: str) -> None:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config.toml").write_text(text)


def test_config_and_dialects_agree_on_the_styles() -> None:
    assert CONFIG_STYLES == THINKING_STYLES


@pytest.mark.parametrize(("args", "expected"), [
    ([], None),
    (["--thinking"], True),
    (["--no-thinking"], False),
])
def test_thinking_flag(fakeapi: FakeAPI, args: list[str], expected: bool | None) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    if args:  # the switch asks which server this is, once
        fakeapi.add(JSON(models(["qwen3-max"])), MODELS_PATH)
    result = run_cli(cli(fakeapi, "-m", "qwen3-max", *args, "hi"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert fakeapi.requests[-1].json().get("enable_thinking") is expected


def test_profile_thinking_style(fakeapi: FakeAPI, tmp_path: Path) -> None:
    write_config(tmp_path, f'[profiles.g]\nbase_url = "{fakeapi.base_url}"\n'
                           'thinking_style = "chat_template_kwargs"\n'
                           "extra_body = { chat_template_kwargs = { enable_thinking = true } }\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["-P", "g", "--no-history", "--no-thinking", "hi"])
    assert result.exit_code == 0, result.stderr
    assert fakeapi.requests[0].json()["chat_template_kwargs"] == {"enable_thinking": False}


def test_an_unknown_thinking_style_is_a_config_error(tmp_path: Path) -> None:
    write_config(tmp_path, 'thinking_style = "qwen"\n')
    result = run_cli(["--no-history", "hi"])
    assert result.exit_code == 3
    assert "thinking_style must be one of enable_thinking, llmgw_thinking" in result.stderr


def test_drop_note_memory_and_forget(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(Raw(400, REFUSAL, "application/json"))
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(cli(fakeapi, "-m", "o9", "-t", "0.5", "hi"))
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert result.stderr == (
        "chatcli: note: the endpoint rejected 'temperature'; sent again without it (remembered"
        f" for {fakeapi.base_url.rstrip('/')}, model o9; `chatcli config forget-drops` clears"
        " this)\n")
    first, second = (r.json() for r in fakeapi.requests)
    assert first["temperature"] == 0.5 and "temperature" not in second
    path = tmp_path / "data" / "param_drops.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    fakeapi.add(SSE(text_stream(["again"])))
    result = run_cli(cli(fakeapi, "-m", "o9", "-t", "0.5", "hi"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "again\n", "")
    assert "temperature" not in fakeapi.requests[2].json()

    result = run_cli(["config", "forget-drops"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "forgot 1 rejected field\n", "")
    assert not path.exists()


def test_strict_params_reports_the_400(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, REFUSAL, "application/json"))
    result = run_cli(cli(fakeapi, "-m", "o9", "-t", "0.5", "--strict-params", "hi"))
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr == ("chatcli: error: HTTP 400: Unsupported value: 'temperature' does not"
                             " support 0.5 with this model. (unsupported_value) (trace id t)\n")
    assert len(fakeapi.requests) == 1
