"""A model's context window, output limit and prices, as an endpoint publishes them.

Gateways that publish these do it in two shapes: OpenRouter-style ``/models`` entries
(``context_length``, ``top_provider.max_completion_tokens``, ``pricing`` in USD per
token, as strings) and LiteLLM's ``/model/info`` (``model_info.max_input_tokens``,
``input_cost_per_token`` and so on). Both are read here into one vocabulary: token
counts, and USD per million tokens. The lookup is cached a day beside the model
catalog (``ModelCache``); a 4xx means "not published here" and is remembered too.
Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatcli.errors import RequestError, RequestRejected

if TYPE_CHECKING:
    from chatcli.endpoint.catalog import ModelCache
    from chatcli.endpoint.client import ChatClient

Facts = dict[str, float]  # context_window, max_output, price_input, price_output, …
PER_MILLION = 1_000_000


def facts_of(raw: Mapping[str, Any]) -> Facts:
    """What one published model object says, in chatcli's names; {} when it says nothing."""
    facts: Facts = {}
    info = raw.get("model_info")
    info = info if isinstance(info, Mapping) else raw  # LiteLLM nests them
    top = raw.get("top_provider")
    top = top if isinstance(top, Mapping) else {}
    _count(facts, "context_window", raw.get("context_length"), raw.get("context_window"),
           info.get("max_input_tokens"), top.get("context_length"))
    _count(facts, "max_output", top.get("max_completion_tokens"),
           info.get("max_output_tokens"), raw.get("max_output_tokens"))
    pricing = raw.get("pricing")
    pricing = pricing if isinstance(pricing, Mapping) else {}
    _price(facts, "price_input", pricing.get("prompt"), info.get("input_cost_per_token"))
    _price(facts, "price_output", pricing.get("completion"), info.get("output_cost_per_token"))
    _price(facts, "price_cached_input", pricing.get("input_cache_read"),
           info.get("cache_read_input_token_cost"))
    return facts


def _count(facts: Facts, name: str, *candidates: Any) -> None:
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**40:
            facts[name] = value
            return


def _price(facts: Facts, name: str, *candidates: Any) -> None:
    """A per-token price (a number, or a number in a string) as USD per million tokens;
    a negative one (OpenRouter's "-1" for "varies") is no price."""
    for value in candidates:
        if isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if 0 <= number < 1:
            facts[name] = round(number * PER_MILLION, 9)
            return


def published_facts(client: ChatClient, model: str) -> tuple[Facts, str]:
    """The facts the endpoint publishes for ``model`` and where ("GET /models"), or ({}, "")."""
    for path, entries in (("models", _models_entries), ("model/info", _litellm_entries)):
        try:
            data = client.get_json(path, what=f"GET /{path}")
        except RequestRejected:
            continue
        for entry in entries(data, model):
            facts = facts_of(entry)
            if facts:
                return facts, f"endpoint GET /{path}"
    return {}, ""


def _models_entries(data: Mapping[str, Any], model: str) -> list[Mapping[str, Any]]:
    items = data.get("data")
    return [item for item in items if isinstance(item, Mapping) and item.get("id") == model
            ] if isinstance(items, list) else []


def _litellm_entries(data: Mapping[str, Any], model: str) -> list[Mapping[str, Any]]:
    items = data.get("data")
    return [item for item in items if isinstance(item, Mapping)
            and model in (item.get("model_name"), _litellm_model(item))
            ] if isinstance(items, list) else []


def _litellm_model(item: Mapping[str, Any]) -> Any:
    params = item.get("litellm_params")
    return params.get("model") if isinstance(params, Mapping) else None


def cached_facts(client: ChatClient, model: str, cache: ModelCache | None) -> tuple[Facts, str]:
    """``published_facts``, kept a day; a network failure is not remembered (and gives {})."""
    from chatcli.endpoint.catalog import ModelCache

    key = "facts|" + ModelCache.key(client.settings, model)
    entry = cache.get(key) if cache is not None else None
    if entry is not None:
        raw = entry.get("raw") or {}
        facts = raw.get("facts") if isinstance(raw, dict) else None
        source = raw.get("source") if isinstance(raw, dict) else None
        if isinstance(facts, dict) and isinstance(source, str):
            return {k: v for k, v in facts.items() if isinstance(v, int | float)}, source
    try:
        facts, source = published_facts(client, model)
    except RequestError:
        return {}, ""
    if cache is not None:
        cache.put(key, {"facts": facts, "source": source})
    return facts, source
