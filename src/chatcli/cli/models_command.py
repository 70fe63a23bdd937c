"""``chatcli models show MODEL``: what the endpoint says about one model.

A readable key/value list (nested objects flattened with dots), or the raw
object with ``--json``. The lookup itself lives in ``catalog.py``; this module
only opens the client and writes the answer.
"""

from __future__ import annotations

from typing import Any

from chatcli.output_guard import write_json
from chatcli.session.environment import Environment


def show_model(model: str, *, flags: dict[str, Any], headers: list[str],
               trace_id: str | None, as_json: bool, verbose: bool,
               ca_bundle: str | None = None, insecure: bool = False,
               env: Environment | None = None) -> None:
    """``GET /model-catalog/{model}``, else ``GET /models/{model}``, printed."""
    from chatcli.endpoint.catalog import fetch_model_info
    from chatcli.session.connect import open_client

    env = env or Environment.from_process()
    settings = env.settings(flags)
    with open_client(env, settings, headers=headers, verbose=verbose, ca_bundle=ca_bundle,
                     insecure=insecure) as client:
        info = fetch_model_info(client, model, trace_id)
    if as_json:
        write_json(env.stdout, info.raw)
        return
    env.stdout.write(format_model(info.raw))


def format_model(raw: dict[str, Any]) -> str:
    """Aligned ``key  value`` lines (the guarded stream escapes them for a terminal)."""
    from chatcli.endpoint.catalog import flatten

    rows = flatten(raw)
    if not rows:
        return "(the endpoint describes this model with an empty object)\n"
    width = max(len(key) for key, _ in rows)
    lines = [f"{key:<{width}}  {value}" for key, value in rows]
    return "\n".join(lines) + "\n"
