"""Model descriptions: the catalog and its fallback, input modalities, the refusal
before sending, and the day-long cache."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from chatcli.cli.models_command import show_model
from chatcli.config import Settings
from chatcli.endpoint.catalog import (
    CACHE_TTL,
    ModelCache,
    cached_lookup,
    check_parts,
    fetch_model_info,
    flatten,
    input_modalities,
    part_kinds,
    refuse_unsupported_media,
)
from chatcli.endpoint.client import ChatClient
from chatcli.errors import RequestRejected, UsageError
from chatcli.protocol.messages import Message
from chatcli.session.environment import Environment
from clirun import unpublished
from fakeapi import JSON, FakeAPI

CATALOG = "/v1/model-catalog/gpt-x"
MODEL = "/v1/models/gpt-x"
ENTRY = {"id": "gpt-x", "context_length": 128000,
         "modalities": {"input": ["text", "image"], "output": ["text"]},
         "pricing": {"input": 0.5, "output": 1.5}, "tags": []}
IMAGE_MESSAGE: Message = {"role": "user", "content": [
    {"type": "text", "text": "what is this?"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}


def not_found() -> JSON:
    return JSON({"error": {"message": "not found"}}, status=404)


def make_env() -> Environment:
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                       stdin_is_terminal=False, stdout_is_terminal=False,
                       stderr_is_terminal=False)


def show(fakeapi: FakeAPI, *, as_json: bool = False) -> str:
    env = make_env()
    show_model("gpt-x", flags={"base_url": fakeapi.base_url, "api_key": "sk-test"},
               headers=[], trace_id=None, as_json=as_json, verbose=False, env=env)
    assert env.stderr.getvalue() == ""
    out = env.stdout.getvalue()
    assert isinstance(out, str)
    return out


def client_for(fakeapi: FakeAPI) -> ChatClient:
    return ChatClient(Settings(base_url=fakeapi.base_url, api_key="sk-test", retries=0))


def paths(fakeapi: FakeAPI) -> list[str]:
    return [f"{r.method} {r.path}" for r in fakeapi.requests]


# -- reading what a model publishes -------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ({"modalities": {"input": ["text", "Image"]}}, ("text", "image")),
    ({"input_modalities": ["text", "audio"]}, ("text", "audio")),
    ({"architecture": {"input_modalities": ["text", "image", "file"]}},
     ("text", "image", "file")),
    ({"architecture": {"modality": "text+image->text"}}, ("text", "image")),
    ({"id": "gpt-x"}, None),
    ({"modalities": {"input": "text"}}, None),
])
def test_input_modalities_are_read_wherever_they_are_published(
        raw: dict[str, Any], expected: tuple[str, ...] | None) -> None:
    assert input_modalities(raw) == expected


def test_flatten_joins_nested_keys_with_dots() -> None:
    assert flatten({"a": {"b": {"c": 1}}, "l": ["x", 2], "o": [{"k": 1}], "n": None}) == [
        ("a.b.c", "1"), ("l", "x, 2"), ("o", '[{"k": 1}]'), ("n", "null")]


def test_part_kinds_names_the_modalities_a_message_needs() -> None:
    messages: list[Message] = [{"role": "system", "content": "be brief"}, IMAGE_MESSAGE,
                               {"role": "user", "content": [{"type": "input_audio"}]}]
    assert part_kinds(messages) == {"text", "image", "audio"}


# -- models show ----------------------------------------------------------------------


def test_models_show_prints_the_catalog_entry_flattened(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(ENTRY), path=CATALOG)
    assert show(fakeapi) == (
        "id                 gpt-x\n"
        "context_length     128000\n"
        "modalities.input   text, image\n"
        "modalities.output  text\n"
        "pricing.input      0.5\n"
        "pricing.output     1.5\n"
        "tags               []\n"
        "\nknown to chatcli:\n"
        "  context_window      128000 tokens  (endpoint GET /model-catalog/gpt-x)\n"
        "  max_output          unknown\n"
        "  price_input         unknown\n"
        "  price_output        unknown\n"
        "  price_cached_input  unknown\n"
    )
    assert paths(fakeapi) == [f"GET {CATALOG}"]  # it said something: nothing else is asked


def test_models_show_falls_back_to_the_models_endpoint(fakeapi: FakeAPI) -> None:
    fakeapi.add(not_found(), path=CATALOG)
    fakeapi.add(JSON({"id": "gpt-x", "object": "model", "owned_by": "acme"}), path=MODEL)
    unpublished(fakeapi)
    assert show(fakeapi).startswith("id        gpt-x\nobject    model\nowned_by  acme\n\n"
                                    "known to chatcli: neither the window nor the prices")
    assert paths(fakeapi) == [f"GET {CATALOG}", f"GET {MODEL}", "GET /v1/models",
                              "GET /v1/model/info"]


@pytest.mark.parametrize("status", [400, 405, 422])
def test_any_other_4xx_on_the_catalog_also_falls_back(fakeapi: FakeAPI, status: int) -> None:
    fakeapi.add(JSON({"error": {"message": "no"}}, status=status), path=CATALOG)
    fakeapi.add(JSON({"id": "gpt-x"}), path=MODEL)
    with client_for(fakeapi) as client:
        info = fetch_model_info(client, "gpt-x")
    assert (info.source, info.raw) == ("models", {"id": "gpt-x"})


def test_a_rejected_key_is_reported_not_hidden_by_the_fallback(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "bad key"}}, status=401), path=CATALOG)
    with client_for(fakeapi) as client, pytest.raises(RequestRejected, match="bad key"):
        fetch_model_info(client, "gpt-x")
    assert paths(fakeapi) == [f"GET {CATALOG}"]


def test_models_show_json_prints_the_raw_object(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(ENTRY), path=CATALOG)
    assert json.loads(show(fakeapi, as_json=True)) == ENTRY


# -- refusing input the model does not take ------------------------------------------


def test_image_input_is_refused_before_any_chat_request(fakeapi: FakeAPI,
                                                        tmp_path: Path) -> None:
    fakeapi.add(JSON({"id": "gpt-x", "modalities": {"input": ["text"]}}), path=CATALOG)
    with client_for(fakeapi) as client, pytest.raises(UsageError) as caught:
        refuse_unsupported_media(client, [IMAGE_MESSAGE], "gpt-x", tmp_path / "models.json")
    assert caught.value.message == (
        "model gpt-x does not take image input (the endpoint lists: text)")
    assert paths(fakeapi) == [f"GET {CATALOG}"]


def test_published_image_input_is_allowed(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(JSON(ENTRY), path=CATALOG)
    with client_for(fakeapi) as client:
        refuse_unsupported_media(client, [IMAGE_MESSAGE], "gpt-x", tmp_path / "models.json")


def test_unpublished_modalities_are_allowed_and_remembered(fakeapi: FakeAPI,
                                                           tmp_path: Path) -> None:
    fakeapi.add(not_found(), path=CATALOG)
    fakeapi.add(not_found(), path=MODEL)
    with client_for(fakeapi) as client:
        for _ in range(2):
            refuse_unsupported_media(client, [IMAGE_MESSAGE], "gpt-x", tmp_path / "m.json")
    assert paths(fakeapi) == [f"GET {CATALOG}", f"GET {MODEL}"]


def test_a_failing_lookup_lets_the_request_go_and_is_not_remembered(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    for _ in range(2):
        fakeapi.add(JSON({"error": {"message": "down"}}, status=503), path=CATALOG)
    with client_for(fakeapi) as client:
        for _ in range(2):
            refuse_unsupported_media(client, [IMAGE_MESSAGE], "gpt-x", tmp_path / "m.json")
    assert paths(fakeapi) == [f"GET {CATALOG}"] * 2
    assert not (tmp_path / "m.json").exists()


def test_text_only_messages_cost_no_request(fakeapi: FakeAPI, tmp_path: Path) -> None:
    with client_for(fakeapi) as client:
        refuse_unsupported_media(client, [{"role": "user", "content": "hi"}], "gpt-x",
                                 tmp_path / "models.json")
    assert fakeapi.requests == []


def test_check_parts_names_every_missing_modality() -> None:
    def lookup(model: str) -> list[str]:
        return ["text"]

    with pytest.raises(UsageError, match=r"take audio or image input \(the endpoint lists: "):
        check_parts(lookup, "m", {"text", "image", "audio"})
    check_parts(lookup, "m", {"text"})
    check_parts(lambda model: None, "m", {"image"})


# -- the cache ---------------------------------------------------------------------


def test_the_cache_answers_for_a_day(fakeapi: FakeAPI, tmp_path: Path) -> None:
    now = [1_000_000.0]
    cache = ModelCache(tmp_path / "data" / "models.json", clock=lambda: now[0])
    fakeapi.add(JSON(ENTRY), path=CATALOG)
    with client_for(fakeapi) as client:
        lookup = cached_lookup(client, cache)
        assert lookup("gpt-x") == ("text", "image")
        now[0] += CACHE_TTL - 1
        assert lookup("gpt-x") == ("text", "image")
        assert len(fakeapi.requests) == 1
        now[0] += 1
        fakeapi.add(JSON({"id": "gpt-x", "modalities": {"input": ["text"]}}), path=CATALOG)
        assert lookup("gpt-x") == ("text",)
    assert len(fakeapi.requests) == 2
    mode = stat.S_IMODE((tmp_path / "data" / "models.json").stat().st_mode)
    assert mode == 0o600
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "models.json"]


def test_the_cache_keys_on_profile_base_url_and_model(tmp_path: Path) -> None:
    cache = ModelCache(tmp_path / "models.json", clock=lambda: 5.0)
    a = ModelCache.key(Settings(base_url="http://a/v1/", profile="work"), "m")
    b = ModelCache.key(Settings(base_url="http://a/v1"), "m")
    cache.put(a, {"id": "m"})
    assert cache.get(a) == {"at": 5.0, "raw": {"id": "m"}}
    assert cache.get(b) is None
    assert a == "work|http://a/v1|m"


def test_an_unreadable_cache_file_is_treated_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text("{not json")
    cache = ModelCache(path, clock=lambda: 1.0)
    assert cache.get("k") is None
    cache.put("k", None)
    assert json.loads(path.read_text()) == {"k": {"at": 1.0, "raw": None}}
