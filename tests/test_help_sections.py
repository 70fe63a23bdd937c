"""``ask --help`` and ``chat --help`` list their options by section, then examples."""

from __future__ import annotations

import pytest
from typer.main import get_command

from chatcli.cli.app import app
from chatcli.cli.help_sections import OTHER, SECTIONS, section_of
from clirun import run_cli

TITLES = ["Arguments:", "Input:", "Model and request:", "Output:", "Endpoint:", "Tools:",
          "History:", "Examples:"]


@pytest.mark.parametrize("command", ["ask", "chat"])
def test_every_option_has_a_section(command: str) -> None:
    params = get_command(app).commands[command].params  # type: ignore[attr-defined]
    unplaced = [p.name for p in params
                if p.param_type_name == "option" and section_of(p.name) == OTHER]
    assert unplaced == []


def test_ask_help_is_in_sections_with_three_examples_at_the_end() -> None:
    result = run_cli(["ask", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line for line in lines if line in TITLES] == TITLES
    assert lines[-3:] == ['  chatcli "Explain SSE in one paragraph"',
                          '  git diff | chatcli -m gpt-4o "Write a commit message"',
                          '  chatcli -c -f main.py "Now review this file too"']
    assert "Options:" not in lines
    input_part = result.stdout.split("Input:")[1].split("Model and request:")[0]
    assert "--file PATH" in input_part and "--temperature" not in input_part
    assert "--base-url" in result.stdout.split("Endpoint:")[1].split("Tools:")[0]


def test_no_section_names_an_option_twice() -> None:
    names = [name for names in SECTIONS.values() for name in names]
    assert len(names) == len(set(names))
