"""The text files under a directory, for ``-f DIR``: what ``git`` would show, readable.

Walks in sorted order, honouring ``.gitignore`` files (the enclosing repository's, those
between its root and the directory, and nested ones), skipping hidden names, files
that are not regular, binary (a NUL in the first 8 KB, or not UTF-8) or over the
per-file cap; skipped files are counted. Uses pathspec's ``GitIgnoreSpec``, imported
only here. Nothing here prints or decides what the total may be.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

PER_FILE_CAP = 256 * 1024


@dataclass
class Tree:
    """The text files found (label as the user would write it, text), and how many of the
    files seen were left out."""

    files: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class _Rules:
    """One ``.gitignore``: the directory it is in, and its patterns."""

    base: Path
    spec: GitIgnoreSpec


def text_tree(given: str, per_file: int = PER_FILE_CAP) -> Tree:
    """Every text file under the directory ``given`` (as typed), labelled ``given/rel``."""
    root = Path(given)
    tree = Tree()
    rules = _enclosing_rules(root.resolve())
    _walk(root, PurePath(given), rules, tree, per_file)
    return tree


def _walk(directory: Path, label: PurePath, rules: list[_Rules], tree: Tree,
          per_file: int) -> None:
    own = _rules_in(directory)
    rules = [*rules, own] if own is not None else rules
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        tree.skipped += 1
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(path, is_dir, rules):
            continue
        if is_dir:
            _walk(path, label / entry.name, rules, tree, per_file)
            continue
        text = _text_of(path, per_file)
        if text is None:
            tree.skipped += 1
        else:
            tree.files.append((str(label / entry.name), text))


def _text_of(path: Path, per_file: int) -> str | None:
    """The file's text, or None when it is not a regular text file within the cap."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > per_file:
            return None
        with path.open("rb") as handle:
            data = handle.read(per_file + 1)
    except OSError:
        return None
    if len(data) > per_file or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _ignored(path: Path, is_dir: bool, rules: list[_Rules]) -> bool:
    """Git's verdict: the deepest ``.gitignore`` that has a say decides (``!`` included)."""
    verdict = False
    absolute = path.resolve() if rules else path
    for rule in rules:
        try:
            relative = absolute.relative_to(rule.base).as_posix()
        except ValueError:
            continue
        result = rule.spec.check_file(relative + ("/" if is_dir else ""))
        if result.include is not None:
            verdict = result.include
    return verdict


def _rules_in(directory: Path) -> _Rules | None:
    ignore = directory / ".gitignore"
    try:
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    from pathspec import GitIgnoreSpec

    return _Rules(directory.resolve(), GitIgnoreSpec.from_lines(lines))


def _enclosing_rules(directory: Path) -> list[_Rules]:
    """The ``.gitignore`` files above ``directory`` up to its repository's root, outermost
    first; none when it is in no repository (its own is read by the walk)."""
    found: list[_Rules] = []
    for parent in directory.parents:
        rules = _rules_in(parent)
        if rules is not None:
            found.append(rules)
        if (parent / ".git").exists():
            return found[::-1]
    return []
