"""A command tool for tests; the first argument picks what it does with the JSON on stdin.

    echo   answer {"stdin": <stdin text>, "argv": <the remaining argv>}
    fail   write seven lines to stderr and exit with status 3
    hang   never answer (killed on timeout)
"""

from __future__ import annotations

import json
import sys
import threading


def main() -> int:
    mode = sys.argv[1]
    received = sys.stdin.read()
    if mode == "echo":
        sys.stdout.write(json.dumps({"stdin": received, "argv": sys.argv[2:]}))
        return 0
    if mode == "fail":
        sys.stderr.write("".join(f"problem {n}\n" for n in range(1, 8)))
        return 3
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
