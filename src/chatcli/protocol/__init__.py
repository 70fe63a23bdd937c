"""The wire protocol, with no I/O: SSE framing, chunks into events, the accumulator, message
types and the request body, error bodies, thinking dialects, and ``TurnResult``.

Nothing here sends, reads files or prints; it only turns bytes and JSON into values.
"""
