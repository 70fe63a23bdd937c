"""Entry point: ``chatcli`` and ``python -m chatcli``.

``--version`` is answered before the CLI framework is imported, so the
cheapest question costs only the interpreter's start-up.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from chatcli import __version__

        sys.stdout.write(f"chatcli {__version__}\n")
        return
    from chatcli.cli import run

    run()


if __name__ == "__main__":
    main()
