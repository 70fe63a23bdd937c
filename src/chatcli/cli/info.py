"""Commands that describe rather than chat: ``models`` and ``config show``."""

from __future__ import annotations

import json
from typing import Any

from chatcli.errors import ProtocolError
from chatcli.output_guard import write_json
from chatcli.session.environment import Environment


def list_models(*, flags: dict[str, Any], headers: list[str], trace_id: str | None,
                as_json: bool, verbose: bool, ca_bundle: str | None = None,
                insecure: bool = False, env: Environment | None = None) -> None:
    """``GET /models``: one id a line, sorted, or the raw JSON with ``--json``."""
    from chatcli.session.connect import open_client

    env = env or Environment.from_process()
    settings = env.settings(flags)
    with open_client(env, settings, headers=headers, verbose=verbose, ca_bundle=ca_bundle,
                     insecure=insecure) as client:
        data = client.list_models(trace_id)
    if as_json:
        write_json(env.stdout, data)
        return
    entries = data.get("data")
    if not isinstance(entries, list):
        raise ProtocolError("the models list has no 'data' array")
    ids = sorted(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)
    named: dict[str, list[str]] = {}
    for alias, model in sorted(settings.aliases.items()):
        named.setdefault(model, []).append(alias)
    env.stdout.write("".join(
        f"{model_id}  (alias {', '.join(named[model_id])})\n" if model_id in named
        else f"{model_id}\n" for model_id in ids))


def add_alias(name: str, model: str, env: Environment | None = None) -> None:
    """``models alias NAME MODEL``: written to config.toml, and said on stderr."""
    from chatcli.config import config_dir
    from chatcli.config.alias_file import set_alias

    env = env or Environment.from_process()
    path = config_dir() / "config.toml"
    before = set_alias(path, name, model)
    was = f" (it was {before})" if before is not None and before != model else ""
    env.log(f"chatcli: alias {name} = {model}{was}, in {path}")


def drop_alias(name: str, env: Environment | None = None) -> None:
    """``models unalias NAME``."""
    from chatcli.config import config_dir
    from chatcli.config.alias_file import remove_alias

    env = env or Environment.from_process()
    path = config_dir() / "config.toml"
    model = remove_alias(path, name)
    env.log(f"chatcli: alias {name} (for {model}) removed from {path}")


def show_config(flags: dict[str, Any], env: Environment | None = None) -> None:
    """Every resolved setting, its value (the key redacted) and where it came from."""
    from chatcli.config import config_dir, data_dir
    from chatcli.sanitize import redact, redact_secrets

    env = env or Environment.from_process()
    settings = env.settings(flags)
    rows: list[tuple[str, str]] = [
        ("base_url", settings.base_url),
        ("api_key", redact(settings.api_key)),
        ("model", settings.model),
        ("profile", settings.profile or "(none)"),
        ("headers", _describe_headers(settings.headers)),
        ("params", json.dumps(dict(settings.params), ensure_ascii=False)),
        ("extra_body", json.dumps(dict(settings.extra_body), ensure_ascii=False)),
        ("timeout", f"{settings.timeout:g}"),
        ("connect_timeout", f"{settings.connect_timeout:g}"),
        ("retries", str(settings.retries)),
        ("include_usage", "true" if settings.include_usage else "false"),
        ("history", "true" if settings.history else "false"),
        ("functions", json.dumps(list(settings.functions), ensure_ascii=False)),
        ("tool_cmds", json.dumps(list(settings.tool_cmds), ensure_ascii=False)),
        ("tools", settings.tools or "(none)"),
        ("approve", json.dumps(list(settings.approve), ensure_ascii=False)),
        ("mcp", json.dumps(list(settings.mcp), ensure_ascii=False)),
        ("mcp_urls", json.dumps(list(settings.mcp_urls), ensure_ascii=False)),
        ("tool_env", json.dumps(list(settings.tool_env), ensure_ascii=False)),
        ("max_time", f"{settings.max_time:g}" if settings.max_time else "(none)"),
        ("notify_after", f"{settings.notify_after:g}" if settings.notify_after else "(off)"),
        ("secret_scan", settings.secret_scan),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}  ({settings.sources.get(name, 'default')})"
             for name, value in rows]
    lines.append(f"{'key_sent':<{width}}  {settings.key_note}")
    lines.append(f"{'config_file':<{width}}  {config_dir() / 'config.toml'}")
    lines.append(f"{'data_dir':<{width}}  {data_dir()}")
    env.stdout.write(redact_secrets("\n".join(lines) + "\n"))  # a URL's userinfo, say


def _describe_headers(headers: Any) -> str:
    from chatcli.sanitize import redact_header

    shown = {name: redact_header(name, str(value)) for name, value in headers.items()}
    return json.dumps(shown, ensure_ascii=False)


def forget_drops(env: Environment | None = None) -> None:
    """``chatcli config forget-drops``: every remembered rejection is forgotten."""
    env = env or Environment.from_process()
    from chatcli.session.connect import param_drops_store

    count = param_drops_store().forget()
    env.stdout.write(f"forgot {count} rejected field{'s' if count != 1 else ''}\n")
