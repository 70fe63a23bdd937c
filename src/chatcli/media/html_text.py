"""A web page's HTML as readable Markdown: the article, not the page around it.

Scripts, styles, navigation, headers, footers, asides, forms, ``noscript`` and
iframes are dropped before the conversion; headings, links, lists, code and tables
stay as Markdown. Uses beautifulsoup4 with the stdlib parser and markdownify,
imported only when an HTML page was fetched. Nothing here reads the network.
"""

from __future__ import annotations

import re

DROPPED = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript",
           "iframe", "template", "svg")


def html_to_markdown(html: str) -> str:
    """The page's readable text as Markdown, runs of blank lines squeezed to one."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(DROPPED):
        element.decompose()
    root = soup.body or soup
    text = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(root)
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
