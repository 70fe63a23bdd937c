"""Settings: layers and their precedence, profiles, key sources, and ``config show``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from chatcli.config import Settings, load_settings
from chatcli.sanitize import redact
from clirun import run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, models, text_stream


def settings(flags: dict[str, object] | None = None, **env: str) -> Settings:
    return load_settings(flags or {}, {**os.environ, **env})


def test_defaults() -> None:
    got = settings()
    assert (got.base_url, got.api_key, got.model, got.profile) == (
        "https://api.openai.com/v1", None, "gpt-4o-mini", None)
    assert (got.timeout, got.connect_timeout, got.retries, got.include_usage) == (
        600.0, 10.0, 2, True)
    assert got.chat_url == "https://api.openai.com/v1/chat/completions"


def test_precedence_flags_env_profile_file_generic_env() -> None:
    write_config('default_profile = "p"\nmodel = "file-model"\nbase_url = "http://file/v1"\n'
                 '[profiles.p]\nbase_url = "http://profile/v1"\n')
    generic = {"OPENAI_BASE_URL": "http://openai-env/v1", "OPENAI_API_KEY": "sk-openai-env-1"}
    got = settings(**generic)
    assert got.base_url == "http://profile/v1"
    assert got.sources["base_url"] == "profile p"
    assert got.model == "file-model"
    # OPENAI_API_KEY goes only to OpenAI or OPENAI_BASE_URL, not to the profile's gateway.
    assert got.api_key is None
    assert got.key_note.startswith("none: OPENAI_API_KEY is set but is sent only to")
    got = settings(CHATCLI_BASE_URL="http://chatcli-env/v1", **generic)
    assert (got.base_url, got.sources["base_url"]) == (
        "http://chatcli-env/v1", "env CHATCLI_BASE_URL")
    got = settings({"base_url": "http://flag/v1"}, CHATCLI_BASE_URL="http://chatcli-env/v1")
    assert (got.base_url, got.sources["base_url"]) == ("http://flag/v1", "flag")


def test_profile_key_sources(tmp_path: Path) -> None:
    script = tmp_path / "key.py"
    script.write_text("print('sk-from-command-5678')\n")
    write_config(
        '[profiles.envkey]\napi_key_env = "MY_KEY"\n'
        f'[profiles.cmd]\napi_key_cmd = "{sys.executable} {script}"\n'
        '[profiles.literal]\napi_key = "sk-literal-0000"\n'
    )
    got = settings({"profile": "envkey"}, MY_KEY="sk-env-var-1111")
    assert got.api_key == "sk-env-var-1111"
    assert got.sources["api_key"] == "profile envkey (api_key_env)"
    assert settings({"profile": "cmd"}).api_key == "sk-from-command-5678"
    assert settings({"profile": "literal"}).api_key == "sk-literal-0000"
    # The explicit chatcli variable beats the profile; the generic one does not.
    assert settings({"profile": "literal"}, CHATCLI_API_KEY="sk-c").api_key == "sk-c"
    assert settings({"profile": "literal"}, OPENAI_API_KEY="sk-o").api_key == "sk-literal-0000"


def test_profile_headers_params_and_extra_body(fakeapi: FakeAPI) -> None:
    write_config(
        f'[profiles.gw]\nbase_url = "{fakeapi.base_url}"\nmodel = "gw-model"\n'
        'headers = { "X-Team" = "${TEAM}", "X-Fixed" = "1" }\n'
        'params = { temperature = 0.2, top_p = 0.5 }\n'
        'extra_body = { chat_template_kwargs = { enable_thinking = false }, top_k = 5 }\n'
        'include_usage = false\n'
    )
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["-P", "gw", "-t", "0.9", "-o", "chat_template_kwargs.mode=x", "hi"],
                     env={"TEAM": "blue"})
    assert result.exit_code == 0, result.stderr
    request = fakeapi.requests[-1]
    assert (request.header("X-Team"), request.header("X-Fixed")) == ("blue", "1")
    body = request.json()
    assert body["model"] == "gw-model"
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.9, 0.5, 5)
    assert body["chat_template_kwargs"] == {"enable_thinking": False, "mode": "x"}
    assert "stream_options" not in body


def test_profile_from_environment_and_default(fakeapi: FakeAPI) -> None:
    write_config(f'default_profile = "a"\n[profiles.a]\nmodel = "model-a"\n'
                 f'base_url = "{fakeapi.base_url}"\n'
                 f'[profiles.b]\nmodel = "model-b"\nbase_url = "{fakeapi.base_url}"\n')
    for env, model in (({}, "model-a"), ({"CHATCLI_PROFILE": "b"}, "model-b")):
        fakeapi.add(SSE(text_stream(["ok"])))
        assert run_cli(["hi"], env=env).exit_code == 0
        assert fakeapi.requests[-1].json()["model"] == model


@pytest.mark.parametrize(("text", "message"), [
    ("not toml [", "not valid TOML"),
    ("[profiles.x]\nbogus = 1\n", "profile 'x' has unknown setting 'bogus'"),
    ("[profiles.x]\nheaders = 3\n", "profile 'x': headers must be a table"),
    ("[profiles.x]\napi_key_env = 'NOT_SET_ANYWHERE'\n", "api_key_env names NOT_SET_ANYWHERE"),
    ("[profiles.x]\nheaders = { A = '${NOT_SET_ANYWHERE}' }\n", "${NOT_SET_ANYWHERE}"),
    ("[profiles.x]\napi_key_cmd = 'false'\n", "api_key_cmd 'false' exited with status 1"),
    ("[profiles.x]\napi_key_cmd = 'no-such-command-here'\n", "api_key_cmd 'no-such-command-here'"),
    ("[profiles.x]\ntimeout = 'soon'\n", "timeout must be a number of seconds"),
    ("[profiles.x]\nfunctions = 'tools.py'\n",
     "profile 'x': functions must be a list of non-empty strings"),
    ("[profiles.x]\ntool_cmds = ['a=b', 3]\n", "tool_cmds must be a list of non-empty strings"),
    ("[profiles.x]\napprove = ['']\n", "approve must be a list of non-empty strings"),
    ("[profiles.x]\nmcp = [['srv']]\n", "mcp must be a list of non-empty strings"),
    ("[profiles.x]\nmcp_urls = ['ftp://x']\n", "mcp_urls: 'ftp://x' must start with http://"),
    ("[profiles.x]\ntools = ['a.json']\n", "tools must be the path of a JSON file"),
    ("functions = 3\n[profiles.x]\n", "top level: functions must be a list"),
])
def test_config_problems_exit_3(text: str, message: str) -> None:
    write_config(text)
    result = run_cli(["-P", "x", "hi"])
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith("chatcli: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_tool_keys_resolve_files_beside_the_config(tmp_path: Path) -> None:
    path = write_config(
        'functions = ["top.py"]\napprove = ["top_tool"]\n'
        '[profiles.t]\nfunctions = ["lib/tools.py", "/abs/other.py", "~/home.py"]\n'
        'tool_cmds = ["date=date -u"]\ntools = "defs.json"\napprove = ["date"]\n'
        'mcp = ["server --stdio"]\nmcp_urls = ["http://127.0.0.1:9/mcp"]\n')
    top = settings()
    assert top.functions == (str(path.parent / "top.py"),)
    assert (top.approve, top.tool_cmds, top.tools, top.mcp) == (("top_tool",), (), None, ())
    assert top.sources["functions"] == f"config {path}"
    got = settings({"profile": "t"})
    assert got.functions == (str(path.parent / "lib" / "tools.py"), "/abs/other.py",
                             str(Path.home() / "home.py"))
    assert got.tool_cmds == ("date=date -u",)
    assert got.tools == str(path.parent / "defs.json")
    assert got.approve == ("date",)  # the profile's list replaces the top level's
    assert (got.mcp, got.mcp_urls) == (("server --stdio",), ("http://127.0.0.1:9/mcp",))
    assert got.sources["tools"] == "profile t"


def test_unknown_profile_exits_3() -> None:
    result = run_cli(["-P", "ghost", "hi"])
    assert result.exit_code == 3
    assert "profile 'ghost' is not defined in" in result.stderr


def test_redact() -> None:
    assert redact("sk-proj-abcdefghijklmnop1234") == "sk-…1234"
    assert redact("abcdefghijklmnopqrst9876") == "…9876"
    assert redact("short") == "…***"
    assert redact(None) == "(none)"


def test_config_show_lists_every_setting_with_its_source() -> None:
    path = write_config('[profiles.p]\nmodel = "pm"\nheaders = { "X-Api-Key" = "secret-value-123" }'
                        '\nparams = { temperature = 0.3 }\n')
    result = run_cli(["config", "show", "-P", "p", "--timeout", "30"],
                     env={"OPENAI_API_KEY": "sk-live-abcdefghijkl9999"})
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["base_url", "https://api.openai.com/v1", "(default)"]
    assert lines[1].split() == ["api_key", "sk-…9999", "(env", "OPENAI_API_KEY)"]
    assert lines[2].split() == ["model", "pm", "(profile", "p)"]
    assert lines[3].split() == ["profile", "p", "(flag)"]
    assert "timeout          30  (flag)" in result.stdout
    assert 'params           {"temperature": 0.3}  (profile p)' in result.stdout
    assert "secret-value-123" not in result.stdout
    assert "abcdefghijkl" not in result.stdout
    assert f"config_file      {path}" in result.stdout


def test_models_lists_ids_sorted_and_as_json(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(models(["zeta", "alpha", "mid"])), path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url, "--api-key", "sk-k-123456789"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "alpha\nmid\nzeta\n", "")
    assert fakeapi.requests[-1].header("Authorization") == "Bearer sk-k-123456789"
    assert fakeapi.requests[-1].method == "GET"
    fakeapi.add(JSON(models(["a"])), path="/v1/models")
    result = run_cli(["models", "--json", "--base-url", fakeapi.base_url])
    assert '"id": "a"' in result.stdout


def test_models_errors_use_the_same_boundary(fakeapi: FakeAPI) -> None:
    from fakeapi import Raw

    fakeapi.add(Raw(401, b'{"error": {"message": "bad key"}}', "application/json"),
                path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url, "--trace-id", "t1"])
    assert (result.exit_code, result.stderr) == (4, "chatcli: error: HTTP 401: bad key"
                                                 " (trace id t1)\n")
    fakeapi.add(JSON({"object": "list"}), path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url])
    assert result.exit_code == 9


def test_directories_follow_xdg(tmp_path: Path) -> None:
    from chatcli.config import config_dir, data_dir

    assert config_dir({"CHATCLI_CONFIG_DIR": "/a"}) == Path("/a")
    assert config_dir({"XDG_CONFIG_HOME": "/x"}) == Path("/x/chatcli")
    assert config_dir({}) == Path.home() / ".config" / "chatcli"
    assert data_dir({"CHATCLI_DATA_DIR": "/d", "XDG_DATA_HOME": "/x"}) == Path("/d")
    assert data_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/chatcli")
    assert data_dir({}) == Path.home() / ".local" / "share" / "chatcli"


def test_config_show_lists_the_tool_keys() -> None:
    path = write_config('[profiles.t]\nfunctions = ["tools.py"]\ntool_cmds = ["d=date"]\n'
                        'approve = ["d"]\nmcp = ["srv --stdio"]\n')
    result = run_cli(["config", "show", "-P", "t"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f'functions        ["{path.parent / "tools.py"}"]  (profile t)' in lines
    assert 'tool_cmds        ["d=date"]  (profile t)' in lines
    assert "tools            (none)  (default)" in lines
    assert 'approve          ["d"]  (profile t)' in lines
    assert 'mcp              ["srv --stdio"]  (profile t)' in lines
    assert "mcp_urls         []  (default)" in lines


def test_a_literal_key_in_a_readable_file_is_warned_about(fakeapi: FakeAPI) -> None:
    path = write_config(f'[profiles.p]\napi_key = "sk-literal-key-123456"\n'
                        f'base_url = "{fakeapi.base_url}"\n')
    path.chmod(0o644)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["-P", "p", "hi"])
    assert result.exit_code == 0
    assert result.stderr == (f"chatcli: warning: {path} holds an API key and other users can"
                             f" read it; run `chmod 600 {path}`, or use api_key_env or"
                             " api_key_cmd\n")
    path.chmod(0o600)
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["-P", "p", "hi"]).stderr == ""
