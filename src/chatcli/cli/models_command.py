"""``chatcli models show MODEL``: what the endpoint says about one model.

A readable key/value list (nested objects flattened with dots), then what chatcli
knows of the model's window and prices and where from (``known_model``); with
``--json``, the object as received. The lookups live in
``catalog.py`` and ``known_model``; this module opens the client and writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatcli.output_guard import write_json
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.session.known_model import KnownModel


def show_model(model: str, *, flags: dict[str, Any], headers: list[str],
               trace_id: str | None, as_json: bool, verbose: bool,
               ca_bundle: str | None = None, insecure: bool = False,
               env: Environment | None = None) -> None:
    """``GET /model-catalog/{model}``, else ``GET /models/{model}``, printed."""
    from chatcli.endpoint.catalog import fetch_model_info
    from chatcli.errors import RequestRejected
    from chatcli.session.connect import open_client
    from chatcli.session.known_model import known_model

    env = env or Environment.from_process()
    settings = env.settings(flags)
    from chatcli.endpoint.model_facts import facts_of

    raw: dict[str, Any] | None = None
    described = None
    with open_client(env, settings, headers=headers, verbose=verbose, ca_bundle=ca_bundle,
                     insecure=insecure) as client:
        try:
            info = fetch_model_info(client, model, trace_id)
        except RequestRejected as exc:
            if exc.status in (401, 403) or settings.models.get(model) is None:
                raise
            env.warn(f"the endpoint does not describe {model} ({exc.describe()})")
        else:
            raw = info.raw
            described = (facts_of(raw), f"endpoint GET /{info.source}/{model}")
        # What the description gives is enough; without any, the published lists are asked.
        known = None if as_json else known_model(
            settings, model, described=described,
            client=None if described and described[0] else client)
    if as_json:
        write_json(env.stdout, raw or {})
        return
    if raw is not None:
        env.stdout.write(format_model(raw))
    if known is not None:
        env.stdout.write(format_known(known))


def format_known(known: KnownModel) -> str:
    """What chatcli will use for the window and the cost, and where each came from."""
    from chatcli.session.known_model import FACTS

    if not known.facts:
        return (f"\nknown to chatcli: neither the window nor the prices (set them in"
                f' config.toml under [models."{known.model}"])\n')
    lines = ["", "known to chatcli:"]
    for fact in FACTS:
        value = known.facts.get(fact)
        if value is None:
            lines.append(f"  {fact:<18}  unknown")
        elif fact.startswith("price_"):
            lines.append(f"  {fact:<18}  ${value:g} per million tokens  ({known.sources[fact]})")
        else:
            lines.append(f"  {fact:<18}  {int(value)} tokens  ({known.sources[fact]})")
    return "\n".join(lines) + "\n"


def format_model(raw: dict[str, Any]) -> str:
    """Aligned ``key  value`` lines (the guarded stream escapes them for a terminal)."""
    from chatcli.endpoint.catalog import flatten

    rows = flatten(raw)
    if not rows:
        return "(the endpoint describes this model with an empty object)\n"
    width = max(len(key) for key, _ in rows)
    lines = [f"{key:<{width}}  {value}" for key, value in rows]
    return "\n".join(lines) + "\n"
