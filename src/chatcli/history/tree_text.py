"""A conversation's branches drawn as plain text, for ``history show --tree``.

One line per message (its role, the number ``/edit`` gives a user message, the
start of its text); where a message has more than one child the branches part with
``├─`` and ``└─``, and each branch's last message says which branch it ends.
Text only: the command writes it through the guarded streams.
"""

from __future__ import annotations

from chatcli.history.branches import Tree
from chatcli.history.export import plain_text
from chatcli.history.records import DamagedMessage, Entry

LINE_CHARS = 72  # of a message's text on its line


def draw_tree(tree: Tree) -> list[str]:
    """The lines of the tree, from the first messages down."""
    children = tree.children()
    current = tree.current()
    labels = {b.rows[-1]: f"  [branch {b.number}"
              f"{', current' if current is not None and b.number == current.number else ''}]"
              for b in tree.branches() if b.rows}
    if current is None and tree.head is not None:
        labels[tree.head] = labels.get(tree.head, "") + "  [current: goes on from here]"
    lines: list[str] = []
    roots = children.get(None, [])
    if len(roots) == 1:
        _chain(tree, children, labels, roots[0], 0, ("", ""), lines)
    else:
        _fork(tree, children, labels, roots, 0, "", lines)
    return lines


def _chain(tree: Tree, children: dict[int | None, list[int]], labels: dict[int, str],
           row: int, count: int, prefix: tuple[str, str], lines: list[str]) -> None:
    """Draw from ``row`` down the line of single children, then the fork it ends in."""
    lead, rest = prefix
    seen: set[int] = set()
    while row not in seen:
        seen.add(row)
        entry = tree.entries[row]
        if _numbered(entry):
            count += 1
        lines.append(lead + _line(entry, count) + labels.get(row, ""))
        lead = rest
        kids = children.get(row, [])
        if len(kids) != 1:
            _fork(tree, children, labels, kids, count, rest, lines)
            return
        row = kids[0]


def _fork(tree: Tree, children: dict[int | None, list[int]], labels: dict[int, str],
          kids: list[int], count: int, rest: str, lines: list[str]) -> None:
    for i, kid in enumerate(kids):
        last = i == len(kids) - 1
        _chain(tree, children, labels, kid, count,
               (rest + ("└─ " if last else "├─ "), rest + ("   " if last else "│  ")), lines)


def _numbered(entry: Entry) -> bool:
    """A user message that is sent again: the ones ``/edit`` counts."""
    return (not isinstance(entry, DamagedMessage) and entry.message.get("role") == "user"
            and not entry.unanswered)


def _line(entry: Entry, count: int) -> str:
    if isinstance(entry, DamagedMessage):
        return f"(damaged message: {entry.reason})"
    role = str(entry.message.get("role", "?"))
    label = f"{role} #{count}" if _numbered(entry) else role
    if entry.status != "complete":
        label += f" ({entry.status})"
    text = " ".join(plain_text(entry.message).split())
    cut = text if len(text) <= LINE_CHARS else text[:LINE_CHARS - 1] + "…"
    return f"{label}: {cut}"
