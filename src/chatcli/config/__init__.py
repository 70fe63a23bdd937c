"""Resolved settings, and where each value came from.

Layers, lowest first: defaults < ``OPENAI_*`` variables < the config file's
top level < the chosen profile < ``CHATCLI_*`` variables < the template in use
(its ``model``, ``params`` and ``profile``: chosen for this one run, it says more
than a variable set for every run) < flags. The generic
``OPENAI_*`` variables sit below a profile, and ``OPENAI_API_KEY`` goes only to
OpenAI or to ``OPENAI_BASE_URL`` (``api_keys``), so that choosing another
gateway never sends it the OpenAI key. Every value is type-checked
(``setting_types``). This is the only module that reads the environment;
everything else is handed a frozen ``Settings``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chatcli.config.files import read_config_file
from chatcli.config.keys import KEY_VARIABLES, resolve_key
from chatcli.config.process import editor_command, terminal_variables, user_shell
from chatcli.config.types import CHECKS, check_settings
from chatcli.dotted import deep_merge
from chatcli.errors import ConfigError
from chatcli.paths import loose_directory_warning
from chatcli.sanitize import is_secret_header, remember_secret

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"

PROFILE_KEYS = frozenset(
    {"base_url", "api_key", "api_key_env", "api_key_cmd", "model", "headers", "params",
     "extra_body", "timeout", "connect_timeout", "retries", "include_usage", "history",
     "thinking_style", "max_time", "secret_scan", "tool_env", "notify_after", "aliases",
     "system", "template", "models", "budget_daily", "budget_monthly", "context",
     "compact_model", "tokenizer",
     *("functions", "tool_cmds", "tools", "approve", "mcp", "mcp_urls")}
)

# Tool keys: lists of strings; ``functions`` and ``tools`` name files, found from the
# config file's directory when relative. Flags add to these lists (``merged_tool_options``).
TOOL_LISTS = ("functions", "tool_cmds", "approve", "mcp", "mcp_urls", "tool_env")


@dataclass(frozen=True)
class Settings:
    """Everything a request needs that is not the conversation itself."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    model: str = DEFAULT_MODEL
    model_alias: str | None = None  # what -m (or the config) said, when it was an alias
    aliases: Mapping[str, str] = field(default_factory=dict)  # [aliases], a profile's over
    profile: str | None = None
    system: str | None = None  # a profile's default system prompt
    template: str | None = None  # a profile's default template
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 600.0
    connect_timeout: float = 10.0
    retries: int = 2
    include_usage: bool = True
    history: bool = True
    thinking_style: str | None = None  # one of THINKING_STYLES; None: by model name
    max_time: float | None = None  # a whole request's deadline, in seconds
    secret_scan: str = "ask"  # one of SECRET_SCAN_MODES
    notify_after: float | None = None  # bell and notification for answers this slow
    tool_env: tuple[str, ...] = ()  # key variables tool commands may still see
    key_variables: tuple[str, ...] = ()  # variables that hold API keys: kept from tools
    functions: tuple[str, ...] = ()
    tool_cmds: tuple[str, ...] = ()
    tools: str | None = None
    approve: tuple[str, ...] = ()
    mcp: tuple[str, ...] = ()
    mcp_urls: tuple[str, ...] = ()
    models: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # [models."X"]
    context: str = "truncate"  # over the model's window: "truncate", "compact" or "error"
    compact_model: str | None = None  # writes the summaries of "compact" (else the model)
    tokenizer: str = "estimate"  # how a request near the window is counted: or "tiktoken"
    budget_daily: float | None = None  # USD
    budget_monthly: float | None = None  # USD
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)  # for the CLI to show
    key_note: str = field(default="", compare=False)  # which key goes where, and why

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


