"""Request fields an endpoint refuses, found in its 400 answers and remembered per model.

Many gateways answer 400 to a field one model does not take (``temperature``
on reasoning models, ``max_tokens`` where ``max_completion_tokens`` is wanted,
``stream_options`` on older servers). This module reads which field was meant,
rewrites a body without it, and keeps what it learnt in a small JSON file so
the next request skips the round trip. It never prints and never sends.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from chatcli.errors import RequestError
from chatcli.paths import atomic_write

FILE_NAME: Final = "param_drops.json"
# Fields the request means nothing without; a rejection naming one is reported, never "fixed".
ESSENTIAL: Final = frozenset({"model", "messages", "tools", "stream"})
_FORMAT: Final = 1

# A rejection, as opposed to a bad value ("max_tokens is too large") which dropping would hide.
_REFUSAL = re.compile(
    r"not supported|unsupported|does not support|doesn't support|unrecogni[sz]ed"
    r"|unknown (?:parameter|field|argument)|not allowed|not permitted|extra (?:inputs|fields)",
    re.IGNORECASE,
)
_RENAME = re.compile(r"\buse\s+['\"`]?([A-Za-z_][A-Za-z0-9_]*)['\"`]?\s+instead", re.IGNORECASE)


@dataclass(frozen=True)
class Drop:
    """One field to leave out of the body, or to send under the name ``rename``."""

    field: str
    rename: str | None = None


def rejected_field(body: Mapping[str, Any], param: str | None, message: str) -> Drop | None:
    """The non-essential top-level field of ``body`` a 400/422 refuses, if it names one.

    ``param`` is the error object's own ``param`` (top-level part taken, so
    ``stream_options.include_usage`` blames ``stream_options``); otherwise the
    field must be named in the message: quoted anywhere, or bare at its start
    or after a colon or semicolon ("Unrecognized request argument supplied: foo").
    """
    if not _REFUSAL.search(message):
        return None
    name = _top_level(param) if param else None
    if name is None or name not in body:
        name = _named_in(message, [key for key in body if key not in ESSENTIAL])
    if name is None or name in ESSENTIAL:
        return None
    rename = _RENAME.search(message)
    target = rename.group(1) if rename else None
    if target is None or target == name or target in ESSENTIAL or target in body:
        return Drop(name)
    return Drop(name, target)


def error_param(parsed: Any) -> str | None:
    """The ``param`` an OpenAI-style error object blames; ``null`` and ``"None"`` mean none."""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    if not isinstance(param, str) or param.strip() in ("", "None", "null"):
        return None
    return param.strip()


def _top_level(param: str) -> str | None:
    head = re.split(r"[.\[]", param, maxsplit=1)[0].strip("'\"` ")
    return head or None


def _named_in(message: str, fields: Iterable[str]) -> str | None:
    """The field the message mentions first, in one of the two unmistakable ways."""
    found: list[tuple[int, str]] = []
    for name in fields:
        word = re.escape(name)
        quoted = re.search(rf"['\"`]{word}['\"`]", message)
        bare = re.search(rf"(?:^|[:;]\s*){word}(?![\w.\[-])", message)
        hits = [m.start() for m in (quoted, bare) if m is not None]
        if hits:
            found.append((min(hits), name))
    return min(found)[1] if found else None


def apply_drops(body: Mapping[str, Any],
                drops: Iterable[Drop]) -> tuple[dict[str, Any], list[Drop]]:
    """A copy of ``body`` with the drops done, and the drops that changed something."""
    result = dict(body)
    done: list[Drop] = []
    for drop in drops:
        if drop.field not in result or drop.field in ESSENTIAL:
            continue
        value = result.pop(drop.field)
        if drop.rename is not None and drop.rename not in result:
            result[drop.rename] = value
        done.append(drop)
    return result, done


def target_key(profile: str | None, base_url: str) -> str:
    """What a drop is remembered for: the profile by name, else the endpoint's URL."""
    return f"profile:{profile}" if profile else base_url.rstrip("/")


