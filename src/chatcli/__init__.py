"""chatcli: a terminal chat client for any OpenAI-compatible endpoint."""

__version__ = "0.1.0"
