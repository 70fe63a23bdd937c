"""The module map holds: each heavy or outside library is used where it belongs, and
the docs name every command and option the CLI has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer._click import Command
from typer.main import get_command

from chatcli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "chatcli"
MODULES = sorted(PACKAGE.rglob("*.py"))

# library -> the modules (relative to src/chatcli) that may import it
ALLOWED = {
    "httpx": {"endpoint/client.py", "endpoint/http_failures.py"},
    "typer": {"cli/__init__.py", "cli/app.py", "cli/app_history.py", "cli/options.py",
              "cli/completion.py", "cli/app_endpoint.py"},
    "rich": {"render/terminal.py", "render/console.py", "render/tool_outcome.py"},
    "markdown_it": {"render/markdown_blocks.py"},
    "sqlite3": {"history/store.py", "history/opening.py"},
    "prompt_toolkit": {"repl/prompt.py"},
    "mcp": {"tools/mcp.py", "tools/mcp_connection.py"},
    "subprocess": {"config/keys.py", "tools/command.py", "media/clipboard.py"},
    "tomllib": {"config/__init__.py"},
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_libraries_are_used_only_where_the_module_map_says(path: Path) -> None:
    name = str(path.relative_to(PACKAGE))
    for library, owners in ALLOWED.items():
        if library in imports(path):
            assert name in owners, f"{name} imports {library}; only {sorted(owners)} may"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_config_reads_the_environment(path: Path) -> None:
    if path.relative_to(PACKAGE).as_posix() == "config/__init__.py":
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in {("os", "environ"), ("os", "getenv")}, (
                f"{path.name} reads the environment")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_what_it_is_for(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, f"{path.name} has no module docstring"


def test_modules_stay_small() -> None:
    for path in MODULES:
        lines = len(path.read_text().splitlines())
        assert lines <= 400, f"{path.relative_to(PACKAGE)} has {lines} lines; split it"


def all_options() -> list[tuple[str, str]]:
    """(command path, option string) for every option of every command."""
    found: list[tuple[str, str]] = []

    def walk(command: Command, path: str) -> None:
        for param in command.params:
            for opt in [*param.opts, *param.secondary_opts]:
                if opt.startswith("-"):
                    found.append((path, opt))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(get_command(app), "chatcli")
    return found


def test_readme_names_every_option() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [f"{path}: {opt}" for path, opt in all_options()
               if opt not in ("-h", "--help") and not re.search(rf"`{re.escape(opt)}[` ]", readme)]
    assert not missing, "options missing from the README: " + ", ".join(missing)


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in getattr(get_command(app), "commands", {}):
        assert f"`{name}" in readme


def test_readme_documents_every_exit_code() -> None:
    from chatcli.errors import ExitCode

    readme = (ROOT / "README.md").read_text()
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", readme, re.MULTILINE), code


# Every way past the output guard, and where each may stand (``output_guard``, STYLE 9).
RAW_WRITES = {
    r"\bsys\.(stdout|stderr)\b": {"__main__.py", "cli/__init__.py", "session/environment.py"},
    r"\.write_trusted\(": {"output_guard.py", "repl/commands.py"},  # /copy's own OSC 52
    r"\bTrustedSink\(": {"render/console.py"},
    r"\bConsole\(": {"render/console.py"},  # only SafeConsole is ever built
    r"\btyper\.echo\(": {"cli/app.py"},  # the version and completion scripts: chatcli's text
}


@pytest.mark.parametrize("pattern", sorted(RAW_WRITES))
def test_raw_writes_to_a_terminal_stand_only_where_they_are_meant(pattern: str) -> None:
    found = {str(path.relative_to(PACKAGE)) for path in MODULES
             if re.search(pattern, path.read_text())}
    stray = sorted(found - RAW_WRITES[pattern])
    assert not stray, f"{pattern} appears in {stray}"
