"""Resolved settings, and where each value came from.

Layers, lowest first: defaults < ``OPENAI_*`` variables < the config file's
top level < the chosen profile < ``CHATCLI_*`` variables < flags. The generic
``OPENAI_*`` variables sit below a profile so that choosing a profile for
another gateway never sends it the OpenAI key. This is the only module that
reads the environment; everything else is handed a frozen ``Settings``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chatcli.errors import ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"

PROFILE_KEYS = frozenset(
    {"base_url", "api_key", "api_key_env", "api_key_cmd", "model", "headers", "params",
     "extra_body", "timeout", "connect_timeout", "retries", "include_usage", "history",
     "thinking_style", *("functions", "tool_cmds", "tools", "approve", "mcp", "mcp_urls")}
)
# Tool keys: lists of strings; ``functions`` and ``tools`` name files, found from the
# config file's directory when relative. Flags add to these lists (``merged_tool_options``).
TOOL_LISTS = ("functions", "tool_cmds", "approve", "mcp", "mcp_urls")
# The spellings of the thinking switch (``dialects.THINKING_STYLES``, repeated here so
# that loading settings does not import the request-building code).
THINKING_STYLES = ("enable_thinking", "llmgw_thinking", "chat_template_kwargs",
                   "thinking_object", "directive")


@dataclass(frozen=True)
class Settings:
    """Everything a request needs that is not the conversation itself."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    model: str = DEFAULT_MODEL
    profile: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 600.0
    connect_timeout: float = 10.0
    retries: int = 2
    include_usage: bool = True
    history: bool = True
    thinking_style: str | None = None  # one of THINKING_STYLES; None: by model name
    functions: tuple[str, ...] = ()
    tool_cmds: tuple[str, ...] = ()
    tools: str | None = None
    approve: tuple[str, ...] = ()
    mcp: tuple[str, ...] = ()
    mcp_urls: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)  # for the CLI to show

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def models_url(self) -> str:
        return self.base_url.rstrip("/") + "/models"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CHATCLI_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/chatcli``, else ``~/.config/chatcli``."""
    return _directory(env, "CHATCLI_CONFIG_DIR", "XDG_CONFIG_HOME", ".config")


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CHATCLI_DATA_DIR``, else ``$XDG_DATA_HOME/chatcli``, else ``~/.local/share/chatcli``."""
    return _directory(env, "CHATCLI_DATA_DIR", "XDG_DATA_HOME", ".local/share")


def _directory(env: Mapping[str, str] | None, own: str, xdg: str, home_default: str) -> Path:
    env = os.environ if env is None else env
    if env.get(own):
        return Path(env[own])
    if env.get(xdg):
        return Path(env[xdg]) / "chatcli"
    return Path.home() / home_default / "chatcli"


def read_config_file(path: Path) -> dict[str, Any]:
    """The parsed ``config.toml``, or an empty table when there is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    import tomllib  # only when there is a file: start-up counts

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_settings(
    flags: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> Settings:
    """Merge every layer; ``flags`` holds only the options the user gave (others None)."""
    env = os.environ if env is None else env
    path = config_dir(env) / "config.toml"
    document = read_config_file(path)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("env", _generic_env(env)),
        (f"config {path}", _table(document, path, None)),
    ]
    profile, profile_source = _pick_profile(flags, env, document)
    if profile is not None:
        profiles = document.get("profiles", {})
        if not isinstance(profiles, dict) or profile not in profiles:
            raise ConfigError(f"profile {profile!r} is not defined in {path}")
        layers.append((f"profile {profile}", _table(profiles[profile], path, profile)))
    layers.append(("env", _chatcli_env(env)))
    layers.append(("flag", {k: v for k, v in flags.items() if v is not None}))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key.startswith("api_key"):
                # The key's three spellings compete as one setting.
                for other in ("api_key", "api_key_env", "api_key_cmd"):
                    values.pop(other, None)
            if key in ("headers", "params", "extra_body") and key in values:
                value = deep_merge(values[key], value)
            values[key] = value
            where = _describe_source(source, key, layer)
            if key in ("api_key_env", "api_key_cmd"):
                where = f"{where} ({key})"
            sources["api_key" if key.startswith("api_key") else key] = where
    if profile is not None:
        values["profile"] = profile
        sources["profile"] = profile_source
    values["api_key"] = _resolve_key(values, env)
    values.pop("api_key_env", None)
    values.pop("api_key_cmd", None)
    if "headers" in values:
        values["headers"] = _expand_headers(values["headers"], env)
    settings = _build(values, sources)
    warning = _exposed_key_warning(path, document)
    return replace(settings, warnings=(warning,)) if warning else settings


def _exposed_key_warning(path: Path, document: Mapping[str, Any]) -> str | None:
    """A literal ``api_key`` in a file others can read is worth a word."""
    tables = [document, *(t for t in (document.get("profiles") or {}).values()
                          if isinstance(t, dict))]
    if not any(isinstance(t, dict) and t.get("api_key") for t in tables):
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o044 == 0:
        return None
    return (f"{path} holds an API key and other users can read it;"
            f" run `chmod 600 {path}`, or use api_key_env or api_key_cmd")


def _describe_source(source: str, key: str, layer: Mapping[str, Any]) -> str:
    if source == "env" and isinstance(layer, _EnvLayer):
        return f"env {layer.names[key]}"
    return source


class _EnvLayer(dict[str, Any]):
    """A layer read from variables, remembering each value's variable name."""

    def __init__(self) -> None:
        super().__init__()
        self.names: dict[str, str] = {}

    def take(self, key: str, env: Mapping[str, str], *names: str) -> None:
        for name in names:
            if env.get(name):
                self[key] = env[name]
                self.names[key] = name
                return


