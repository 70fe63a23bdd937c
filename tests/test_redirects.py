"""Redirects: a POST follows only 307/308 to the same origin; credentials never leave it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clirun import run_cli
from fakeapi import JSON, SSE, FakeAPI, Raw, models, text_stream

KEY = "sk-redirect-test-000111222"


@pytest.fixture
def elsewhere() -> Iterator[FakeAPI]:
    """A second server: another port is another origin."""
    with FakeAPI() as api:
        yield api
    assert not api.problems()


def test_a_post_follows_307_to_the_same_origin(fakeapi: FakeAPI) -> None:
    moved = fakeapi.base_url.replace("/v1", "/v2") + "/chat/completions"
    fakeapi.add(Raw(307, b"", "", headers={"Location": moved}))
    fakeapi.add(SSE(text_stream(["moved answer"])), path="/v2/chat/completions")
    result = run_cli(["--base-url", fakeapi.base_url, "--api-key", KEY, "-H", "X-Team: a", "hi"])
    assert (result.exit_code, result.stdout) == (0, "moved answer\n")
    first, second = fakeapi.requests
    assert second.path == "/v2/chat/completions"
    assert second.body == first.body
    assert second.header("Authorization") == f"Bearer {KEY}"
    assert second.header("X-Team") == "a"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_post_does_not_follow_other_redirects(fakeapi: FakeAPI, status: int) -> None:
    fakeapi.add(Raw(status, b"", "", headers={"Location": "/v2/chat/completions"}))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert result.exit_code == 4
    assert "not followed" in result.stderr
    assert len(fakeapi.requests) == 1


def test_a_post_never_follows_to_another_origin(fakeapi: FakeAPI, elsewhere: FakeAPI) -> None:
    fakeapi.add(Raw(308, b"", "", headers={
        "Location": elsewhere.base_url + "/chat/completions"}))
    result = run_cli(["--base-url", fakeapi.base_url, "--api-key", KEY, "hi"])
    assert result.exit_code == 4
    assert elsewhere.requests == []


def test_a_get_to_another_origin_goes_without_credentials(fakeapi: FakeAPI,
                                                          elsewhere: FakeAPI) -> None:
    fakeapi.add(Raw(302, b"", "", headers={"Location": elsewhere.base_url + "/models"}),
                path="/v1/models")
    elsewhere.add(JSON(models(["far-model"])), path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url, "--api-key", KEY,
                      "-H", "X-Secret-Team: s"])
    assert (result.exit_code, result.stdout) == (0, "far-model\n")
    [far] = elsewhere.requests
    assert far.header("Authorization") is None
    assert far.header("X-Secret-Team") is None
    assert fakeapi.requests[0].header("Authorization") == f"Bearer {KEY}"


def test_a_get_within_the_origin_keeps_them(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(301, b"", "", headers={"Location": "/v1/models2"}), path="/v1/models")
    fakeapi.add(JSON(models(["near"])), path="/v1/models2")
    result = run_cli(["models", "--base-url", fakeapi.base_url, "--api-key", KEY])
    assert (result.exit_code, result.stdout) == (0, "near\n")
    assert fakeapi.requests[-1].header("Authorization") == f"Bearer {KEY}"


def test_a_redirect_loop_stops(fakeapi: FakeAPI) -> None:
    for _ in range(6):
        fakeapi.add(Raw(302, b"", "", headers={"Location": "/v1/models"}), path="/v1/models")
    result = run_cli(["models", "--base-url", fakeapi.base_url])
    assert result.exit_code == 4
    assert len(fakeapi.requests) == 6


def test_dns_failure_is_a_network_error() -> None:
    result = run_cli(["--base-url", "http://chatcli-test.invalid/v1", "--retries", "0",
                      "--trace-id", "t", "hi"])
    assert result.exit_code == 7
    assert result.stderr.startswith("chatcli: error: cannot resolve the host")
    assert result.stderr.endswith("(trace id t)\n")
