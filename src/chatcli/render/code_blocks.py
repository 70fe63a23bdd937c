"""The fenced code blocks of a Markdown answer, found as CommonMark finds them.

``-x`` and the REPL's ``/extract`` and ``/copy code`` all read code blocks here,
with markdown-it's own fence rule (```` and ~~~ of any length, info strings, a
longer fence holding shorter ones, an unclosed fence running to the end), so
what is extracted is what the renderer showed as code. markdown-it is imported
only when an answer is looked at. Nothing here decides which blocks are wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: the first word of its info string ("" for none) and its code,
    the lines between the fences without the newline that ends the last."""

    language: str
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced code block of ``markdown`` that holds code, in order, nested ones (in
    lists, quotes) included; an empty one is left out, as it gives nothing to run. The
    text is the model's, unescaped: showing it safely is the writer's job."""
    if "```" not in markdown and "~~~" not in markdown:
        return []  # no fence can open: no need to load the parser
    from chatcli.render.markdown_blocks import block_parser

    return [CodeBlock(token.info.strip().partition(" ")[0], token.content.removesuffix("\n"))
            for token in block_parser().parse(markdown)
            if token.type == "fence" and token.content.strip()]


def as_file(blocks: Sequence[CodeBlock]) -> str:
    """The blocks' code as one file: one blank line between blocks, one final newline."""
    return "\n\n".join(block.code for block in blocks) + "\n"
