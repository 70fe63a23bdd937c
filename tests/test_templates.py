"""Templates, end to end: ``-T`` under the flags and over the profile, variables filled (or
refused) before anything is sent, ``--save`` reproducing the request it saved, built-ins
a user file overrides, and the ``templates`` commands."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from clirun import run_cli
from fakeapi import SSE, FakeAPI, text_stream


def config_dir() -> Path:
    directory = Path(os.environ["CHATCLI_CONFIG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write_template(name: str, text: str) -> Path:
    folder = config_dir() / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def ask(fakeapi: FakeAPI, *args: str, stdin: str | None = None,
        env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one ``ask`` that must succeed; the body the server received."""
    fakeapi.add(SSE(text_stream(["ok"])))
    before = len(fakeapi.requests)
    result = run_cli(["--base-url", fakeapi.base_url, "--no-history", *args], stdin=stdin,
                     env=env)
    assert result.exit_code == 0, result.stderr
    assert len(fakeapi.requests) == before + 1
    body: dict[str, Any] = fakeapi.requests[-1].json()
    return body


def messages(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in body["messages"]]


PROFILE = ('[profiles.lab]\nmodel = "profile-model"\nsystem = "profile system"\n'
           'params = { temperature = 0.9, top_p = 0.5 }\n')
TEMPLATE = ('description = "terse answers"\nsystem = "template system"\n'
            'model = "template-model"\nparams = { temperature = 0.4 }\n')


# -- resolution order ----------------------------------------------------------------

def test_the_template_is_over_the_profile(fakeapi: FakeAPI) -> None:
    (config_dir() / "config.toml").write_text(PROFILE)
    write_template("terse", TEMPLATE)
    body = ask(fakeapi, "-P", "lab", "-T", "terse", "hi")
    assert body["model"] == "template-model"
    assert (body["temperature"], body["top_p"]) == (0.4, 0.5)  # params merge, key by key
    assert messages(body) == [("system", "template system"), ("user", "hi")]


def test_flags_are_over_the_template(fakeapi: FakeAPI) -> None:
    (config_dir() / "config.toml").write_text(PROFILE)
    write_template("terse", TEMPLATE)
    body = ask(fakeapi, "-P", "lab", "-T", "terse", "-m", "flag-model", "-t", "0.1",
               "-s", "flag system", "hi")
    assert (body["model"], body["temperature"]) == ("flag-model", 0.1)
    assert messages(body)[0] == ("system", "flag system")


def test_a_profile_gives_its_system_prompt_and_default_template(fakeapi: FakeAPI) -> None:
    (config_dir() / "config.toml").write_text(PROFILE + '[profiles.t]\ntemplate = "terse"\n')
    write_template("terse", TEMPLATE)
    body = ask(fakeapi, "-P", "lab", "hi")
    assert (body["model"], messages(body)[0]) == ("profile-model", ("system", "profile system"))
    body = ask(fakeapi, "-P", "t", "hi")
    assert (body["model"], messages(body)[0]) == ("template-model", ("system", "template system"))


def test_the_template_is_over_a_model_variable(fakeapi: FakeAPI) -> None:
    write_template("terse", TEMPLATE)
    body = ask(fakeapi, "-T", "terse", "hi", env={"CHATCLI_MODEL": "variable-model"})
    assert body["model"] == "template-model"
    shown = run_cli(["config", "show"], env={"CHATCLI_MODEL": "variable-model"}).stdout
    assert "variable-model" in shown  # without -T the variable stands


def test_a_template_can_choose_the_profile_and_an_alias(fakeapi: FakeAPI) -> None:
    (config_dir() / "config.toml").write_text(
        PROFILE + '[aliases]\nfast = "fast-model"\n')
    write_template("lab", 'profile = "lab"\nmodel = "fast"\n')
    body = ask(fakeapi, "-T", "lab", "hi")
    assert (body["model"], body["temperature"]) == ("fast-model", 0.9)
    assert messages(body)[0] == ("system", "profile system")


# -- variables and input -------------------------------------------------------------

def test_variables_fill_from_params_and_defaults(fakeapi: FakeAPI) -> None:
    write_template("tr", 'system = "Into {{lang}}, {{ tone }}."\nprompt = "Text: {{input}}"\n'
                         '[defaults]\ntone = "plainly"\n')
    body = ask(fakeapi, "-T", "tr", "-p", "lang", "Old Norse", "bonjour", "monde")
    assert messages(body) == [("system", "Into Old Norse, plainly."),
                              ("user", "Text: bonjour monde")]
    body = ask(fakeapi, "-T", "tr", "-p", "lang", "Latin", "-p", "tone", "gravely", "x")
    assert messages(body)[0] == ("system", "Into Latin, gravely.")


