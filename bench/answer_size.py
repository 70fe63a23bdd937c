"""Sizes of one benchmark answer, computed in a process of its own.

Run by ``run.py`` as a child so that the harness never holds a large answer:
a child started from a large process would report the parent's memory as its
own peak RSS. Prints JSON: the answer's bytes and, with ``--rendered``, the
bytes of a one-go Rich render of it at 120 columns (what the terminal would
receive if nothing were ever repainted); none for a tool call's arguments.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from shapes import SHAPES, TOOL_SHAPES


def rendered_bytes(text: str, width: int = 120) -> int:
    from rich.console import Console

    from chatcli.render.answer_markdown import markdown

    out = io.StringIO()
    console = Console(file=out, width=width, height=40, force_terminal=True,
                      color_system="256", legacy_windows=False)
    console.print(markdown(text), crop=False)
    return len(out.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("size", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("--rendered", action="store_true")
    args = parser.parse_args()
    text = "".join(SHAPES[args.shape](args.size, args.seed))
    rendered = args.rendered and args.shape not in TOOL_SHAPES  # a panel, not Markdown
    sizes = {"answer": len(text.encode()), "rendered": rendered_bytes(text) if rendered else None}
    sys.stdout.write(json.dumps(sizes) + "\n")


if __name__ == "__main__":
    main()