def describe_target(key: str, model: str) -> str:
    """``profile P, model M`` or ``https://host/v1, model M``, for the note."""
    where = f"profile {key.removeprefix('profile:')}" if key.startswith("profile:") else key
    return f"{where}, model {model}"


def drop_note(drop: Drop, remembered_for: str | None, *, write_failed: bool = False) -> str:
    """The one line the CLI shows after ``chatcli: note:`` when a drop was retried."""
    done = f"sent again as '{drop.rename}'" if drop.rename else "sent again without it"
    if remembered_for is not None:
        tail = f" (remembered for {remembered_for}; `chatcli config forget-drops` clears this)"
    elif write_failed:
        tail = " (not remembered: the drops file could not be written)"
    else:
        tail = ""
    return f"the endpoint rejected '{drop.field}'; {done}{tail}"


class DropRetry:
    """One request's drops: the remembered ones first, then one retry per refused field.

    Retrying happens only on a status error, which comes before any answer byte,
    so nothing the user has seen is repeated.
    """

    def __init__(self, store: ParamDrops | None, key: str, model: str,
                 on_drop: Callable[[str], None] | None,
                 log: Callable[[str], None] | None = None) -> None:
        self.store, self.key, self.model = store, key, model
        self._on_drop, self._log = on_drop, log
        self._tried: set[str] = set()

    def first(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` without the fields this endpoint and model refused before."""
        if self.store is None:
            return dict(body)
        result, done = apply_drops(body, self.store.for_model(self.key, self.model))
        for drop in done:
            if self._log:
                how = f"sent as '{drop.rename}'" if drop.rename else "left out"
                self._log(f"'{drop.field}' {how} (the endpoint rejected it before)")
        return result

    def after(self, body: Mapping[str, Any], error: RequestError) -> dict[str, Any] | None:
        """The body to send again after ``error``, or None when the error stands."""
        if error.status not in (400, 422):
            return None
        drop = rejected_field(body, error.param, error.message)
        if drop is None or drop.field in self._tried:
            return None
        self._tried.add(drop.field)
        result, _ = apply_drops(body, [drop])
        remembered = None
        saved = self.store is not None and self.store.remember(self.key, self.model, drop)
        if saved:
            remembered = describe_target(self.key, self.model)
        if self._on_drop:
            self._on_drop(drop_note(drop, remembered,
                                    write_failed=self.store is not None and not saved))
        return result


class ParamDrops:
    """The drops file: ``{"format": 1, "targets": {key: {model: {field: rename|null}}}}``.

    A missing or unreadable file counts as empty: losing what was learnt only
    costs one more 400 round trip, which is no reason to fail a request.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def for_model(self, key: str, model: str) -> list[Drop]:
        """The drops remembered for this endpoint and model, in the order they were learnt."""
        fields = self._targets().get(key, {}).get(model, {})
        return [Drop(name, rename if isinstance(rename, str) else None)
                for name, rename in fields.items()]

    def remember(self, key: str, model: str, drop: Drop) -> bool:
        """Add ``drop``; False when the file could not be written (the request goes on)."""
        targets = self._targets()
        targets.setdefault(key, {}).setdefault(model, {})[drop.field] = drop.rename
        try:
            self._write({"format": _FORMAT, "targets": targets})
        except OSError:
            return False
        return True

    def forget(self) -> int:
        """Delete every remembered drop; the number of fields forgotten."""
        count = sum(len(fields) for models in self._targets().values()
                    for fields in models.values())
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        return count

    def _targets(self) -> dict[str, dict[str, dict[str, str | None]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        targets = data.get("targets") if isinstance(data, dict) else None
        if not isinstance(targets, dict):
            return {}
        clean: dict[str, dict[str, dict[str, str | None]]] = {}
        for key, models in targets.items():
            if not isinstance(models, dict):
                continue
            for model, fields in models.items():
                if isinstance(fields, dict):
                    clean.setdefault(str(key), {})[str(model)] = {
                        str(name): rename if isinstance(rename, str) else None
                        for name, rename in fields.items()}
        return clean

    def _write(self, data: Mapping[str, Any]) -> None:
        """Rewrite the file whole, private and atomically (``paths.atomic_write``)."""
        atomic_write(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