def test_input_without_a_placeholder_follows_the_prompt(fakeapi: FakeAPI,
                                                        tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("a note\n")
    write_template("sum", 'prompt = "Summarize."\n')
    body = ask(fakeapi, "-T", "sum", "-f", str(notes), "these words", stdin="piped text\n")
    assert messages(body) == [("user", f"Summarize.\n\nthese words\n\npiped text\n\n\n"
                                       f"```{notes}\na note\n```")]
    body = ask(fakeapi, "-T", "sum")  # the template's prompt alone is a prompt
    assert messages(body) == [("user", "Summarize.")]


def test_a_missing_variable_is_a_usage_error_before_sending(fakeapi: FakeAPI) -> None:
    write_template("two", 'prompt = "{{a}} and {{b}} and {{input}}"\n')
    result = run_cli(["--base-url", fakeapi.base_url, "-T", "two", "hi"])
    assert result.exit_code == 2
    assert "template two needs a value for a, b: give -p a VALUE" in result.stderr
    result = run_cli(["--base-url", fakeapi.base_url, "-T", "two", "-p", "a", "1", "-p", "c",
                      "3", "hi"])
    assert result.exit_code == 2
    assert "template two has no variable 'c' (its variables: a, b)" in result.stderr
    result = run_cli(["--base-url", fakeapi.base_url, "-p", "a", "1", "hi"])
    assert (result.exit_code, "name the template with -T NAME" in result.stderr) == (2, True)
    assert fakeapi.requests == []


def test_template_errors_name_the_file_and_key(fakeapi: FakeAPI) -> None:
    path = write_template("bad", 'prompt = "x"\ntemprature = 0.2\n')
    result = run_cli(["--base-url", fakeapi.base_url, "-T", "bad", "hi"])
    assert result.exit_code == 3
    assert f"{path}: unknown template key 'temprature'" in result.stderr
    write_template("bad", 'output = "loud"\n')
    result = run_cli(["--base-url", fakeapi.base_url, "-T", "bad", "hi"])
    assert (result.exit_code, "output must be one of auto, rich" in result.stderr) == (3, True)
    result = run_cli(["--base-url", fakeapi.base_url, "-T", "nowhere", "hi"])
    assert result.exit_code == 2
    assert "no template named 'nowhere'" in result.stderr
    assert fakeapi.requests == []


def test_a_template_brings_options_schema_and_functions(fakeapi: FakeAPI,
                                                        tmp_path: Path) -> None:
    folder = config_dir() / "templates"
    folder.mkdir(parents=True)
    (folder / "schema.json").write_text('{"type": "object", "title": "Answer"}')
    write_template("shaped", 'options = ["top_k=5", "seed=1"]\nschema = "schema.json"\n')
    body = ask(fakeapi, "-T", "shaped", "-o", "seed=2", "hi")
    assert (body["top_k"], body["seed"]) == (5, 2)  # the command line's -o comes later
    assert body["response_format"]["json_schema"]["name"] == "Answer"


# -- --save --------------------------------------------------------------------------

SAVED_FLAGS = ["-s", 'Be terse; quote "x" and \\ back.\nSecond line.', "-t", "0.3",
               "--stop", "END", "--max-tokens", "50", "-o", "top_k=5", "--logit-bias",
               "50256=-100", "--schema", '{"type": "object", "properties": {"a": {}}}',
               "-m", "some-model", "Tell me"]


def test_save_reproduces_the_request_it_saved(fakeapi: FakeAPI) -> None:
    sent = ask(fakeapi, *SAVED_FLAGS)
    result = run_cli(["--base-url", fakeapi.base_url, "--save", "mine", *SAVED_FLAGS])
    assert result.exit_code == 0, result.stderr
    assert "saved template mine to " in result.stderr
    assert len(fakeapi.requests) == 1  # saving sends nothing
    again = ask(fakeapi, "-T", "mine")
    assert again == sent
    assert 'model = "some-model"' in (config_dir() / "templates" / "mine.toml").read_text()


def test_save_refuses_to_replace_without_force(fakeapi: FakeAPI) -> None:
    assert run_cli(["--save", "mine", "-s", "one"]).exit_code == 0
    result = run_cli(["--save", "mine", "-s", "two"])
    assert result.exit_code == 2
    assert "template mine exists" in result.stderr and "--force" in result.stderr
    assert run_cli(["--save", "mine", "--force", "-s", "three"]).exit_code == 0
    body = ask(fakeapi, "-T", "mine", "hi")
    assert messages(body)[0] == ("system", "three")


def test_save_over_a_template_makes_a_variant(fakeapi: FakeAPI) -> None:
    write_template("tr", 'system = "Into {{lang}}."\nprompt = "{{input}}"\n'
                         'params = { temperature = 0.2 }\n')
    result = run_cli(["-T", "tr", "-p", "lang", "Welsh", "--top-p", "0.7",
                      "--save", "welsh"])
    assert result.exit_code == 0, result.stderr
    body = ask(fakeapi, "-T", "welsh", "good night")
    assert messages(body) == [("system", "Into Welsh."), ("user", "good night")]
    assert (body["temperature"], body["top_p"]) == (0.2, 0.7)


def test_save_names_what_it_leaves_out(tmp_path: Path) -> None:
    notes = tmp_path / "n.txt"
    notes.write_text("x")
    result = run_cli(["--save", "withfile", "-f", str(notes), "hi"])
    assert result.exit_code == 0
    assert "not saved in it (give them each time): --files" in result.stderr


def test_save_takes_a_bad_name_as_a_usage_error() -> None:
    result = run_cli(["--save", "../escape", "hi"])
    assert result.exit_code == 2
    assert "template name '../escape' must be letters" in result.stderr


# -- built-ins and the templates commands ---------------------------------------------

def test_builtins_work_and_a_user_template_overrides_them(fakeapi: FakeAPI) -> None:
    body = ask(fakeapi, "-T", "translate", "-p", "lang", "French", "good day")
    assert "into French" in messages(body)[0][1]
    assert messages(body)[1] == ("user", "good day")
    listed = run_cli(["templates", "list"]).stdout
    assert re.search(r"^translate\s+.*\(built-in\)$", listed, re.MULTILINE)
    write_template("translate", 'description = "mine"\nprompt = "Mine: {{input}}"\n')
    body = ask(fakeapi, "-T", "translate", "good day")
    assert messages(body) == [("user", "Mine: good day")]
    listed = run_cli(["templates", "list"]).stdout
    assert re.search(r"^translate\s+mine  \(user, over the built-in\)$", listed, re.MULTILINE)
    entries = json.loads(run_cli(["templates", "list", "--json"]).stdout)
    mine = next(e for e in entries if e["name"] == "translate")
    assert (mine["origin"], mine["overrides_builtin"]) == ("user", True)
    assert {"explain", "review", "commit-message", "summarize"} <= {e["name"] for e in entries}
    result = run_cli(["templates", "delete", "translate"])
    assert (result.exit_code, "built-in one of that name applies again" in result.stderr) == (
        0, True)
    assert "into French" in messages(ask(fakeapi, "-T", "translate", "-p", "lang", "French",
                                         "x"))[0][1]
    result = run_cli(["templates", "delete", "translate"])
    assert (result.exit_code, "is a built-in template" in result.stderr) == (2, True)


def test_templates_show_and_path() -> None:
    write_template("tr", 'system = "Into {{lang}}, {{tone}}."\nprompt = "{{input}}"\n'
                         '[defaults]\ntone = "plainly"\n')
    result = run_cli(["templates", "show", "tr"])
    assert result.exit_code == 0
    file_part, _, messages_part = result.stdout.partition("# the messages it makes\n")
    assert 'system = "Into {{lang}}, {{tone}}."' in file_part
    assert json.loads(messages_part) == [
        {"role": "system", "content": "Into {{lang}}, plainly."},
        {"role": "user", "content": "{{input}}"}]
    assert run_cli(["templates", "path"]).stdout == f"{config_dir() / 'templates'}\n"


def editor_writing(tmp_path: Path, text: str) -> str:
    """An editor command that replaces the file it is given with ``text``."""
    script = tmp_path / "write.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({text!r})\n")
    return f"{sys.executable} {script}"


