"""Commands that can destroy what cannot be got back, and why, for ``chatcli cmd``.

A generated command is shown in red with the reason, and runs only after the word
``yes`` is typed in full (``--yes`` never skips that). The patterns are deliberately
wide: a false alarm costs three keystrokes, a miss can cost a disk.
"""

from __future__ import annotations

import re

_RM_TARGET = r"""(?:/|/\*|~/?|~/\*|\$HOME/?|\*|\.\*?|/[a-z]+/?)"""
RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.MULTILINE), reason) for pattern, reason in (
        (r"\brm\s+(?:-[a-z]*\s+)*-[a-z]*[rR][a-z]*\s+(?:-[a-z-]+\s+)*(?:--\s+)?[\"']?"
         + _RM_TARGET + r"[\"']?(?:\s|$|;|&|\|)",
         "removes a whole tree recursively (the root, the home directory or everything here)"),
        (r"\brm\s+(?:-[a-z]*\s+)*--no-preserve-root", "removes from the root of the disk"),
        (r"\bdd\b[^\n]*\bof=/dev/(?!null\b|zero\b|stdout\b|stderr\b)",
         "dd writes straight onto a device"),
        (r"\bmkfs(?:\.\w+)?\b", "makes a new file system, erasing the device"),
        (r"\b(?:wipefs|shred|fdisk|sfdisk|parted|sgdisk)\b\s+[^\n]*?/dev/",
         "rewrites or erases a disk"),
        (r">\s*/dev/(?:sd|nvme|hd|vd|xvd|mmcblk|disk)\w*", "writes over a disk device"),
        (r"\bchmod\s+(?:-[a-z]*\s+)*-[a-z]*R[a-z]*\s+0?777\s+/(?:\s|$)",
         "makes every file on the system writable by everyone"),
        (r"\bchown\s+(?:-[a-z]*\s+)*-[a-z]*R[a-z]*\s+\S+\s+/(?:\s|$)",
         "changes the owner of every file on the system"),
        (r":\s*\(\s*\)\s*\{[^}]*:\s*\|\s*:[^}]*\}\s*;?\s*:", "a fork bomb"),
        (r"\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da|k|fi)?sh\b",
         "runs a script straight from the network"),
        (r"\bgit\s+push\b[^\n]*(?:--force\b|-f\b|--force-with-lease\b)[^\n]*"
         r"\b(?:main|master|trunk|develop)\b",
         "force-pushes over a default branch"),
        (r"\bgit\s+push\b[^\n]*\+(?:main|master|trunk|develop)\b",
         "force-pushes over a default branch"),
        (r"\bdrop\s+(?:table|database|schema)\b", "drops a database table or database"),
        (r"\btruncate\s+table\b", "empties a database table"),
        (r"\bgit\s+(?:reset\s+--hard|clean\s+-[a-z]*f)", "throws away uncommitted work"),
        (r"\bfind\b[^\n]*\s-delete\b", "deletes every file find matches"),
        (r"\b(?:shutdown|reboot|halt|poweroff)\b", "stops or restarts the machine"),
        (r">\s*/etc/(?:passwd|shadow|sudoers|fstab)\b", "overwrites a system file"),
    ))


def danger(command: str) -> str | None:
    """Why ``command`` is dangerous, or None when no rule matches."""
    for pattern, reason in RULES:
        if pattern.search(command):
            return reason
    return None
