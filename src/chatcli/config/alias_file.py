"""``models alias`` and ``models unalias``: the ``[aliases]`` table of ``config.toml`` edited
in place, every comment and the rest of the file kept as the user wrote them.

tomlkit reads and writes the document (imported only here); the file is replaced
atomically, and the new table is checked as ``load_settings`` would check it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatcli.config.files import parse_toml
from chatcli.config.types import CHECKS
from chatcli.errors import ConfigError, UsageError


def set_alias(path: Path, name: str, model: str) -> str | None:
    """Make ``name`` stand for ``model``; the model it stood for before, if any."""
    if not name.strip() or any(c.isspace() for c in name) or not model.strip():
        raise UsageError("an alias is one word, and the model it names is not empty")
    import tomlkit

    document = _read(path)
    table: Any = document.get("aliases")
    if table is None:
        table = tomlkit.table()
        document["aliases"] = table
    before = table.get(name)
    table[name] = model
    _write(path, document)
    return str(before) if before is not None else None


def remove_alias(path: Path, name: str) -> str:
    """Forget the alias ``name``; the model it stood for. Not there is a usage error."""
    document = _read(path)
    table: Any = document.get("aliases")
    if table is None or name not in table:
        raise UsageError(f"{path} has no alias {name!r} in its [aliases] table")
    model = str(table[name])
    del table[name]
    _write(path, document)
    return model


def _read(path: Path) -> Any:
    import tomlkit

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.document()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    parse_toml(text, path)  # the same error for a broken file as every command gives
    document = tomlkit.parse(text)
    aliases = document.get("aliases")
    if aliases is not None and not isinstance(aliases, dict):
        raise ConfigError(f"{path}: aliases must be a table")
    return document


def _write(path: Path, document: Any) -> None:
    import tomlkit

    from chatcli.paths import atomic_write

    text = tomlkit.dumps(document)
    problem = CHECKS["aliases"](parse_toml(text, path).get("aliases", {}))
    if problem:
        raise ConfigError(f"{path}: aliases {problem}")
    atomic_write(path, text.encode("utf-8"))
