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
    "httpx": {"endpoint/client.py", "endpoint/http_failures.py",
              "endpoint/web_page.py"},  # -f URL: the page, without the endpoint's headers
    "bs4": {"media/html_text.py"},
    "markdownify": {"media/html_text.py"},
    "pathspec": {"media/text_tree.py"},  # -f DIR: .gitignore patterns
    "typer": {"cli/__init__.py", "cli/app.py", "cli/app_root.py", "cli/app_history.py",
              "cli/options.py",
              "cli/completion.py", "cli/command_tree.py", "cli/app_endpoint.py",
              "cli/help_sections.py",
              "cli/app_shell.py", "cli/app_ask.py", "cli/app_templates.py",
              "cli/app_usage.py", "cli/app_batch.py", "cli/app_compare.py",
              "cli/request_options.py"},
    "rich": {"render/terminal.py", "render/answer_markdown.py", "render/console.py",
             "render/command_view.py",
             "render/tool_outcome.py", "render/extract_view.py", "render/batch_view.py",
             "render/compare_view.py"},
    "markdown_it": {"render/markdown_blocks.py"},
    "sqlite3": {"history/store.py", "history/opening.py", "history/copying.py",
                "history/spent.py", "history/summaries.py"},
    "prompt_toolkit": {"repl/prompt.py"},
    "mcp": {"tools/mcp.py", "tools/mcp_connection.py"},
    "subprocess": {"config/keys.py", "tools/command.py", "media/clipboard.py",
                   "session/shell_command.py",  # runs the command the user chose
                   "session/context_command.py",  # -f '!COMMAND': the user wrote it
                   "session/notify.py",  # notify-send, osascript
                   "session/clipboard.py",  # wl-copy, xclip, pbcopy
                   "session/editor.py"},  # $VISUAL / $EDITOR
    "tomllib": {"config/files.py"},
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
    if path.relative_to(PACKAGE).as_posix() in ("config/__init__.py", "config/process.py"):
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
    r"\.write_trusted\(": {"output_guard.py", "session/clipboard.py",  # OSC 52
                           "render/console.py",  # a retry line, erasing a spinner
                           "render/dim.py",  # the REPL's greeting, dim
                           "session/notify.py"},  # the bell
    r"\bTrustedSink\(": {"render/console.py"},
    r"\bConsole\(": {"render/console.py"},  # only SafeConsole is ever built
    # the version, completion scripts and shell snippets: chatcli's own text
    r"\btyper\.echo\(": {"cli/app.py", "cli/app_root.py", "cli/app_shell.py"},
}


@pytest.mark.parametrize("pattern", sorted(RAW_WRITES))
def test_raw_writes_to_a_terminal_stand_only_where_they_are_meant(pattern: str) -> None:
    found = {str(path.relative_to(PACKAGE)) for path in MODULES
             if re.search(pattern, path.read_text())}
    stray = sorted(found - RAW_WRITES[pattern])
    assert not stray, f"{pattern} appears in {stray}"


# The layers, lowest first (STYLE.md): a module imports only from its own layer or below,
# lazily or under TYPE_CHECKING alike, and no two modules import each other round.
LAYERS: list[tuple[str, ...]] = [
    ("__init__", "errors", "sanitize", "paths", "output_guard", "dotted"),  # 0 foundation
    ("config",),  # 1 settings
    ("protocol", "secrets"),  # 2 the wire, and text checks: no I/O
    ("endpoint", "history", "media", "tools"),  # 3 edges
    ("engine", "render"),  # 4 one exchange, and how it looks
    ("session",),  # 5 options become a conversation
    ("cli", "repl", "__main__"),  # 6 front ends
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def layer_of(module: str) -> int:
    unit = module.split(".")[0]
    return next(number for number, units in enumerate(LAYERS) if unit in units)


def internal_imports(path: Path) -> set[str]:
    """Every chatcli module this file imports, at the top, in a function or for types."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("chatcli."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and (
                node.module == "chatcli" or node.module.startswith("chatcli.")):
            for alias in node.names:  # "from chatcli.cli import x" imports the module cli.x
                inner = PACKAGE.joinpath(*node.module.split(".")[1:], alias.name)
                submodule = inner.with_suffix(".py").exists() or inner.is_dir()
                if submodule:
                    found.add(f"{node.module}.{alias.name}")
                elif node.module != "chatcli":
                    found.add(node.module)
    return {name.removeprefix("chatcli.") for name in found}


GRAPH = {module_name(path): internal_imports(path) for path in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in GRAPH:
        assert any(module.split(".")[0] in units for units in LAYERS), module


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_downhill(module: str) -> None:
    upward = sorted(target for target in GRAPH[module] if layer_of(target) > layer_of(module))
    assert not upward, f"{module} (layer {layer_of(module)}) imports {upward} from above"


def test_nothing_but_the_command_line_imports_it() -> None:
    importers = sorted(module for module, targets in GRAPH.items()
                       if not module.startswith("cli") and module != "__main__"
                       and any(t == "cli" or t.startswith("cli.") for t in targets))
    assert not importers, f"{importers} import chatcli.cli"


def test_no_import_cycle() -> None:
    """Depth-first search over the module graph; a back edge is a cycle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            target = target if target in GRAPH else target.rsplit(".", 1)[0]
            if state.get(target) == 1:
                cycle = [*path[path.index(target):], target] if target in path else [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target in GRAPH and target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_the_package_map_names_what_exists() -> None:
    """The map in the package docstring: every name on its left is a module or package."""
    import chatcli

    doc = chatcli.__doc__ or ""
    section = doc.split("below", 1)[1]
    named = [word for line in section.splitlines() if line.startswith("    ")
             for word in line.strip().split("  ")[0].split()]
    assert len(named) >= 16
    for name in named:
        assert (PACKAGE / f"{name}.py").exists() or (PACKAGE / name).is_dir(), name
    assert sorted(named) == sorted(unit for units in LAYERS for unit in units
                                   if unit not in ("__init__", "__main__"))
    for word in ("turn", "round", "exchange", "conversation", "session"):
        assert f"\n    {word} " in doc
