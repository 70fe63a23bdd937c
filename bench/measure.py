"""Spawn one child, drain its output, and measure it.

`measure` starts a command with ``os.posix_spawn`` with stdout either on a
pipe or on a pseudo-terminal (120x40, the child in its own session with the
tty as its controlling terminal and as stdin/stdout/stderr), drains the
output as fast as it comes, counts the bytes, notes when the first byte and
the first occurrence of a marker arrive, and reaps the child with
``os.wait4`` for its own CPU time and peak RSS.  A child still running at
the deadline is killed and reported as timed out.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import resource
import selectors
import signal
import struct
import tempfile
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

READ_SIZE = 64 * 1024
KEEP = 4096
CURSOR_QUERY = b"\x1b[6n"
CURSOR_REPLY = b"\x1b[1;1R"
ANSI_RE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


@dataclass
class Result:
    """What one run of one command cost."""

    wall: float
    cpu: float
    rss_mb: float
    bytes_out: int
    exit_code: int
    timed_out: bool = False
    first_byte: float | None = None
    first_marker: float | None = None
    head: bytes = b""
    tail: bytes = b""
    stderr_tail: bytes = b""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def last_error_line(self) -> str:
        """Last non-blank line of stderr (or of the terminal output), ANSI stripped."""
        text = ANSI_RE.sub(b"", self.stderr_tail or self.tail).replace(b"\r", b"")
        lines = [ln.strip() for ln in text.decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def _set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _reap(pid: int, deadline: float) -> tuple[int, resource.struct_rusage, bool]:
    """Wait for ``pid`` until ``deadline``; kill it if it is still there."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    timed_out = False
    try:
        if pidfd >= 0:
            with selectors.DefaultSelector() as sel:
                sel.register(pidfd, selectors.EVENT_READ)
                if not sel.select(max(0.0, deadline - time.perf_counter())):
                    timed_out = True
        else:
            while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                if time.perf_counter() >= deadline:
                    timed_out = True
                    break
                time.sleep(0.001)
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage, timed_out


def _spawn_actions(
    tty: bool, err_fd: int, cols: int, rows: int
) -> tuple[int, int, list[tuple[object, ...]]]:
    """Return (parent read end, child end, posix_spawn file actions)."""
    if tty:
        master, slave = os.openpty()
        _set_winsize(slave, cols, rows)
        name = os.ttyname(slave)
        return (
            master,
            slave,
            [
                (os.POSIX_SPAWN_OPEN, 0, name, os.O_RDWR, 0),
                (os.POSIX_SPAWN_DUP2, 0, 1),
                (os.POSIX_SPAWN_DUP2, 0, 2),
            ],
        )
    read_end, write_end = os.pipe()
    return (
        read_end,
        write_end,
        [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, write_end, 1),
            (os.POSIX_SPAWN_DUP2, err_fd, 2),
        ],
    )


def measure(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    tty: bool = False,
    timeout: float = 600.0,
    marker: bytes | None = None,
    cols: int = 120,
    rows: int = 40,
) -> Result:
    """Run ``argv`` once and return its `Result`; ``argv[0]`` must be a path.

    On a pipe, stdin is /dev/null and stderr goes to a scratch file; on a
    pty, all three are the terminal.
    """
    with tempfile.TemporaryFile() as err_file:
        read_fd, child_end, actions = _spawn_actions(tty, err_file.fileno(), cols, rows)
        start = time.perf_counter()
        deadline = start + timeout
        try:
            pid = os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=tty)
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(child_end)
        nbytes = 0
        head = bytearray()
        tail = bytearray()
        first_byte: float | None = None
        first_marker: float | None = None
        carry = b""
        killed = False
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(read_fd, selectors.EVENT_READ)
                while True:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                        killed = True
                        break
                    if not sel.select(remaining):
                        continue
                    try:
                        data = os.read(read_fd, READ_SIZE)
                    except OSError as exc:
                        if exc.errno == errno.EIO:  # pty: every slave end is closed
                            break
                        raise
                    if not data:
                        break
                    now = time.perf_counter()
                    if first_byte is None:
                        first_byte = now - start
                    if marker is not None and first_marker is None:
                        if marker in carry + data:
                            first_marker = now - start
                        carry = data[-(len(marker) - 1) :] if len(marker) > 1 else b""
                    if tty and CURSOR_QUERY in data:
                        os.write(read_fd, CURSOR_REPLY)
                    nbytes += len(data)
                    if len(head) < KEEP:
                        head += data[: KEEP - len(head)]
                    tail += data
                    del tail[:-KEEP]
        except BaseException:  # e.g. KeyboardInterrupt: leave no child behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        finally:
            os.close(read_fd)
        exit_code, usage, timed_out = _reap(pid, deadline)
        wall = time.perf_counter() - start
        stderr_tail = b""
        if not tty:
            size = err_file.seek(0, os.SEEK_END)
            err_file.seek(max(0, size - KEEP))
            stderr_tail = err_file.read()
    return Result(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,
        bytes_out=nbytes,
        exit_code=exit_code,
        timed_out=killed or timed_out,
        first_byte=first_byte,
        first_marker=first_marker,
        head=bytes(head),
        tail=bytes(tail),
        stderr_tail=stderr_tail,
    )
