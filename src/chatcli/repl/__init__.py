"""The REPL (``chatcli chat``), on the session layer like every front end.

    session.py   ChatSession: the conversation, what is queued, the request it would go out in
    tools.py     the session's tools and approvals, and ``/tools``
    exchange.py  what a message line does: the secret check, one exchange or the tool loop
    commands.py  the slash commands, and ``handle`` for any line
    prompt.py    prompt-toolkit: keys, completion, toolbar, input history, the loop

Each imports only those above it in this list; only ``prompt`` knows about keys.
"""
