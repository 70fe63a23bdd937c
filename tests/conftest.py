"""Shared fixtures: a scripted fake API server and an isolated environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeapi import STREAMS_DIR, FakeAPI

_ENV_PREFIXES = ("CHATCLI_", "OPENAI_")
_PROXY_VARS = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
_COLOUR_VARS = {
    "FORCE_COLOR",
    "NO_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "COLUMNS",
    "LINES",
    "CLICOLOR",
    "CLICOLOR_FORCE",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings, proxies or colour hints leak in from the developer's shell."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name.upper() in _PROXY_VARS or name in _COLOUR_VARS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATCLI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CHATCLI_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def fakeapi() -> Iterator[FakeAPI]:
    """A running FakeAPI; the test fails if a reply went unused or a request unscripted."""
    with FakeAPI() as api:
        yield api
    problems = api.problems()
    if problems:
        pytest.fail("fake API:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def streams_dir() -> Path:
    """``tests/streams``: the SSE byte fixtures and their expected results."""
    return STREAMS_DIR
