"""No secret leaves its scope: keys are cleaned and checked, OPENAI_API_KEY goes only where it
belongs, and -v, errors, --debug and config show redact every credential."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

import pytest

from clirun import run_cli, unpublished, write_config
from fakeapi import SSE, FakeAPI, Raw, text_stream

KEY = "sk-test-0123456789abcdefghij"



def sent_key(fakeapi: FakeAPI) -> str | None:
    return fakeapi.requests[-1].header("Authorization")


@pytest.mark.parametrize("source", ["flag", "CHATCLI_API_KEY", "config", "api_key_env",
                                    "api_key_cmd"])
def test_a_key_with_a_crlf_ending_is_sent_clean_from_every_source(
        fakeapi: FakeAPI, tmp_path: Path, source: str) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    args = ["--base-url", fakeapi.base_url, "hi"]
    env: dict[str, str] = {}
    dirty = KEY + "\r\n"
    if source == "flag":
        args = ["--api-key", dirty, *args]
    elif source == "CHATCLI_API_KEY":
        env["CHATCLI_API_KEY"] = dirty
    elif source == "config":
        write_config(f'api_key = "{KEY}\\r\\n"\n')
    elif source == "api_key_env":
        write_config('api_key_env = "DOTENV_KEY"\n')
        env["DOTENV_KEY"] = dirty
    else:
        script = tmp_path / "key.py"
        script.write_text(f"import sys\nsys.stdout.write({KEY!r} + '\\r\\n')\n")
        write_config(f'api_key_cmd = "{sys.executable} {script}"\n')
    result = run_cli(args, env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert sent_key(fakeapi) == f"Bearer {KEY}"


@pytest.mark.parametrize(("args", "env", "origin"), [
    (["--api-key", "sk-ab\x01cdefghijklmnop"], {}, "--api-key"),
    ([], {"CHATCLI_API_KEY": "sk-abcdéfghijklmnop"}, "env CHATCLI_API_KEY"),
    ([], {"CHATCLI_API_KEY": "sk-abc\r\ndefghijklmnop"}, "env CHATCLI_API_KEY"),
])
def test_a_key_holding_a_control_or_non_ascii_character_is_a_config_error(
        args: list[str], env: dict[str, str], origin: str) -> None:
    result = run_cli([*args, "--base-url", "http://127.0.0.1:9/v1", "hi"], env=env)
    assert result.exit_code == 3
    assert result.stderr == (f"chatcli: error: the API key from {origin} holds a control or"
                             " non-ASCII character; check it (it is not shown here)\n")
    assert "ghijklmnop" not in result.stderr


def test_openai_api_key_is_not_sent_to_another_base_url(fakeapi: FakeAPI) -> None:
    env = {"OPENAI_API_KEY": KEY}
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"], env=env).exit_code == 0
    assert sent_key(fakeapi) is None
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["hi"], env={**env, "CHATCLI_BASE_URL": fakeapi.base_url}).exit_code == 0
    assert sent_key(fakeapi) is None
    write_config(f'[profiles.gw]\nbase_url = "{fakeapi.base_url}"\n')
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["-P", "gw", "hi"], env=env).exit_code == 0
    assert sent_key(fakeapi) is None


def test_openai_api_key_goes_with_openai_base_url_and_where_a_profile_opts_in(
        fakeapi: FakeAPI) -> None:
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fakeapi.base_url}
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["hi"], env=env).exit_code == 0
    assert sent_key(fakeapi) == f"Bearer {KEY}"
    # The same URL given again as a flag is still the one OPENAI_BASE_URL names.
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url + "/", "hi"], env=env).exit_code == 0
    assert sent_key(fakeapi) == f"Bearer {KEY}"
    write_config(f'[profiles.gw]\nbase_url = "{fakeapi.base_url}"\n'
                 'api_key_env = "OPENAI_API_KEY"\n')
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["-P", "gw", "hi"], env={"OPENAI_API_KEY": KEY}).exit_code == 0
    assert sent_key(fakeapi) == f"Bearer {KEY}"


def test_config_show_says_which_key_goes_where_and_why() -> None:
    shown = run_cli(["config", "show", "--base-url", "http://gw.test/v1"],
                    env={"OPENAI_API_KEY": KEY})
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("key_sent")]
    assert "none: OPENAI_API_KEY is set but is sent only to api.openai.com or to" in line
    assert "the base URL comes from flag" in line
    shown = run_cli(["config", "show"], env={"OPENAI_API_KEY": KEY})
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("key_sent")]
    assert line.split(None, 1)[1] == ("from env OPENAI_API_KEY, sent to"
                                      " https://api.openai.com/v1")
    assert KEY not in shown.stdout


def test_a_401_says_when_openai_api_key_was_held_back(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(401, b'{"error": {"message": "missing key"}}', "application/json"))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"],
                     env={"OPENAI_API_KEY": KEY})
    assert result.exit_code == 4
    assert result.stderr == ("chatcli: error: HTTP 401: missing key (OPENAI_API_KEY was not"
                             " sent to this base URL: see `chatcli config show`) (trace id t)\n")


SECRETS = {
    "Cookie": "session=cookie-secret-111",
    "X-Goog-Api-Key": "goog-secret-222",
    "Ocp-Apim-Subscription-Key": "azure-secret-333",
    "Proxy-Authorization": "Basic cHJveHktc2VjcmV0LTQ0NA==",
    "X-Session-Id": "session-secret-555",
    "X-Password": "password-secret-666",
}


def test_verbose_redacts_every_credential_header_and_url_userinfo(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"]), headers={"Set-Cookie": "sid=set-cookie-secret-777"}))
    base = fakeapi.base_url.replace("http://", "http://alice:userinfo-secret-888@")
    headers = [arg for name, value in SECRETS.items() for arg in ("-H", f"{name}: {value}")]
    result = run_cli(["--base-url", base, "-v", *headers, "hi"])
    assert result.exit_code == 0, result.stderr
    basic = "YWxpY2U6dXNlcmluZm8tc2VjcmV0LTg4OA=="  # httpx sends the userinfo as Basic auth
    for secret in [*SECRETS.values(), "set-cookie-secret-777", "userinfo-secret-888", basic,
                   "cHJveHktc2VjcmV0LTQ0NA=="]:
        assert secret not in result.stderr
    lowered = result.stderr.lower()
    for name in [*SECRETS, "Set-Cookie", "Authorization"]:
        assert f"{name.lower()}: " in lowered  # shown, redacted
    assert "http://***@127.0.0.1" in result.stderr
    # The request itself carried every header and the basic credentials.
    request = fakeapi.requests[-1]
    assert request.header("X-Goog-Api-Key") == "goog-secret-222"
    assert request.header("Authorization") == f"Basic {basic}"


def test_errors_and_debug_tracebacks_never_show_a_key(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(401, f'{{"error": {{"message": "Incorrect API key: {KEY}"}}}}'.encode(),
                    "application/json"))
    result = run_cli(["--base-url", fakeapi.base_url, "--api-key", KEY, "--debug", "hi"])
    assert result.exit_code == 4
    assert "Traceback" in result.stderr and "Incorrect API key: sk-…ghij" in result.stderr
    assert KEY not in result.stderr


def test_a_header_value_with_a_control_character_is_a_usage_error() -> None:
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", "-H", "X-Api-Key: key\x01secret",
                      "hi"])
    assert result.exit_code == 2
    assert result.stderr == ("chatcli: error: header X-Api-Key: its value holds a control"
                             " character (not shown)\nTry 'chatcli ask --help'.\n")


def test_verbose_shortens_audio_base64(fakeapi: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x01\x02" * 160_000)  # 320 KB
    fakeapi.add(Raw(404, b"{}", "application/json"), path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(Raw(404, b"{}", "application/json"), path="/v1/models/gpt-4o-mini")
    fakeapi.add(SSE(text_stream(["ok"])))
    unpublished(fakeapi)  # a big request: the model's window is looked up (and not found)
    result = run_cli(["--base-url", fakeapi.base_url, "-v", "--audio", str(path), "hi"])
    assert result.exit_code == 0, result.stderr
    [body] = [line for line in result.stderr.splitlines() if line.startswith("> {")]
    assert len(body) < 1000
    assert "chars of base64)" in body
    assert len(fakeapi.requests[-1].json()["messages"][0]["content"][1]["input_audio"]
               ["data"]) > 400_000


def test_config_show_hides_a_base_urls_userinfo() -> None:
    shown = run_cli(["config", "show", "--base-url", "http://bob:hunter2-secret@gw.test/v1"])
    assert shown.exit_code == 0
    assert "hunter2-secret" not in shown.stdout
    assert "http://***@gw.test/v1" in shown.stdout
