"""Files and images from the command line, turned into message content.

A text file is inlined as a fenced block labelled with its path; an image
becomes an ``image_url`` part holding a base64 ``data:`` URL whose MIME type
comes from the file's magic bytes, not its name. Audio becomes an
``input_audio`` part, any other file a ``file`` part. Every problem is a
``UsageError`` naming the path.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any, cast

from chatcli.errors import UsageError
from chatcli.protocol.messages import ContentPart, ImageURL

IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(head: bytes) -> str | None:
    """The image MIME type from the first bytes, or None."""
    for magic, mime in IMAGE_MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_text_file(path: str, max_bytes: int) -> str:
    """A file's text; binary, missing, unreadable or oversized files are usage errors."""
    data = _read(path, max_bytes)
    if b"\0" in data[:8192]:
        raise UsageError(f"{path}: is a binary file; use --image for images")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: is not UTF-8 text ({exc.reason})") from exc


def fence(path: str, text: str) -> str:
    """The file as a Markdown fenced block, with a fence longer than any inside it."""
    longest = 2
    run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    ticks = "`" * (longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{ticks}{path}\n{body}{ticks}"


def image_part(source: str, max_bytes: int, detail: str | None = None) -> ContentPart:
    """An ``image_url`` part: URLs pass through, local files become ``data:`` URLs."""
    if source.startswith(("http://", "https://", "data:")):
        url = source
    else:
        data = _read(source, max_bytes)
        mime = sniff_image(data[:16])
        if mime is None:
            raise UsageError(f"{source}: not a PNG, JPEG, GIF or WebP image")
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    image: ImageURL = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def sniff_audio(head: bytes) -> str | None:
    """``wav`` or ``mp3`` (the API's ``input_audio`` formats) from the first bytes, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"  # an ID3 tag, or an MPEG audio frame sync (11 set bits)
    return None


def audio_part(path: str, max_bytes: int) -> ContentPart:
    """An ``input_audio`` part; the format comes from the bytes, since names lie."""
    data = _read(path, max_bytes)
    audio_format = sniff_audio(data[:16])
    if audio_format is None:
        raise UsageError(f"{path}: not a WAV or MP3 file (--audio takes wav or mp3)")
    return _part("input_audio", {"data": _b64(data), "format": audio_format})


def document_type(name: str, data: bytes) -> str:
    """The MIME type of an attached file: PDF by its magic, else by name, else by content."""
    if data.startswith(b"%PDF"):
        return "application/pdf"
    guessed, _ = mimetypes.guess_type(name, strict=True)
    if guessed:
        return guessed
    if b"\0" not in data[:8192]:
        try:
            data.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError:
            pass
    return "application/octet-stream"


def document_part(path: str, max_bytes: int) -> ContentPart:
    """A ``file`` part holding the file itself as a ``data:`` URL, named by its base name."""
    return file_part(path, read_bytes(path, max_bytes))


def file_part(path: str, data: bytes) -> ContentPart:
    """A ``file`` part for bytes already read (and perhaps redacted) from ``path``."""
    name = Path(path).name
    url = f"data:{document_type(name, data)};base64,{_b64(data)}"
    return _part("file", {"filename": name, "file_data": url})


def text_of(path: str, data: bytes) -> str | None:
    """The text of an attachment whose type is text (the secret check reads it), else None."""
    kind = document_type(Path(path).name, data)
    if not (kind.startswith("text/") or kind in ("application/json", "application/xml",
                                                  "application/x-yaml", "application/toml")):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_bytes(path: str, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of a file; missing, unreadable or bigger is a usage error."""
    return _read(path, max_bytes)


def file_id_part(file_id: str) -> ContentPart:
    """A ``file`` part naming a file already uploaded to the server."""
    if not file_id.strip():
        raise UsageError("--file-id needs a file id")
    return _part("file", {"file_id": file_id.strip()})


def video_part(url: str) -> ContentPart:
    """A ``video_url`` part; the server fetches the video, so only URLs make sense."""
    if not url.startswith(("http://", "https://", "data:")):
        raise UsageError(f"{url}: --video takes an http(s) or data: URL")
    return _part("video_url", {"url": url})


def image_bytes_part(data: bytes, origin: str) -> ContentPart:
    """An ``image_url`` part from bytes already read (the clipboard)."""
    mime = sniff_image(data[:16])
    if mime is None:
        raise UsageError(f"{origin}: not a PNG, JPEG, GIF or WebP image")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{_b64(data)}"}}


def _part(kind: str, payload: dict[str, Any]) -> ContentPart:
    # The part's payload sits under a key named like its type.
    part: dict[str, Any] = {"type": kind, kind: payload}
    return cast(ContentPart, part)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read(path: str, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of the file; more is a usage error. The size is what was read,
    not what ``stat`` says: a device, a pipe or ``<(…)`` reports 0 and can be endless."""
    file = Path(path)
    try:
        if file.is_dir():
            raise UsageError(f"{path}: is a directory")
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UsageError(f"{path}: {_size(file, len(data))} is over the"
                         f" {max_bytes / 1_048_576:g} MB limit (--max-attachment-mb)")
    return data


def _size(file: Path, read: int) -> str:
    """The file's size when ``stat`` knows it, else "more than" what was read."""
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    if size >= read:
        return f"{size / 1_048_576:.1f} MB"
    return f"more than {(read - 1) / 1_048_576:g} MB"
