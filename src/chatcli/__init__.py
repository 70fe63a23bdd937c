"""chatcli: a terminal chat client for any OpenAI-compatible endpoint.

Words, as the code uses them:

    turn          one request and its streamed answer (``engine.turn.run_turn``)
    round         one pass of the tool loop: the model asks for calls, they run, their
                  results go back in the next turn
    exchange      all that one user message costs: one turn, or every round of the loop
    conversation  the messages sent and received so far, as the history keeps them
    session       one run of a front end: settings, endpoint, conversation, tools (the
                  REPL's ``repl.session.ChatSession`` lasts many exchanges)

Packages and modules, lowest layer first; each imports only from its own layer or
below (``tests/test_architecture.py`` holds it, lazy imports included):

    errors sanitize paths output_guard dotted   foundation: failures, safe text, files
    config     settings, their types and keys; the only reader of the environment
    protocol   SSE, chunks into events, the accumulator, message types, TurnResult
    secrets    credentials found in what is about to be sent
    endpoint   the HTTP client, the request body, rejected fields, the model catalog
    history    the SQLite store, the recorder, exports
    media      attachments, the clipboard, spoken output
    tools      tool definitions, approval, runners, MCP
    engine     one turn, the tool loop, the doctor's probes
    render     plain, JSON, events and terminal renderers
    session    options, inputs, the secret check, the endpoint, conversations, tools, output
    cli repl   the front ends: the command line (Typer) and the REPL (prompt-toolkit)
"""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (click, rich, pygments) whenever click is
# installed, as some optional extras do; chatcli never uses it, and it would
# double the start-up. A None entry makes that one import fail, and httpx then
# goes without it, exactly as when click is missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
