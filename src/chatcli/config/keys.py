"""Which API key a request carries: cleaned, checked, and sent only where it belongs.

A key from any source (a flag, a variable, the config file, ``api_key_env``,
``api_key_cmd``) loses surrounding whitespace (a CRLF ``.env`` file leaves a
``\\r``); one that still holds a control or non-ASCII character is a
configuration error that names where the key came from and never shows it.
``OPENAI_API_KEY`` goes only where the OpenAI convention pairs it: OpenAI's
own API, or ``OPENAI_BASE_URL`` when that is the base URL in use. The
environment is handed in; this module never reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from chatcli.errors import ConfigError

OPENAI_HOSTS = frozenset({"api.openai.com"})
GENERIC_KEY = "OPENAI_API_KEY"


KEY_VARIABLES = (GENERIC_KEY, "CHATCLI_API_KEY")


@dataclass(frozen=True)
class ResolvedKey:
    """The key to send (None: none), and where it came from and goes."""

    key: str | None
    note: str


def clean_key(raw: str, origin: str) -> str | None:
    """``raw`` without surrounding whitespace; None when nothing is left."""
    key = raw.strip()
    if not key:
        return None
    if any(not " " < char <= "~" for char in key):
        raise ConfigError(f"the API key from {origin} holds a control or non-ASCII character;"
                          " check it (it is not shown here)")
    return key


def run_key_command(command: str) -> str:
    """Run ``api_key_cmd`` without a shell and return the first line it printed."""
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
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise ConfigError(f"api_key_cmd {argv[0]!r} printed nothing")
    return lines[0]


def resolve_key(values: Mapping[str, object], key_source: str, base_url: str,
                base_source: str, env: Mapping[str, str]) -> ResolvedKey:
    """The key the merged settings name, checked and scoped.

    ``values`` holds whichever of ``api_key``, ``api_key_env``, ``api_key_cmd``
    won; ``key_source`` and ``base_source`` say which layer gave the key and the
    base URL ("env OPENAI_API_KEY", "flag", "profile work", ...).
    """
    origin = _origin(values, key_source)
    raw = _raw_key(values, env)
    if raw is None:
        return ResolvedKey(None, "none")
    key = clean_key(raw, origin)
    if key is None:
        return ResolvedKey(None, f"none ({origin} is empty)")
    if key_source == f"env {GENERIC_KEY}" and not openai_key_belongs(base_url, env):
        return ResolvedKey(None, (
            f"none: {GENERIC_KEY} is set but is sent only to api.openai.com or to"
            f" OPENAI_BASE_URL, and the base URL comes from {base_source}; give this endpoint"
            " its key with --api-key, CHATCLI_API_KEY or a profile's api_key_env"))
    return ResolvedKey(key, f"from {origin}, sent to {base_url.rstrip('/')}")


def openai_key_belongs(base_url: str, env: Mapping[str, str]) -> bool:
    """Whether ``OPENAI_API_KEY`` may go to ``base_url``: OpenAI's own host over https, or
    the ``OPENAI_BASE_URL`` it is paired with."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and (parts.hostname or "") in OPENAI_HOSTS:
        return True
    paired = env.get("OPENAI_BASE_URL", "")
    return bool(paired) and _same_url(paired, base_url)


def _same_url(a: str, b: str) -> bool:
    first, second = urlsplit(a.strip()), urlsplit(b.strip())
    return ((first.scheme.lower(), (first.netloc or "").lower(), first.path.rstrip("/"))
            == (second.scheme.lower(), (second.netloc or "").lower(), second.path.rstrip("/")))


def _raw_key(values: Mapping[str, object], env: Mapping[str, str]) -> str | None:
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


def _origin(values: Mapping[str, object], source: str) -> str:
    """Where the key came from, in the words a user would look for it by."""
    if source == "flag":
        return "--api-key"
    if values.get("api_key_env"):
        return f"the variable {values['api_key_env']} (api_key_env, {source})"
    if values.get("api_key_cmd"):
        return f"api_key_cmd ({source})"
    return source
