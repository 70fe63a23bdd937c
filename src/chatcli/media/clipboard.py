"""The image on the system clipboard, as an ``image_url`` content part.

Asks whichever clipboard tool exists (``wl-paste``, ``xclip``, ``pngpaste``),
without a shell and with a timeout. Both the lookup and the runner are
parameters, so tests hand in fakes; nothing here prints or reads the
environment (``shutil.which`` alone consults ``PATH``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence

from chatcli.errors import UsageError
from chatcli.media.attachments import image_bytes_part
from chatcli.protocol.messages import ContentPart

TIMEOUT = 5.0  # seconds; a clipboard tool that hangs (no display) must not hang us
TOOLS = ("wl-paste", "xclip", "pngpaste")

Runner = Callable[[Sequence[str], float], tuple[int, bytes]]
Finder = Callable[[str], str | None]


def run_command(argv: Sequence[str], timeout: float) -> tuple[int, bytes]:
    """Run ``argv`` without a shell; (exit status, stdout). Failing to run is a usage error."""
    import subprocess

    try:
        done = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"{argv[0]} gave no answer within {timeout:g}s") from None
    except OSError as exc:
        raise UsageError(f"{argv[0]}: cannot run: {exc.strerror}") from None
    return done.returncode, done.stdout


def clipboard_image(max_bytes: int, *, which: Finder = shutil.which,
                    run: Runner = run_command) -> ContentPart:
    """The clipboard's image; a usage error when no tool exists or it holds no image."""
    found = [(tool, path) for tool in TOOLS if (path := which(tool)) is not None]
    if not found:
        raise UsageError("no clipboard tool found: install wl-clipboard (wl-paste),"
                         " xclip or pngpaste")
    for tool, path in found:
        data = _read_image(tool, path, run)
        if data is None:
            continue
        if len(data) > max_bytes:
            raise UsageError(
                f"clipboard: {len(data) / 1_048_576:.1f} MB is over the"
                f" {max_bytes / 1_048_576:g} MB limit (--max-attachment-mb)")
        return image_bytes_part(data, "clipboard")
    raise UsageError("the clipboard holds no image")


def _read_image(tool: str, path: str, run: Runner) -> bytes | None:
    """The image bytes one tool gives, or None when it has none (or no display)."""
    if tool == "pngpaste":
        status, data = run([path, "-"], TIMEOUT)
        return data if status == 0 and data else None
    listing = ([path, "--list-types"] if tool == "wl-paste"
               else [path, "-selection", "clipboard", "-t", "TARGETS", "-o"])
    status, types = run(listing, TIMEOUT)
    if status != 0:
        return None
    mime = _pick_type(types.decode("utf-8", "replace").split())
    if mime is None:
        return None
    fetch = ([path, "--type", mime] if tool == "wl-paste"
             else [path, "-selection", "clipboard", "-t", mime, "-o"])
    status, data = run(fetch, TIMEOUT)
    return data if status == 0 and data else None


def _pick_type(types: list[str]) -> str | None:
    """PNG when offered (every tool can give it), else the first image type we can send."""
    for wanted in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        if wanted in types:
            return wanted
    return None
