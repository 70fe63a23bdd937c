"""Reading ``config.toml`` and template files: TOML, with every failure a ``ConfigError``
naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatcli.errors import ConfigError


def read_config_file(path: Path) -> dict[str, Any]:
    """The parsed ``config.toml``, or an empty table when there is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    return parse_toml(text, path)


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """TOML text (an edited template, say) parsed, or a ``ConfigError`` naming ``path``."""
    import tomllib  # only when there is a file: start-up counts

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read") from None
