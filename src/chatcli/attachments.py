"""Files and images from the command line, turned into message content.

A text file is inlined as a fenced block labelled with its path; an image
becomes an ``image_url`` part holding a base64 ``data:`` URL whose MIME type
comes from the file's magic bytes, not its name. Every problem is a
``UsageError`` naming the path.
"""

from __future__ import annotations

import base64
from pathlib import Path

from chatcli.errors import UsageError
from chatcli.messages import ContentPart, ImageURL

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


def _read(path: str, max_bytes: int) -> bytes:
    file = Path(path)
    try:
        if file.is_dir():
            raise UsageError(f"{path}: is a directory")
        size = file.stat().st_size
        if size > max_bytes:
            raise UsageError(
                f"{path}: {size / 1_048_576:.1f} MB is over the"
                f" {max_bytes / 1_048_576:g} MB limit (--max-attachment-mb)"
            )
        return file.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