def test_templates_edit_saves_a_valid_template(fakeapi: FakeAPI, tmp_path: Path) -> None:
    editor = editor_writing(tmp_path, 'prompt = "Edited: {{input}}"\n')
    result = run_cli(["templates", "edit", "fresh"], env={"VISUAL": editor})
    assert result.exit_code == 0, result.stderr
    assert messages(ask(fakeapi, "-T", "fresh", "x")) == [("user", "Edited: x")]
    assert not (config_dir() / "templates" / "fresh.toml.draft").exists()


def test_templates_edit_refuses_an_invalid_edit_and_keeps_it(tmp_path: Path) -> None:
    path = write_template("kept", 'prompt = "before"\n')
    editor = editor_writing(tmp_path, 'prompt = "after"\nnonsense = 1\n')
    result = run_cli(["templates", "edit", "kept"], env={"VISUAL": editor})
    assert result.exit_code == 3
    assert "unknown template key 'nonsense'" in result.stderr
    assert "your edit is in" in result.stderr
    assert path.read_text() == 'prompt = "before"\n'
    assert "nonsense" in path.with_name("kept.toml.draft").read_text()


def test_templates_edit_starts_from_the_builtin(tmp_path: Path) -> None:
    copier = tmp_path / "copy.py"
    seen = tmp_path / "seen.txt"
    copier.write_text(f"import sys, shutil\nshutil.copy(sys.argv[1], {str(seen)!r})\n")
    result = run_cli(["templates", "edit", "review"],
                     env={"VISUAL": f"{sys.executable} {copier}"})
    assert result.exit_code == 0, result.stderr
    assert "careful senior reviewer" in seen.read_text()
    assert (config_dir() / "templates" / "review.toml").read_text() == seen.read_text()


@pytest.mark.parametrize("args", [["templates", "show", "nope"], ["templates", "delete", "nope"]])
def test_an_unknown_template_is_a_usage_error(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code == 2
    assert "no template named 'nope'" in result.stderr
