"""The user's input for a request, gathered once: the system message, ``--messages``, the
prompt words, stdin, files and every attachment kind.

Text is read first, checked for credentials as pieces (``outgoing.check``: each
finding named by its file and line, each redaction confined to its piece), and
only then assembled into messages; every problem is a ``UsageError`` raised
before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from chatcli.errors import UsageError
from chatcli.protocol.messages import ContentPart, Message, load_messages, user_message
from chatcli.session.extract import system_message
from chatcli.session.outgoing import Piece, SecretPolicy, check

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.session.environment import Environment
    from chatcli.session.options import AskRequest


@dataclass(frozen=True)
class Gathered:
    """What the command line gave, checked: the opening messages (``--system``,
    ``--messages``), the first user message's text and its parts (every attachment)."""

    opening: list[Message]
    text: str
    parts: list[ContentPart]
    sources: list[str] = field(default_factory=list)  # what each -f was, for the history


def gather(request: AskRequest, env: Environment, policy: SecretPolicy, *,
           piped: str | None = None, prompt: bool = True,
           settings: Settings | None = None) -> Gathered:
    """Read and check every input the options name. ``piped``: stdin already read (the
    REPL reads it before taking the terminal); ``prompt``: the prompt words belong to
    the text (the REPL sends them as its first message instead); ``settings``: the
    timeouts a ``-f URL`` is fetched with."""
    max_bytes = int(request.max_attachment_mb * 1_048_576)
    if piped is None:
        piped = "" if env.stdin_is_terminal else env.read_stdin(max_bytes)
    pieces: dict[str, Piece] = {}
    system = system_message(request)  # --system, and what --code asks for
    if system is not None:
        pieces["system"] = Piece("--system", system)
    if request.messages == "-":  # stdin holds the messages, not context
        pieces["messages"] = Piece("stdin", piped)
    elif request.messages is not None:
        pieces["messages"] = Piece(request.messages, read_text(request.messages, "--messages"))
    pieces["prompt"] = Piece("the prompt", " ".join(request.prompt) if prompt else "")
    if request.template_prompt is not None and prompt:
        pieces["template"] = Piece(f"template {request.template}", request.template_prompt)
    if request.messages != "-" and piped:
        pieces["stdin"] = Piece("stdin", piped)
    context = None
    if request.files:
        from chatcli.session.context_sources import read_context

        context = read_context(request, env, settings)
        for number, fragment in enumerate(context.fragments):
            pieces[f"file {number}"] = Piece(fragment.label, fragment.text, label=fragment.label)
    documents: list[tuple[str, bytes]] = []
    if request.attach:
        from chatcli.media.attachments import read_bytes

        documents = [(path, read_bytes(path, max_bytes)) for path in request.attach]
    documents += context.documents if context else []  # a -f URL that is a PDF
    if documents:
        from chatcli.media.attachments import text_of
    for number, (path, data) in enumerate(documents):
        text = text_of(path, data)
        if text is not None:
            pieces[f"attach {number}"] = Piece(path, text)
    checked, note = check(list(pieces.values()), policy)
    if note:
        env.warn(note)
    gathered = _assemble(request, dict(zip(pieces, checked, strict=True)), documents,
                         max_bytes)
    return replace(gathered, sources=context.sources) if context else gathered


def gather_messages(request: AskRequest, env: Environment, policy: SecretPolicy,
                    settings: Settings | None = None) -> tuple[list[Message], list[str]]:
    """System message, ``--messages``, then the user message from prompt, stdin and files;
    and what each ``-f`` was (for the history's record of that user message)."""
    gathered = gather(request, env, policy, settings=settings)
    messages = list(gathered.opening)
    if gathered.text or gathered.parts:
        messages.append(user_message(gathered.text, gathered.parts))
    elif request.messages is None:
        raise UsageError("no prompt: give PROMPT words or pipe text on stdin")
    if not any(m.get("role") != "system" for m in messages):
        raise UsageError("no prompt: the messages hold only a system message")
    return messages, gathered.sources


def _assemble(request: AskRequest, sent: dict[str, Piece],
              documents: list[tuple[str, bytes]], max_bytes: int) -> Gathered:
    opening: list[Message] = []
    if "system" in sent:
        opening.append({"role": "system", "content": sent["system"].text})
    if "messages" in sent:
        piece = sent["messages"]
        opening.extend(load_messages(piece.text, piece.origin))
    text = sent["prompt"].text
    blocks = [sent["stdin"].text] if "stdin" in sent and sent["stdin"].text.strip() else []
    for block in blocks:
        text = f"{text}\n\n{block}" if text else block
    if "template" in sent:  # the prompt words and stdin are the template's {{input}}
        from chatcli.config.templates import with_input

        text = with_input(sent["template"].text, text)
    for block in (piece.render() for key, piece in sent.items() if key.startswith("file ")):
        text = f"{text}\n\n{block}" if text else block
    parts = _parts_before_documents(request, max_bytes)
    if documents:
        from chatcli.media.attachments import file_part
    for number, (path, data) in enumerate(documents):
        checked = sent.get(f"attach {number}")
        parts.append(file_part(path, checked.text.encode("utf-8") if checked else data))
    parts += _parts_after_documents(request)
    return Gathered(opening, text, parts)


def _parts_before_documents(request: AskRequest, max_bytes: int) -> list[ContentPart]:
    """Images, the clipboard's image and audio, in the order the parts have always had."""
    if not (request.images or request.clipboard or request.audio):
        return []  # a prompt of text alone loads no media code
    from chatcli.media.attachments import audio_part, image_part

    parts = [image_part(source, max_bytes, request.image_detail) for source in request.images]
    if request.clipboard:
        from chatcli.media.clipboard import clipboard_image

        parts.append(clipboard_image(max_bytes))
    parts += [audio_part(path, max_bytes) for path in request.audio]
    return parts


def _parts_after_documents(request: AskRequest) -> list[ContentPart]:
    if not (request.file_ids or request.videos):
        return []
    from chatcli.media.attachments import file_id_part, video_part

    return [*(file_id_part(ident) for ident in request.file_ids),
            *(video_part(url) for url in request.videos)]


def read_text(path: str, flag: str) -> str:
    """A text file a flag names; missing, a directory or unreadable is a usage error."""
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{flag} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{flag} {path}: is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{flag} {path}: cannot read: {exc}") from None

