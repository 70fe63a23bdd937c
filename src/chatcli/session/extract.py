"""Code blocks of answers: ``-x`` on stdout, ``/extract``'s choice, what ``--code`` asks.

The session decides here which blocks an answer gives (all of them, or the last
with ``--extract-last``), what happens when it has none (the whole answer, and a
warning), and how stdout gets it: highlighted where the answer would be rich,
else the code's own bytes and one final newline. Nothing reaches stdout before
the answer is complete, so a cut-off answer never leaves half a script behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatcli.errors import UsageError
from chatcli.protocol.result import TurnResult
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest

if TYPE_CHECKING:
    from chatcli.render.code_blocks import CodeBlock

NO_BLOCK = "the answer has no code block; printed it whole"
INCOMPLETE = "the answer is incomplete; nothing was written to stdout"
CODE_ONLY = ("Answer with code only: the complete code in one fenced code block{lang}, and"
             " nothing before or after it. If something needs explaining, say it in comments"
             " in the code.")


def extracting(request: AskRequest) -> bool:
    """Whether only the answer's code goes to stdout (``--code`` and ``--extract-last``
    imply ``-x``)."""
    return request.extract or request.extract_last or request.code


def check_extract(request: AskRequest) -> None:
    """Usage errors of the extraction options, before anything is sent."""
    if request.lang is not None and not request.code:
        raise UsageError("--lang goes with --code (it names the language of the code asked"
                         " for)", hint=f"Try: chatcli --code --lang {request.lang} PROMPT")
    if extracting(request) and request.output in ("json", "events"):
        raise UsageError(f"-x prints code, -O {request.output} prints JSON: choose one")


def system_message(request: AskRequest) -> str | None:
    """``--system``, with ``--code``'s request for code only after it."""
    if not request.code:
        return request.system
    lang = f" of {request.lang}" if request.lang else ""
    wanted = CODE_ONLY.format(lang=lang)
    return f"{request.system}\n\n{wanted}" if request.system else wanted


def write_code(result: TurnResult, request: AskRequest, env: Environment) -> str:
    """The code of the first choice's answer on stdout, or the whole answer and a warning;
    returns what that is (for ``--copy``)."""
    from chatcli.render.code_blocks import as_file, code_blocks

    choices = result.completion["choices"]
    content = choices[0]["message"].get("content") if choices else None
    text = content if isinstance(content, str) else ""
    if not text.strip():
        env.warn("the answer has no text; nothing was written to stdout")
        return ""
    blocks = code_blocks(text)
    if request.extract_last:
        blocks = blocks[-1:]
    highlight = request.output == "rich" or (request.output == "auto" and env.stdout_is_terminal)
    if not blocks:
        env.warn(NO_BLOCK)
    written = as_file(blocks) if blocks else text.removesuffix("\n") + "\n"
    if highlight:
        from chatcli.render.console import terminal_console
        from chatcli.render.extract_view import print_answer, print_code

        console = terminal_console(env.stdout)
        if blocks:
            print_code(console, blocks)
        else:
            print_answer(console, text)
    else:
        env.stdout.write(written)
    env.stdout.flush()
    return written


def code_block(text: str, number: int | None) -> CodeBlock:
    """An answer's code block ``number`` (1-based), or its last when None (``/extract``,
    ``/copy code``); a usage error saying why there is none."""
    from chatcli.render.code_blocks import code_blocks

    blocks = code_blocks(text)
    if not blocks:
        raise UsageError("the last answer has no code block")
    if number is not None and number > len(blocks):
        count = f"{len(blocks)} code block{'s' if len(blocks) > 1 else ''}"
        raise UsageError(f"the last answer has {count}, not {number}")
    return blocks[-1 if number is None else number - 1]
