"""What an endpoint says about one model, and whether it takes a given kind of input.

Gateways publish model facts in different places: ``GET /model-catalog/{model}``
(with ``modalities.input``), OpenRouter's ``architecture.input_modalities``, or a
bare ``GET /models/{model}``. This module reads them, keeps them a day in a small
JSON cache, and refuses a request the model cannot take before it is sent.
It never prints; the cache path and the clock are handed in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chatcli.errors import RequestError, RequestRejected, UsageError
from chatcli.paths import atomic_write

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient

CACHE_TTL = 86_400.0
CACHE_FILE = "models.json"
# Content part type -> the modality a catalog names for it.
PART_KINDS = {"image_url": "image", "input_audio": "audio", "file": "file",
              "video_url": "video", "text": "text"}
Clock = Callable[[], float]
Lookup = Callable[[str], Sequence[str] | None]


@dataclass(frozen=True)
class ModelInfo:
    """One model's published object, and which endpoint gave it."""

    model: str
    source: str  # "model-catalog" or "models"
    raw: dict[str, Any]

    @property
    def input_modalities(self) -> tuple[str, ...] | None:
        return input_modalities(self.raw)


def input_modalities(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The input modalities the object publishes, lower-cased; None when it names none."""
    modalities = raw.get("modalities")
    architecture = raw.get("architecture")
    candidates: list[Any] = [
        modalities.get("input") if isinstance(modalities, Mapping) else None,
        raw.get("input_modalities"),
        architecture.get("input_modalities") if isinstance(architecture, Mapping) else None,
    ]
    for value in candidates:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.lower() for v in value)
    # OpenRouter's older summary: "text+image->text".
    summary = architecture.get("modality") if isinstance(architecture, Mapping) else None
    if isinstance(summary, str) and "->" in summary:
        return tuple(part.strip().lower() for part in summary.split("->")[0].split("+"))
    return None


def flatten(raw: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted key, shown value) pairs: nested objects flattened, lists of scalars joined."""
    rows: list[tuple[str, str]] = []
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(flatten(value, name + "."))
        elif isinstance(value, list) and value and all(
                isinstance(v, str | int | float) for v in value):
            rows.append((name, ", ".join(_scalar(v) for v in value)))
        else:
            rows.append((name, _scalar(value)))
    return rows


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def fetch_model_info(client: ChatClient, model: str, trace_id: str | None = None) -> ModelInfo:
    """The catalog entry where the gateway has one, else ``GET /models/{model}``.

    A 4xx other than 401/403 on the catalog means "no catalog here" (404, 405, or a
    gateway that reads the path as a bad request); a key problem is reported as is.
    """
    name = quote(model, safe="")
    try:
        raw = client.get_json(f"model-catalog/{name}", trace_id, what="the model catalog entry")
        return ModelInfo(model, "model-catalog", raw)
    except RequestRejected as exc:
        if exc.status is None or not 400 <= exc.status < 500 or exc.status in (401, 403):
            raise
    raw = client.get_json(f"models/{name}", trace_id, what="the model's description")
    return ModelInfo(model, "models", raw)


class ModelCache:
    """Model objects by (profile, base URL, model), each kept ``ttl`` seconds.

    One small JSON file, rewritten whole (``paths.atomic_write``: 0600, in a 0700
    directory), so a crash never leaves half a file. A file that cannot be read
    is treated as empty: the cache only ever saves requests.
    """

    def __init__(self, path: Path, clock: Clock = time.time, ttl: float = CACHE_TTL) -> None:
        self.path = path
        self.clock = clock
        self.ttl = ttl

    @staticmethod
    def key(settings: Settings, model: str) -> str:
        return f"{settings.profile or ''}|{settings.base_url.rstrip('/')}|{model}"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry (``{"raw": object-or-null}``) when fresh, else None."""
        entry = self._read().get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), int | float):
            return None
        if not 0 <= self.clock() - entry["at"] < self.ttl:
            return None
        return entry

    def put(self, key: str, raw: Mapping[str, Any] | None) -> None:
        entries = self._read()
        now = self.clock()
        entries = {k: v for k, v in entries.items()
                   if isinstance(v, dict) and isinstance(v.get("at"), int | float)
                   and 0 <= now - v["at"] < self.ttl}
        entries[key] = {"at": now, "raw": dict(raw) if raw is not None else None}
        self._write(entries)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: Mapping[str, Any]) -> None:
        atomic_write(self.path, json.dumps(entries, ensure_ascii=False).encode("utf-8"))


def cached_lookup(client: ChatClient, cache: ModelCache | None) -> Lookup:
    """A ``check_parts`` lookup: input modalities from the cache, else from the endpoint.

    A model the endpoint does not describe (any 4xx) is remembered as "unknown"
    for the day too, so a gateway without a catalog costs one lookup a day. A 5xx
    or network failure is not remembered and lets the request go: the chat
    request reports its own problem better than a guess would.
    """

    def lookup(model: str) -> Sequence[str] | None:
        key = ModelCache.key(client.settings, model)
        entry = cache.get(key) if cache is not None else None
        if entry is not None:
            raw = entry.get("raw")
            return input_modalities(raw) if isinstance(raw, dict) else None
        try:
            info: ModelInfo | None = fetch_model_info(client, model)
        except RequestRejected:
            info = None
        except RequestError:
            return None  # a failing lookup never blocks the chat; it is not remembered
        if cache is not None:
            cache.put(key, info.raw if info is not None else None)
        return info.input_modalities if info is not None else None

    return lookup


def part_kinds(messages: Iterable[Mapping[str, Any]]) -> set[str]:
    """The modalities the messages' content parts need ("image", "audio", "file", ...)."""
    kinds: set[str] = set()
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, Mapping) else None
            if isinstance(kind, str):
                kinds.add(PART_KINDS.get(kind, kind))
    return kinds


def check_parts(catalog_lookup: Lookup, model: str, parts_kinds: set[str]) -> None:
    """Refuse input the model's published modalities exclude; unknown or unpublished passes."""
    wanted = parts_kinds - {"text"}
    if not wanted:
        return
    published = catalog_lookup(model)
    if published is None:
        return
    missing = sorted(kind for kind in wanted if kind not in published)
    if missing:
        listed = ", ".join(published) or "nothing"
        kinds = " or ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1
                            else missing)
        raise UsageError(f"model {model} does not take {kinds} input"
                         f" (the endpoint lists: {listed})")


def refuse_unsupported_media(client: ChatClient, messages: Iterable[Mapping[str, Any]],
                             model: str, cache_path: Path | None) -> None:
    """The check ``ask`` runs before sending images, audio or files (cached a day)."""
    kinds = part_kinds(messages)
    if kinds - {"text"}:
        cache = ModelCache(cache_path) if cache_path is not None else None
        check_parts(cached_lookup(client, cache), model, kinds)