def load_settings(
    flags: Mapping[str, Any], env: Mapping[str, str] | None = None,
    template: tuple[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Merge every layer; ``flags`` holds only the options the user gave (others None);
    ``template``: the name of the template in use and its settings (``model``,
    ``params``, ``profile``)."""
    env = os.environ if env is None else env
    path = config_dir(env) / "config.toml"
    document = read_config_file(path)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("env", _generic_env(env)),
        (f"config {path}", _table(document, path, None)),
    ]
    profiles = document.get("profiles", {})
    checked = {name: _table(table, path, name) for name, table in profiles.items()}
    profile, profile_source = _pick_profile(flags, env, document, template)
    if profile is not None:
        if profile not in checked:
            raise ConfigError(f"profile {profile!r} is not defined in {path}")
        layers.append((f"profile {profile}", checked[profile]))
    layers.append(("env", _chatcli_env(env)))
    if template is not None:
        name, table = template
        layers.append((f"template {name}", {k: table[k] for k in ("model", "params")
                                            if k in table}))
    layers.append(("flag", {k: v for k, v in flags.items() if v is not None}))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    key_layer = "default"
    for source, layer in layers:
        for key, value in layer.items():
            if key.startswith("api_key"):
                # The key's three spellings compete as one setting.
                for other in ("api_key", "api_key_env", "api_key_cmd"):
                    values.pop(other, None)
            if key in ("headers", "params", "extra_body", "aliases", "models") and key in values:
                value = deep_merge(values[key], value)
            values[key] = value
            where = _describe_source(source, key, layer)
            if key == "models":  # each fact's own source, for ``models show``
                sources.update({f"models.{name}.{fact}": where
                                for name, facts in layer[key].items() for fact in facts})
            if key.startswith("api_key"):
                key_layer = where
            if key in ("api_key_env", "api_key_cmd"):
                where = f"{where} ({key})"
            sources["api_key" if key.startswith("api_key") else key] = where
    if profile is not None:
        values["profile"] = profile
        sources["profile"] = profile_source
    aliases = values.get("aliases") or {}
    if values.get("model") in aliases:
        typed = values["model"]
        values["model"], values["model_alias"] = aliases[typed], typed
        sources["model"] = f"alias {typed}, {sources.get('model', 'default')}"
    base_url = str(values.get("base_url", DEFAULT_BASE_URL))
    resolved = resolve_key(values, key_layer, base_url, sources.get("base_url", "default"),
                           env)
    values["api_key"] = resolved.key
    values["key_variables"] = _key_variables([document, *profiles.values()])
    values.pop("api_key_env", None)
    values.pop("api_key_cmd", None)
    if "headers" in values:
        values["headers"] = _expand_headers(values["headers"], env)
    settings = replace(_build(values, sources), key_note=resolved.note)
    _remember_secrets(settings)
    warnings = [w for w in (_exposed_key_warning(path, document),
                            loose_directory_warning(path.parent, "config directory")) if w]
    return replace(settings, warnings=tuple(warnings)) if warnings else settings


def _key_variables(tables: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Every variable that holds an API key: chatcli's, OpenAI's, and each ``api_key_env``
    named anywhere in the file (kept from tools: ``withhold_variables``)."""
    named = {str(t["api_key_env"]) for t in tables if t.get("api_key_env")}
    return tuple(sorted({*KEY_VARIABLES, *named}))


def _remember_secrets(settings: Settings) -> None:
    """Every credential in the settings, hidden from logs, errors and tracebacks."""
    remember_secret(settings.api_key)
    for name, value in settings.headers.items():
        if is_secret_header(name):
            remember_secret(value)
            remember_secret(value.partition(" ")[2])  # "Bearer X": X alone too


def _exposed_key_warning(path: Path, document: Mapping[str, Any]) -> str | None:
    """A literal ``api_key`` in a file others can read is worth a word."""
    tables = [document, *(t for t in (document.get("profiles") or {}).values()
                          if isinstance(t, dict))] if isinstance(
        document.get("profiles") or {}, dict) else [document]
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
    flags: Mapping[str, Any], env: Mapping[str, str], document: Mapping[str, Any],
    template: tuple[str, Mapping[str, Any]] | None,
) -> tuple[str | None, str]:
    if flags.get("profile"):
        return str(flags["profile"]), "flag"
    if template is not None and template[1].get("profile"):
        return str(template[1]["profile"]), f"template {template[0]}"
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
    if profile is None:
        _check_top_level(raw, path)
    table = {k: v for k, v in raw.items() if k not in ("profiles", "default_profile")}
    unknown = sorted(set(table) - PROFILE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown setting {unknown[0]!r}")
    check_settings(table, f"{path}: {where}")
    return _tool_keys(table, path, where)


def _check_top_level(document: Mapping[str, Any], path: Path) -> None:
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(t, dict) for t in profiles.values()):
        raise ConfigError(f"{path}: profiles must be tables ([profiles.NAME])")
    default = document.get("default_profile")
    if default is not None and not (isinstance(default, str) and default):
        raise ConfigError(f"{path}: default_profile must be a profile's name")


def _tool_keys(table: dict[str, Any], path: Path, where: str) -> dict[str, Any]:
    """Make tool lists tuples and file names absolute from the config's directory."""
    for key in TOOL_LISTS:
        if key in table:
            table[key] = tuple(table[key])
    if "tools" in table:
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


def withhold_variables(names: Sequence[str], *, keep: Sequence[str] = ()) -> list[str]:
    """Remove ``names`` (but ``keep``) from this process's environment, so that no process
    started from now on inherits them; the names that were set."""
    removed = [name for name in names if name not in keep and name in os.environ]
    for name in removed:
        del os.environ[name]
    return removed


def _build(values: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
    """The frozen settings; flags and variables are checked here (the file was, by key)."""
    base_url = str(values.get("base_url", DEFAULT_BASE_URL))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base URL {base_url!r} must start with http:// or https://")
    if not str(values.get("model", DEFAULT_MODEL)).strip():
        raise ConfigError(f"the model name is empty (from {sources.get('model')})")
    for key in ("timeout", "connect_timeout", "max_time"):
        if values.get(key) is not None and CHECKS[key](values[key]):
            raise ConfigError(f"{key} {CHECKS[key](values[key])} (from {sources.get(key)})")
    return Settings(
        base_url=base_url,
        api_key=values.get("api_key"),
        model=str(values.get("model", DEFAULT_MODEL)),
        model_alias=values.get("model_alias"),
        aliases=dict(values.get("aliases") or {}),
        profile=values.get("profile"),
        system=values.get("system"),
        template=values.get("template"),
        headers=dict(values.get("headers", {})),
        params=dict(values.get("params", {})),
        extra_body=dict(values.get("extra_body", {})),
        timeout=float(values.get("timeout", 600.0)),
        connect_timeout=float(values.get("connect_timeout", 10.0)),
        retries=int(values.get("retries", 2)),
        include_usage=bool(values.get("include_usage", True)),
        history=bool(values.get("history", True)),
        thinking_style=values.get("thinking_style"),
        notify_after=values.get("notify_after"),
        max_time=float(values["max_time"]) if values.get("max_time") is not None else None,
        secret_scan=str(values.get("secret_scan", "ask")),
        tool_env=tuple(values.get("tool_env", ())),
        key_variables=tuple(values.get("key_variables", ())),
        functions=tuple(values.get("functions", ())),
        tool_cmds=tuple(values.get("tool_cmds", ())),
        tools=values.get("tools"),
        approve=tuple(values.get("approve", ())),
        mcp=tuple(values.get("mcp", ())),
        mcp_urls=tuple(values.get("mcp_urls", ())),
        models=dict(values.get("models") or {}),
        context=str(values.get("context", "truncate")),
        compact_model=values.get("compact_model"),
        tokenizer=str(values.get("tokenizer", "estimate")),
        budget_daily=values.get("budget_daily"),
        budget_monthly=values.get("budget_monthly"),
        sources=dict(sources),
    )


__all__ = ["Settings", "config_dir", "data_dir", "editor_command", "load_settings",
           "read_config_file", "terminal_variables", "user_shell", "withhold_variables"]
