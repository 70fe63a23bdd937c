"""Files and directories chatcli creates: private whatever the umask, written atomically.

Every directory chatcli makes is 0700 and every file 0600, set explicitly
rather than left to the umask (under ``umask 000`` a plain ``mkdir`` gives
0777, and another local user could plant a conversation for ``-c`` to
replay). A file is rewritten through a private temporary file beside it and
``os.replace``, so a reader sees the old file or the new one, never half. The
directories themselves come from ``config`` (the only reader of the environment).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700 directories; return it.

    Directories that already exist keep their mode (they may be the user's own,
    such as ``~/.local/share``); the caller warns about loose ones.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.mkdir(directory, DIR_MODE)
            os.chmod(directory, DIR_MODE)  # mkdir's mode is cut by the umask: set it whole
    return path


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist (its directory private too)."""
    private_dir(path.parent)
    if path.exists():
        return
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` through a 0600 temporary file and a rename."""
    import tempfile  # only when something is written: start-up counts

    private_dir(path.parent)
    descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(descriptor, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def others_can_write(path: Path) -> bool:
    """Whether a user other than the owner may write to ``path`` (a missing path: no)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWGRP | stat.S_IWOTH))


def loose_directory_warning(path: Path, what: str) -> str | None:
    """A warning when ``path`` (the data or config directory) is writable by others."""
    if not others_can_write(path):
        return None
    return (f"the {what} {path} can be written by other users, who could change what"
            f" chatcli reads there; run `chmod 700 {path}`")
