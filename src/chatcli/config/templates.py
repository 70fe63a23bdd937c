"""Templates: saved prompts, as TOML files, found by name.

A template is ``NAME.toml`` in ``templates/`` under the config directory, or one of
the few that ship with chatcli (``builtin_templates/``); the user's file of a name
wins over the built-in one. Every key is checked here, so that a typo is a
configuration error naming the file and the key rather than a setting silently
ignored. What the keys mean for a request is the session layer's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from chatcli.config.types import CHECKS, Check
from chatcli.errors import ConfigError, UsageError

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "builtin_templates"
OUTPUT_MODES = ("auto", "rich", "plain", "json", "events")
REASONING_CHOICES = ("auto", "show", "hide")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")
INPUT = "input"  # the variable that stands for the prompt words and stdin


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _schema(value: Any) -> str | None:
    if isinstance(value, dict) or (isinstance(value, str) and value.strip()):
        return None
    return "must be a table, JSON text or the path of a JSON file"


def _choice(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def _defaults(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()):
        return "must be a table of variable names and values"
    return None


TEMPLATE_CHECKS: dict[str, Check] = {
    "description": _text, "system": _text, "prompt": _text, "model": CHECKS["model"],
    "profile": CHECKS["model"], "params": CHECKS["params"], "options": CHECKS["functions"],
    "schema": _schema, "tools": CHECKS["tools"], "functions": CHECKS["functions"],
    "mcp": CHECKS["mcp"], "output": _choice(*OUTPUT_MODES),
    "reasoning": _choice(*REASONING_CHOICES), "defaults": _defaults,
}


@dataclass(frozen=True)
class Template:
    """One template, checked; ``table`` holds its keys as the file spells them."""

    name: str
    path: Path
    origin: Literal["user", "built-in"]
    table: Mapping[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return str(self.table.get("description", ""))

    def text(self, key: str) -> str | None:
        value = self.table.get(key)
        return value if isinstance(value, str) else None

    def variables(self) -> list[str]:
        """The variables ``system`` and ``prompt`` use, in order of first use, without
        ``input`` (the prompt words and stdin fill that one)."""
        found: dict[str, None] = {}
        for key in ("system", "prompt"):
            for name in VARIABLE.findall(self.text(key) or ""):
                if name != INPUT:
                    found[name] = None
        return list(found)

    def defaults(self) -> dict[str, str]:
        raw = self.table.get("defaults") or {}
        return {str(k): str(v) for k, v in raw.items()}

    def beside(self, name: str) -> str:
        """A file the template names, relative ones found from the template's directory."""
        found = Path(name).expanduser()
        return str(found if found.is_absolute() else self.path.parent / found)


def template_dir(config_directory: Path) -> Path:
    return config_directory / "templates"


def check_name(name: str) -> str:
    """A template's name, as a file name: letters, digits, ``_``, ``.`` and ``-``."""
    if not NAME.match(name):
        raise UsageError(f"template name {name!r} must be letters, digits, '_', '.' or '-'"
                         " (starting with a letter or digit)")
    return name


def find_template(name: str, config_directory: Path) -> Template:
    """The template of this name: the user's, else the built-in one; none is a usage error
    naming the directory looked in."""
    check_name(name)
    own = template_dir(config_directory) / f"{name}.toml"
    if own.is_file():
        return read_template(own, "user")
    builtin = BUILTIN_DIR / f"{name}.toml"
    if builtin.is_file():
        return read_template(builtin, "built-in")
    raise UsageError(f"no template named {name!r} in {template_dir(config_directory)} nor"
                     " among the built-in ones; see `chatcli templates list`")


def all_templates(config_directory: Path) -> list[Template]:
    """Every template by name, the user's over the built-in ones of the same name."""
    found: dict[str, Template] = {}
    for origin, directory in (("built-in", BUILTIN_DIR),
                              ("user", template_dir(config_directory))):
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
            if NAME.match(path.stem):
                found[path.stem] = read_template(path, origin)  # type: ignore[arg-type]
    return [found[name] for name in sorted(found)]


def builtin_names() -> set[str]:
    return {path.stem for path in BUILTIN_DIR.glob("*.toml")}


def read_template(path: Path, origin: Literal["user", "built-in"]) -> Template:
    """The template in ``path``, every key checked."""
    from chatcli.config import read_config_file

    table = read_config_file(path)
    if not table and not path.exists():
        raise ConfigError(f"{path}: no such template file")
    check_template(table, path)
    return Template(path.stem, path, origin, table)


def check_template(table: Mapping[str, Any], path: Path) -> None:
    """A configuration error naming the file and the first unknown or ill-typed key."""
    for key, value in table.items():
        check = TEMPLATE_CHECKS.get(key)
        if check is None:
            known = ", ".join(TEMPLATE_CHECKS)
            raise ConfigError(f"{path}: unknown template key {key!r} (known: {known})")
        problem = check(value)
        if problem:
            raise ConfigError(f"{path}: {key} {problem}")


def with_input(prompt: str, given: str) -> str:
    """The template's prompt with the input in it: at ``{{input}}``, else after a blank
    line (nothing added when there is no input)."""
    if any(m.group(1) == INPUT for m in VARIABLE.finditer(prompt)):
        return VARIABLE.sub(lambda m: given if m.group(1) == INPUT else m.group(0), prompt)
    if not given:
        return prompt
    return f"{prompt}\n\n{given}" if prompt else given
