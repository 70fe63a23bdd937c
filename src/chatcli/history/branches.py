"""A conversation as a tree of messages: its branches, and the path one of them replays.

Each stored message names its parent (``parent_id``): 0 for a message that starts the
conversation, NULL for a row written by something that knows nothing of branches (its
parent is then the row before it), else the row it follows. An edited message is a
second child of the same parent, and starts a branch. Branch 1 is the first line
ever written; each later fork is numbered after it, in the order it was made, so a
number never changes as the branches grow. Plain values and pure functions: nothing
here touches the database or prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chatcli.history.records import Entry, StoredMessage


@dataclass(frozen=True)
class Branch:
    """One line through the tree: from the start to a message with no child."""

    number: int  # from 1, in the order the branches were made
    start: int  # the row of its first message of its own (where it forks)
    rows: tuple[int, ...]  # its whole path, from the first message of the conversation


@dataclass(frozen=True)
class Tree:
    """A conversation's rows: each one's parent (None: it starts the conversation), the
    entries by row, and the current branch's last row (``head``, None when empty)."""

    parents: dict[int, int | None]
    entries: dict[int, Entry] = field(default_factory=dict)
    head: int | None = None

    def children(self) -> dict[int | None, list[int]]:
        """Each row's children in the order they were written (None: the first rows)."""
        found: dict[int | None, list[int]] = {}
        for row in sorted(self.parents):
            found.setdefault(self.parents[row], []).append(row)
        return found

    def path(self, last: int | None = None) -> list[int]:
        """The rows from the start to ``last`` (default: the head), in order."""
        row = self.head if last is None else last
        rows: list[int] = []
        seen: set[int] = set()
        while row is not None and row not in seen:  # a loop in stored data ends the walk
            seen.add(row)
            rows.append(row)
            row = self.parents.get(row)
        return rows[::-1]

    def branches(self) -> list[Branch]:
        """Every branch, numbered in the order they were made."""
        children = self.children()
        starts = sorted(row for kids in children.values() for row in kids[1:])
        starts = [*children.get(None, [])[:1], *starts]
        found = []
        for number, start in enumerate(starts, start=1):
            leaf, seen = start, {start}
            while children.get(leaf) and children[leaf][0] not in seen:
                leaf = children[leaf][0]  # the first child goes on with the branch
                seen.add(leaf)
            found.append(Branch(number, start, tuple(self.path(leaf))))
        return found

    def current(self) -> Branch | None:
        """The branch whose last message is the head (None: the head is mid-branch)."""
        return next((b for b in self.branches() if b.rows and b.rows[-1] == self.head), None)


def tree_of(rows: Sequence[tuple[int, int | None]], entries: Mapping[int, Entry],
            head: int | None) -> Tree:
    """The tree of stored ``(row, parent_id)`` pairs, in row order, as the columns hold them
    (0: a root; NULL: the row before; a parent not in the conversation: the row before)."""
    known = {row for row, _ in rows}
    parents: dict[int, int | None] = {}
    previous: int | None = None
    for row, parent in rows:
        if parent == 0:
            parents[row] = None
        elif parent is None or parent not in known or parent == row:
            parents[row] = previous
        else:
            parents[row] = parent
        previous = row
    if head == 0:
        head = None
    elif head is None or head not in known:  # never set (or lost): the latest row
        head = previous
    return Tree(parents, dict(entries), head)


def last_exchange(tree: Tree) -> tuple[list[int], int | None] | None:
    """What undoing the current branch's last exchange removes (from its last user message
    on, but what another branch goes on from) and the head after it; None: no exchange."""
    path = tree.path()
    users = [i for i, row in enumerate(path) if _role(tree.entries.get(row)) == "user"]
    if not users:
        return None
    children = tree.children()
    gone: list[int] = []
    for row in reversed(path[users[-1]:]):
        if any(child not in gone for child in children.get(row, [])):
            break  # another branch goes on from here
        gone.append(row)
    return gone, tree.parents[path[users[-1]]]


def _role(entry: Entry | None) -> str | None:
    return None if entry is None or entry.message is None else str(entry.message.get("role"))


def replayed(tree: Tree, rows: Sequence[int]) -> list[int]:
    """The rows of ``rows`` that are sent again: messages, not damaged, not unanswered."""
    return [row for row in rows if isinstance(entry := tree.entries.get(row), StoredMessage)
            and not entry.unanswered]


def user_rows(tree: Tree, rows: Sequence[int]) -> list[int]:
    """The user messages of ``rows`` that are sent again: ``/edit N`` counts these from 1."""
    found = []
    for row in replayed(tree, rows):
        entry = tree.entries[row]
        if isinstance(entry, StoredMessage) and entry.message.get("role") == "user":
            found.append(row)
    return found