def _generic_env(env: Mapping[str, str]) -> _EnvLayer:
    layer = _EnvLayer()
    layer.take("base_url", env, "OPENAI_BASE_URL")
    layer.take("api_key", env, "OPENAI_API_KEY")
    return layer


def _chatcli_env(env: Mapping[str, str]) -> _EnvLayer:
    layer = _EnvLayer()
    layer.take("base_url", env, "CHATCLI_BASE_URL")
    layer.take("api_key", env, "CHATCLI_API_KEY")
    layer.take("model", env, "CHATCLI_MODEL")
    return layer


def _pick_profile(
    flags: Mapping[str, Any], env: Mapping[str, str], document: Mapping[str, Any]
) -> tuple[str | None, str]:
    if flags.get("profile"):
        return str(flags["profile"]), "flag"
    if env.get("CHATCLI_PROFILE"):
        return env["CHATCLI_PROFILE"], "env CHATCLI_PROFILE"
    default = document.get("default_profile")
    if default is not None:
        return str(default), "config default_profile"
    return None, "default"


def _table(raw: Any, path: Path, profile: str | None) -> dict[str, Any]:
    where = f"profile {profile!r}" if profile else "top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    table = {k: v for k, v in raw.items() if k not in ("profiles", "default_profile")}
    unknown = sorted(set(table) - PROFILE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown setting {unknown[0]!r}")
    for key in ("headers", "params", "extra_body"):
        if key in table and not isinstance(table[key], dict):
            raise ConfigError(f"{path}: {where}: {key} must be a table")
    if "thinking_style" in table and table["thinking_style"] not in THINKING_STYLES:
        raise ConfigError(f"{path}: {where}: thinking_style must be one of "
                          f"{', '.join(THINKING_STYLES)}")
    return _tool_keys(table, path, where)


def _tool_keys(table: dict[str, Any], path: Path, where: str) -> dict[str, Any]:
    """Check the tool keys' types; make file names absolute from the config's directory."""
    for key in TOOL_LISTS:
        value = table.get(key)
        if key not in table:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{path}: {where}: {key} must be a list of non-empty strings")
        table[key] = tuple(value)
    if "tools" in table:
        if not isinstance(table["tools"], str) or not table["tools"]:
            raise ConfigError(f"{path}: {where}: tools must be the path of a JSON file")
        table["tools"] = _beside(path, table["tools"])
    if "functions" in table:
        table["functions"] = tuple(_beside(path, name) for name in table["functions"])
    for url in table.get("mcp_urls", ()):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: {where}: mcp_urls: {url!r} must start with http://"
                              " or https://")
    return table


def _beside(config: Path, name: str) -> str:
    """``name`` as a path, relative ones taken from the config file's directory."""
    found = Path(name).expanduser()
    return str(found if found.is_absolute() else config.parent / found)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_headers(headers: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"header refers to ${{{name}}}, which is not set")
        return env[name]

    return {str(k): _ENV_REF.sub(expand, str(v)) for k, v in headers.items()}


def _resolve_key(values: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    if values.get("api_key"):
        return str(values["api_key"])
    if values.get("api_key_env"):
        name = str(values["api_key_env"])
        if not env.get(name):
            raise ConfigError(f"api_key_env names {name}, which is not set")
        return env[name]
    if values.get("api_key_cmd"):
        return run_key_command(str(values["api_key_cmd"]))
    return None


def run_key_command(command: str) -> str:
    """Run ``api_key_cmd`` without a shell and return its first line."""
    import shlex
    import subprocess

    argv = shlex.split(command)
    if not argv:
        raise ConfigError("api_key_cmd is empty")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"api_key_cmd {argv[0]!r} could not run: {exc}") from exc
    if done.returncode != 0:
        raise ConfigError(f"api_key_cmd {argv[0]!r} exited with status {done.returncode}")
    key = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if not key:
        raise ConfigError(f"api_key_cmd {argv[0]!r} printed nothing")
    return key


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``extra`` over ``base``, merging nested tables key by key."""
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _build(values: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
    try:
        settings = Settings(
            base_url=str(values.get("base_url", DEFAULT_BASE_URL)),
            api_key=values.get("api_key"),
            model=str(values.get("model", DEFAULT_MODEL)),
            profile=values.get("profile"),
            headers=dict(values.get("headers", {})),
            params=dict(values.get("params", {})),
            extra_body=dict(values.get("extra_body", {})),
            timeout=float(values.get("timeout", 600.0)),
            connect_timeout=float(values.get("connect_timeout", 10.0)),
            retries=int(values.get("retries", 2)),
            include_usage=bool(values.get("include_usage", True)),
            history=bool(values.get("history", True)),
            thinking_style=values.get("thinking_style"),
            functions=tuple(values.get("functions", ())),
            tool_cmds=tuple(values.get("tool_cmds", ())),
            tools=values.get("tools"),
            approve=tuple(values.get("approve", ())),
            mcp=tuple(values.get("mcp", ())),
            mcp_urls=tuple(values.get("mcp_urls", ())),
            sources=dict(sources),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
    if not settings.base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL {settings.base_url!r} must start with http:// or https://")
    return settings


def redact(key: str | None) -> str:
    """``sk-…abcd``: enough to tell keys apart, never enough to use one."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…" + "*" * 3
    prefix = key[:3] if key[2:3] == "-" else ""
    return f"{prefix}…{key[-4:]}"


def stream_is_terminal(stream: object, env: Mapping[str, str] | None = None) -> bool:
    """Rich's notion of a terminal, without importing Rich: TTY_COMPATIBLE, FORCE_COLOR, isatty."""
    env = os.environ if env is None else env
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = env.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False
