"""Rich's Markdown as chatcli shows an answer: parsed once by chatcli's own parser,
code unwrapped and unpadded so copied code stays intact, images as their text and
URL, and no line padded out to the terminal's width (``unpadded``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, ImageItem, Markdown, MarkdownElement
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from chatcli.render.console import unpadded
from chatcli.render.markdown_blocks import parse

if TYPE_CHECKING:
    from chatcli.render.markdown_blocks import Token

CODE_THEME = "monokai"


def highlighted(code: str, lexer: str, theme: str = CODE_THEME, skip: int = 0) -> Text:
    """``code`` highlighted as a code block shows it (no wrap, no padding), less its first
    ``skip`` lines (given as lexer context only) and the newline the lexer adds."""
    text = Syntax(code, lexer, theme=theme, background_color="default").highlight(code)
    if skip:  # counted in lines: the lexer expands tabs
        plain, end = text.plain, -1
        for _ in range(skip):
            end = plain.index("\n", end + 1)
        text = text[end + 1:]
    if text.plain.endswith("\n"):
        text.right_crop(1)
    text.no_wrap = True
    text.overflow = "ignore"
    return text


class UnwrappedCodeBlock(CodeBlock):
    """Highlighted code with no padding and no hard wrap, so copied code stays intact."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = highlighted(str(self.text).rstrip("\n"), self.lexer_name, self.theme)
        text.rstrip()
        yield text


class ShownImage(ImageItem):
    """An image as its text with its URL beside it (Rich shows the text alone)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = self.text or Text(self.destination.strip("/").rsplit("/", 1)[-1])
        if self.hyperlinks:
            title.stylize(Style(link=self.link or self.destination or None))
        parts = [Text("🌆 "), title]
        if self.destination and title.plain != self.destination:
            parts += [Text(" ("), Text(self.destination, style="dim"), Text(")")]
        yield Text.assemble(*parts, " ", end="")


class AnswerMarkdown(Markdown):
    """Rich's Markdown, parsed once by chatcli's parser into tokens that are safe to show."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "fence": UnwrappedCodeBlock, "code_block": UnwrappedCodeBlock,
        "image": ShownImage,
    }

    def __init__(self, markup: str, tokens: list[Token] | None = None,
                 code_theme: str = CODE_THEME) -> None:
        # Rich's __init__ would build a parser of its own and parse again: set what it sets.
        self.markup = markup
        self.parsed = parse(markup) if tokens is None else tokens
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Rich's Markdown yields segments only, its elements rendered on the way.
        return unpadded(cast("Iterable[Segment]", super().__rich_console__(console, options)))


def markdown(source: str) -> AnswerMarkdown:
    return AnswerMarkdown(source)
