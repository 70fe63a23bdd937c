"""Model aliases: ``[aliases]`` in config.toml (a profile's own over them) resolve
``-m NAME`` before anything is sent, one-shot and in the REPL, and ``config show``
says which alias gave the model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from clirun import repl_ready, run_cli, spawn_repl
from fakeapi import SSE, FakeAPI, text_stream


def configure(text: str) -> None:
    config = Path(os.environ["CHATCLI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(text)


ALIASES = ('[aliases]\nfast = "gpt-4o-mini"\nsmart = "o9-large"\n'
           '[profiles.lab]\naliases = { fast = "lab-small" }\n')


def test_an_alias_is_sent_as_the_model_it_names(fakeapi: FakeAPI) -> None:
    configure(ALIASES)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--no-history", "-m", "fast", "hi"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "ok\n", "")
    assert fakeapi.requests[0].json()["model"] == "gpt-4o-mini"


def test_a_profiles_alias_wins_and_the_others_stay(fakeapi: FakeAPI) -> None:
    configure(ALIASES)
    fakeapi.add(SSE(text_stream(["ok"])))
    fakeapi.add(SSE(text_stream(["ok"])))
    for model in ("fast", "smart"):
        result = run_cli(["-P", "lab", "--base-url", fakeapi.base_url, "--no-history",
                          "-m", model, "hi"])
        assert result.exit_code == 0, result.stderr
    assert [r.json()["model"] for r in fakeapi.requests] == ["lab-small", "o9-large"]


def test_a_model_that_is_no_alias_goes_as_typed(fakeapi: FakeAPI) -> None:
    configure(ALIASES)
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--no-history", "-m", "gpt-x", "hi"]
                   ).exit_code == 0
    assert fakeapi.requests[0].json()["model"] == "gpt-x"


def test_config_show_names_the_alias() -> None:
    configure(ALIASES)
    shown = run_cli(["config", "show", "-m", "fast"]).stdout
    assert re.search(r"^model\s+gpt-4o-mini\s+\(alias fast, flag\)$", shown, re.MULTILINE)


def test_an_alias_in_the_config_file_resolves_too(fakeapi: FakeAPI) -> None:
    configure('model = "fast"\n' + ALIASES)
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--no-history", "hi"]).exit_code == 0
    assert fakeapi.requests[0].json()["model"] == "gpt-4o-mini"


def test_a_bad_alias_table_is_a_config_error() -> None:
    configure('[aliases]\nfast = 3\n')
    result = run_cli(["--no-history", "hi"])
    assert result.exit_code == 3
    assert "aliases must be a table of alias names and model ids" in result.stderr


def test_the_repl_model_command_takes_aliases(fakeapi: FakeAPI) -> None:
    configure(ALIASES)
    fakeapi.add(SSE(text_stream(["first answer"])))
    child = spawn_repl(["--base-url", fakeapi.base_url, "--no-history", "-m", "fast"])
    repl_ready(child)
    child.send("/model\r")
    child.expect(re.escape("model: gpt-4o-mini (alias fast)"))
    repl_ready(child)
    child.send("/model smart\r")
    child.expect(re.escape("model: o9-large (alias smart)"))
    repl_ready(child)
    child.send("one\r")
    child.expect("first answer")
    repl_ready(child)
    child.sendeof()
    child.expect(__import__("pexpect").EOF)
    child.close()
    assert fakeapi.requests[0].json()["model"] == "o9-large"


def test_models_alias_and_unalias_edit_the_file_keeping_comments(fakeapi: FakeAPI) -> None:
    configure('# my settings\nmodel = "m"  # the default\n\n[profiles.lab]\nretries = 1\n')
    path = Path(os.environ["CHATCLI_CONFIG_DIR"]) / "config.toml"
    result = run_cli(["models", "alias", "fast", "gpt-4o-mini"])
    assert result.exit_code == 0, result.stderr
    assert f"alias fast = gpt-4o-mini, in {path}" in result.stderr
    text = path.read_text()
    assert text.startswith('# my settings\nmodel = "m"  # the default\n')
    assert "[profiles.lab]\nretries = 1\n" in text
    assert run_cli(["models", "alias", "fast", "gpt-5-mini"]).stderr.endswith(
        f"alias fast = gpt-5-mini (it was gpt-4o-mini), in {path}\n")
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--no-history", "-m", "fast", "hi"]
                   ).exit_code == 0
    assert fakeapi.requests[0].json()["model"] == "gpt-5-mini"
    result = run_cli(["models", "unalias", "fast"])
    assert (result.exit_code, "alias fast (for gpt-5-mini) removed" in result.stderr) == (
        0, True)
    assert "fast" not in path.read_text() and "# the default" in path.read_text()
    result = run_cli(["models", "unalias", "fast"])
    assert (result.exit_code, "has no alias 'fast'" in result.stderr) == (2, True)


def test_models_alias_refuses_a_broken_file_and_a_bad_name() -> None:
    configure('model = "unterminated\n')
    result = run_cli(["models", "alias", "fast", "x"])
    assert (result.exit_code, "not valid TOML" in result.stderr) == (3, True)
    configure("")
    result = run_cli(["models", "alias", "two words", "x"])
    assert result.exit_code == 2


def test_models_marks_the_aliased_ids(fakeapi: FakeAPI) -> None:
    from fakeapi import JSON, MODELS_PATH, models

    configure('[aliases]\nfast = "small"\nquick = "small"\nbig = "large"\n')
    fakeapi.add(JSON(models(["small", "large", "other"])), path=MODELS_PATH)
    result = run_cli(["models", "--base-url", fakeapi.base_url])
    assert result.stdout == "large  (alias big)\nother\nsmall  (alias fast, quick)\n"


def test_the_history_keeps_the_alias_typed_and_the_model_sent(fakeapi: FakeAPI) -> None:
    import json

    configure(ALIASES)
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "-m", "fast", "hi"]).exit_code == 0
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    conversation = listed[0]
    assert (conversation["model"], conversation["model_alias"]) == ("gpt-4o-mini", "fast")
    shown = run_cli(["history", "show", conversation["id"]]).stdout
    assert "model gpt-4o-mini (alias fast)" in shown
