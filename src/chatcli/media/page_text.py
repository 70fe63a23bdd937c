"""A fetched page's body as the text ``-f URL`` inlines, chosen by its media type.

Plain text and Markdown go as they are, HTML becomes Markdown (``html_text``),
JSON is pretty-printed; a PDF is not text and goes as ``--attach`` sends a file
(``context_sources``), and any other type (an image, an archive) is refused. Every
refusal is a ``UsageError`` naming the URL. Nothing here reads the network.
"""

from __future__ import annotations

import json

from chatcli.errors import UsageError
from chatcli.sanitize import visible

TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown", "text/csv", "text/xml",
              "application/xml", "text/x-python", "application/x-yaml", "text/yaml")
HTML_TYPES = ("text/html", "application/xhtml+xml")


PDF_TYPE = "application/pdf"


def page_text(url: str, media_type: str, charset: str | None, body: bytes) -> tuple[str, str]:
    """The text to inline and what kind it was ("text", "html" or "json")."""
    if media_type in HTML_TYPES:
        from chatcli.media.html_text import html_to_markdown

        return html_to_markdown(_decode(url, body, charset)), "html"
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            value = json.loads(_decode(url, body, charset))
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"-f {url}: the page says it is JSON but is not ({exc})") from None
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n", "json"
    if media_type in TEXT_TYPES or (media_type.startswith("text/") and media_type != "text/"):
        return _decode(url, body, charset), "text"
    kind = visible(media_type) if media_type else "no content type"
    raise UsageError(f"-f {url}: is {kind}, not text; -f takes text, HTML or JSON pages")


def _decode(url: str, body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8")
    except LookupError:
        raise UsageError(f"-f {url}: unknown charset {visible(charset or '')}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"-f {url}: is not {charset or 'UTF-8'} text ({exc.reason})") from None
