"""What ``-f`` names, read: a file, a web page (``http://``, ``https://``), every text file
under a directory, or a command's output (``!COMMAND``).

Each becomes one or more fragments, fenced blocks labelled with where they came from,
and one line for the history saying what the source was; a PDF page is not text and
becomes a document, attached as ``--attach`` attaches a file. All of it together stays
under ``--max-context-kb``; every problem is a ``UsageError`` raised before anything
is sent. Nothing here checks for secrets (``outgoing`` does, per fragment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chatcli.errors import UsageError

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.session.environment import Environment
    from chatcli.session.options import AskRequest

CAP_OPTION = "--max-context-kb"
LARGEST_SHOWN = 5  # files named when a directory is over the cap


@dataclass(frozen=True)
class Fragment:
    """One fenced block to inline: ``label`` is its fence's label and where a finding is."""

    label: str
    text: str


@dataclass
class Context:
    """Every ``-f`` source, read: the fragments in order, and a line for each source."""

    fragments: list[Fragment] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    documents: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, bytes)


class Budget:
    """The bytes ``--max-context-kb`` still allows, shared by every ``-f`` source."""

    def __init__(self, kb: int) -> None:
        self.kb = kb
        self.limit = kb * 1024
        self.used = 0

    def left(self) -> int:
        return max(self.limit - self.used, 0)

    def take(self, size: int, what: str) -> None:
        """Count ``size`` bytes of ``what``; past the limit is a usage error."""
        if self.used + size > self.limit:
            earlier = f" ({kb(self.used)} already from other -f sources)" if self.used else ""
            raise UsageError(f"-f {what}: {kb(size)} is over the {self.kb} KB limit"
                             f" ({CAP_OPTION}){earlier}")
        self.used += size


def _cap_words(budget: Budget) -> str:
    """Which cap a page ran into: the option, or what other sources left of it."""
    if budget.used:
        return f"the {kb(budget.left())} that other -f sources left of {CAP_OPTION} {budget.kb}"
    return f"the {budget.kb} KB limit ({CAP_OPTION} {budget.kb})"


def kb(size: int) -> str:
    """A size as people read it: "61 KB", "2.4 KB", "19 bytes"."""
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.0f} KB" if size >= 10 * 1024 else f"{size / 1024:.1f} KB"


def read_context(request: AskRequest, env: Environment, settings: Settings | None) -> Context:
    """Read every ``-f`` source, in the order given, within one budget."""
    budget = Budget(request.max_context_kb)
    context = Context()
    for item in request.files:
        if item.startswith(("http://", "https://")):
            fragments, source = _page(item, request, env, settings, budget, context)
        elif item.startswith("!"):
            fragments, source = _command(item, request, env, budget)
        elif Path(item).is_dir():
            fragments, source = _directory(item, env, budget)
        else:
            fragments, source = _file(item, request, budget)
        context.fragments += fragments
        context.sources.append(source)
    return context


def _file(path: str, request: AskRequest, budget: Budget) -> tuple[list[Fragment], str]:
    from chatcli.media.attachments import read_text_file

    text = read_text_file(path, int(request.max_attachment_mb * 1_048_576))
    budget.take(len(text.encode("utf-8")), path)
    return [Fragment(path, text)], f"-f {path}"


def _page(url: str, request: AskRequest, env: Environment, settings: Settings | None,
          budget: Budget, context: Context) -> tuple[list[Fragment], str]:
    """The page, fetched without the endpoint's credentials but with its TLS options; a
    PDF joins ``context.documents`` instead of the fragments."""
    from chatcli.endpoint.web_page import TOTAL_CAP_SECONDS, fetch_page
    from chatcli.media.page_text import PDF_TYPE, page_text
    from chatcli.session.connect import tls_choice

    connect = settings.connect_timeout if settings is not None else 10.0
    total = min(TOTAL_CAP_SECONDS, settings.timeout if settings is not None else 600.0)
    page = fetch_page(url, tls=tls_choice(request.ca_bundle, request.insecure, env, quiet=True),
                      connect_timeout=connect, timeout=total, max_bytes=budget.left(),
                      over=_cap_words(budget))
    if page.media_type == PDF_TYPE or page.body.startswith(b"%PDF-"):
        budget.take(len(page.body), url)
        context.documents.append((_file_name(url, ".pdf"), page.body))
        return [], f"-f {url} (pdf, attached)"
    text, kind = page_text(url, page.media_type, page.charset, page.body)
    budget.take(len(page.body), url)
    return [Fragment(url, text)], f"-f {url} ({kind})"


def _file_name(url: str, suffix: str) -> str:
    """The name an attached page goes by: the URL path's last part, else the host's."""
    from urllib.parse import unquote, urlsplit

    from chatcli.sanitize import visible

    parts = urlsplit(url)
    name = visible(unquote(parts.path.rstrip("/").rpartition("/")[2])) or parts.hostname or "page"
    return name if name.lower().endswith(suffix) else name + suffix


def _directory(given: str, env: Environment, budget: Budget) -> tuple[list[Fragment], str]:
    """Every text file under it, one fragment each; one summary line on stderr."""
    from chatcli.media.text_tree import text_tree

    tree = text_tree(given)
    skipped = f", {tree.skipped} skipped" if tree.skipped else ""
    if not tree.files:
        raise UsageError(f"-f {given}: no text files to inline{skipped}")
    sizes = [(len(text.encode("utf-8")), label) for label, text in tree.files]
    total = sum(size for size, _ in sizes)
    if budget.used + total > budget.limit:
        largest = ", ".join(f"{label} ({kb(size)})" for size, label in
                            sorted(sizes, key=lambda pair: (-pair[0], pair[1]))[:LARGEST_SHOWN])
        earlier = f" with {kb(budget.used)} from other -f sources" if budget.used else ""
        raise UsageError(f"-f {given}: {len(sizes)} files, {kb(total)}, over the {budget.kb} KB"
                         f" limit ({CAP_OPTION}){earlier}; the largest: {largest}")
    budget.take(total, given)
    count = f"{len(sizes)} file" + ("s" if len(sizes) != 1 else "")
    env.log(f"chatcli: -f {given}: {count}, {kb(total)}{skipped}")
    return [Fragment(label, text) for label, text in tree.files], f"-f {given} ({count})"


def _command(item: str, request: AskRequest, env: Environment,
             budget: Budget) -> tuple[list[Fragment], str]:
    """The command's stdout, labelled ``!COMMAND`` as it was written."""
    from chatcli.session.context_command import command_output

    text = command_output(item[1:], env, yes=request.yes, max_bytes=budget.left(),
                          over=_cap_words(budget))
    budget.take(len(text.encode("utf-8")), f"'{item}'")
    return [Fragment(item, text)], f"-f {item}"
