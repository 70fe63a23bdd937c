"""Spoken output (``modalities: ["audio"]``) written to the file ``--audio-out`` names.

The accumulated message holds the audio as base64 text, joined from the
stream's pieces; this module decodes it and writes it atomically
(``paths.atomic_write``), so a failed write never leaves half a file. It never prints.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

from chatcli.errors import UsageError
from chatcli.paths import atomic_write
from chatcli.protocol.result import TurnResult


def audio_bytes(completion: dict[str, Any], choice: int = 0) -> bytes | None:
    """The decoded audio of one choice, or None when the response holds none."""
    for entry in completion.get("choices") or ():
        if entry.get("index") == choice:
            audio = (entry.get("message") or {}).get("audio") or {}
            data = audio.get("data") if isinstance(audio, dict) else None
            if not isinstance(data, str) or not data:
                return None
            try:
                return base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UsageError(f"the response's audio is not valid base64: {exc}") from None
    return None


def write_audio(result: TurnResult, path: str) -> int | None:
    """Write the first choice's audio to ``path``; the byte count, or None if there was none."""
    data = audio_bytes(result.completion)
    if data is None:
        return None
    try:
        atomic_write(Path(path), data)
    except OSError as exc:
        raise UsageError(f"--audio-out {path}: cannot write: {exc.strerror}") from None
    return len(data)
