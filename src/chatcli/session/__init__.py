"""The session layer: the one place where options become a conversation.

The options model (``ask.AskRequest``), the streams (``environment``), input
gathering and the secret check (``inputs``, ``outgoing``), the endpoint
(``connect``), resume and record (``conversation``), tools (``tooling``) and
the renderer choice (``output``). ``ask``, ``chat`` and every later front end
call it; none re-implements any of it.
"""
