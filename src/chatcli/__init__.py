"""chatcli: a terminal chat client for any OpenAI-compatible endpoint."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (click, rich, pygments) whenever click is
# installed, as some optional extras do; chatcli never uses it, and it would
# double the start-up. A None entry makes that one import fail, and httpx then
# goes without it, exactly as when click is missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
