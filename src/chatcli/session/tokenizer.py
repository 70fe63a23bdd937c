"""Token counts from a model family's own vocabulary, for ``tokenizer = "tiktoken"``.

By default a request is sized by the estimate of ``token_estimate`` (no vocabulary,
no download). With ``tokenizer = "tiktoken"`` in the config and tiktoken installed
(``pip install 'chatcli[tokens]'``), OpenAI's families are counted exactly:
o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series, cl100k_base for
gpt-4 and gpt-3.5, o200k_harmony for gpt-oss. tiktoken fetches a vocabulary from
OpenAI the first time it is used and keeps it in its cache (``TIKTOKEN_CACHE_DIR``),
which is why it is asked for, never assumed. Other models, and a tiktoken that is
missing or cannot load its vocabulary, fall back to the estimate with one note. Only
a request near the model's window is counted, so this costs nothing otherwise.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

Counter = Callable[[str], int]

# Longest prefix first: "gpt-4o" and "gpt-4.1" before "gpt-4".
FAMILIES = (("gpt-4o", "o200k_base"), ("chatgpt-4o", "o200k_base"), ("gpt-4.1", "o200k_base"),
            ("gpt-4.5", "o200k_base"), ("gpt-5", "o200k_base"), ("gpt-oss", "o200k_harmony"),
            ("o1", "o200k_base"), ("o3", "o200k_base"), ("o4", "o200k_base"),
            ("gpt-4", "cl100k_base"), ("gpt-3.5", "cl100k_base"))
_loaded: dict[str, Counter | str] = {}  # an encoding's counter, or why it is not there


def encoding_name(model: str) -> str | None:
    """The vocabulary of ``model``'s family ("openai/gpt-4o" too), if it is OpenAI's."""
    name = model.rsplit("/", 1)[-1].lower()
    return next((encoding for prefix, encoding in FAMILIES if name.startswith(prefix)), None)


def text_counter(model: str) -> tuple[Counter | None, str | None]:
    """How to count ``model``'s tokens, or None and why not (None: it is not OpenAI's)."""
    encoding = encoding_name(model)
    if encoding is None:
        return None, None
    if encoding not in _loaded:
        _loaded[encoding] = _load(encoding)
    found = _loaded[encoding]
    return (None, found) if isinstance(found, str) else (found, None)


def _load(encoding: str) -> Counter | str:
    try:
        tiktoken = importlib.import_module("tiktoken")  # optional: chatcli[tokens]
    except ImportError:
        return ('tokenizer = "tiktoken": tiktoken is not installed (pip install'
                " 'chatcli[tokens]'); tokens are estimated")
    try:
        vocabulary = tiktoken.get_encoding(encoding)
    except Exception as exc:  # no network for the first fetch, a damaged cache, …
        return (f'tokenizer = "tiktoken": the {encoding} vocabulary could not be loaded'
                f" ({type(exc).__name__}); tokens are estimated")

    def count(text: str) -> int:
        return len(vocabulary.encode(text, disallowed_special=()))
    return count
