"""What chatcli knows of a model's window and prices, and where each fact came from.

First source wins, fact by fact: the config (``[models."NAME"]``, a profile's over
the top level), then what the endpoint publishes (``endpoint.model_facts``, cached
a day), else unknown. The endpoint is asked only when a caller hands in a client
(``-u``, ``models show``, a budget); history reports read the cache alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chatcli.config.types import MODEL_COUNTS, MODEL_PRICES

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient

FACTS = (*MODEL_COUNTS, *MODEL_PRICES)


@dataclass(frozen=True)
class KnownModel:
    """One model's known facts (token counts; USD per million tokens) and their sources."""

    model: str
    facts: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def context_window(self) -> int | None:
        value = self.facts.get("context_window")
        return int(value) if value is not None else None

    @property
    def max_output(self) -> int | None:
        value = self.facts.get("max_output")
        return int(value) if value is not None else None

    @property
    def priced(self) -> bool:
        """Both the input and the output price are known: a cost can be given."""
        return "price_input" in self.facts and "price_output" in self.facts


def known_model(settings: Settings, model: str | None = None, *,
                client: ChatClient | None = None, cached: bool = True,
                need: Sequence[str] = FACTS,
                described: tuple[Mapping[str, float], str] | None = None) -> KnownModel:
    """The facts for ``model`` (default: the settings' model). ``described``: facts the
    endpoint gave already, and where. ``client``: ask the endpoint for what the config
    leaves unknown of ``need``; without one, ``cached`` reads what a lookup kept."""
    name = model or settings.model
    facts: dict[str, float] = {}
    sources: dict[str, str] = {}
    for key in (name, settings.model_alias if name == settings.model else None):
        table = settings.models.get(key) if key else None
        for fact, value in (table or {}).items():
            if fact not in facts:
                facts[fact] = value
                sources[fact] = settings.sources.get(f"models.{key}.{fact}", "config")
    for fact, value in (described[0] if described else {}).items():
        if fact in FACTS and fact not in facts:
            facts[fact], sources[fact] = value, described[1] if described else ""
    if all(fact in facts for fact in need) or (client is None and not cached):
        return KnownModel(name, facts, sources)
    published, where = _published(settings, name, client)
    for fact, value in published.items():
        if fact in FACTS and fact not in facts:
            facts[fact], sources[fact] = value, where
    return KnownModel(name, facts, sources)


def _published(settings: Settings, model: str,
               client: ChatClient | None) -> tuple[dict[str, float], str]:
    from chatcli.config import data_dir
    from chatcli.endpoint.catalog import CACHE_FILE, ModelCache

    cache = ModelCache(data_dir() / CACHE_FILE)
    if client is not None:
        from chatcli.endpoint.model_facts import cached_facts

        return cached_facts(client, model, cache)
    entry = cache.get("facts|" + ModelCache.key(settings, model))
    raw = entry.get("raw") if entry is not None else None
    if isinstance(raw, dict) and isinstance(raw.get("facts"), dict):
        return dict(raw["facts"]), str(raw.get("source") or "endpoint")
    return {}, ""
