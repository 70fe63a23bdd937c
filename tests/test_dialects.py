"""Thinking switches: the exact body each dialect gets, and the style a model name implies."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chatcli.config import Settings
from chatcli.endpoint.client import ChatClient
from chatcli.protocol.dialects import THINKING_STYLES, apply_thinking, thinking_style_for
from fakeapi import JSON, MODELS_PATH, SSE, FakeAPI, models, text_stream


def body(model: str = "m", content: Any = "hi") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "system", "content": "be brief"},
                                         {"role": "user", "content": content}],
            "reasoning_effort": "low"}


@pytest.mark.parametrize(("on", "word"), [(True, True), (False, False)])
@pytest.mark.parametrize("style", ["enable_thinking", "llmgw_thinking"])
def test_boolean_field_styles(style: str, on: bool, word: bool) -> None:
    assert apply_thinking(body(), on, style) == {**body(), style: word}


def test_chat_template_kwargs_merges_with_an_existing_table() -> None:
    given = {**body(), "chat_template_kwargs": {"add_generation_prompt": True}}
    assert apply_thinking(given, False, "chat_template_kwargs") == {
        **body(), "chat_template_kwargs": {"add_generation_prompt": True,
                                           "enable_thinking": False}}
    assert given["chat_template_kwargs"] == {"add_generation_prompt": True}  # not changed


def test_chat_template_kwargs_alone() -> None:
    assert apply_thinking(body(), True, "chat_template_kwargs") == {
        **body(), "chat_template_kwargs": {"enable_thinking": True}}


@pytest.mark.parametrize(("on", "kind"), [(True, "enabled"), (False, "disabled")])
def test_thinking_object(on: bool, kind: str) -> None:
    assert apply_thinking(body(), on, "thinking_object") == {**body(), "thinking": {"type": kind}}


@pytest.mark.parametrize(("on", "line"), [(True, "/think"), (False, "/no_think")])
def test_directive_goes_on_its_own_line_of_the_last_user_message(on: bool, line: str) -> None:
    given = body()
    given["messages"].insert(1, {"role": "user", "content": "earlier"})
    given["messages"].append({"role": "assistant", "content": "ok"})
    before = copy.deepcopy(given)
    result = apply_thinking(given, on, "directive")
    assert [m["content"] for m in result["messages"]] == ["be brief", "earlier", f"hi\n{line}",
                                                          "ok"]
    assert given == before
    assert "reasoning_effort" in result and result["reasoning_effort"] == "low"


def test_directive_after_a_trailing_newline_adds_no_blank_line() -> None:
    result = apply_thinking(body(content="hi\n"), True, "directive")
    assert result["messages"][-1]["content"] == "hi\n/think"


def test_directive_in_the_last_text_part() -> None:
    parts = [{"type": "text", "text": "first"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
             {"type": "text", "text": "second"}]
    result = apply_thinking(body(content=parts), False, "directive")
    assert result["messages"][-1]["content"] == [
        parts[0], parts[1], {"type": "text", "text": "second\n/no_think"}]
    assert parts[2]["text"] == "second"


def test_directive_with_only_an_image_adds_a_text_part() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    result = apply_thinking(body(content=[image]), True, "directive")
    assert result["messages"][-1]["content"] == [image, {"type": "text", "text": "/think"}]


def test_directive_without_a_user_message_changes_nothing() -> None:
    given = {"model": "m", "messages": [{"role": "system", "content": "s"}]}
    assert apply_thinking(given, True, "directive") == given


@pytest.mark.parametrize(("model", "style"), [
    ("qwen3.6-plus", "enable_thinking"),
    ("Qwen3-235B-A22B", "enable_thinking"),
    ("Qwen/Qwen3-8B", "enable_thinking"),
    ("glm-4.6", "thinking_object"),
    ("GLM-4.5-Air", "thinking_object"),
    ("deepseek-v4-pro", "directive"),
    ("deepseek-chat", "enable_thinking"),
    ("kimi-k2", "enable_thinking"),
    ("gpt-4o-mini", "enable_thinking"),
    ("", "enable_thinking"),
])
def test_style_from_the_model_name(model: str, style: str) -> None:
    assert thinking_style_for(model) == style


def test_model_defaults_apply_when_no_style_is_given() -> None:
    assert apply_thinking(body("glm-4.6"), True, None)["thinking"] == {"type": "enabled"}
    assert apply_thinking(body("deepseek-v4-flash"), False, None)["messages"][-1][
        "content"] == "hi\n/no_think"
    assert apply_thinking(body("qwen3-max"), False, None)["enable_thinking"] is False


@pytest.mark.parametrize("style", THINKING_STYLES)
def test_a_configured_style_beats_the_model_name(style: str) -> None:
    assert thinking_style_for("glm-4.6", style) == style


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown thinking style 'qwen'"):
        thinking_style_for("m", "qwen")


def test_the_client_sends_the_switch_and_leaves_the_callers_body_alone(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    fakeapi.add(SSE(text_stream(["ok"])))
    fakeapi.add(JSON(models(["deepseek-v4-pro"])), MODELS_PATH)  # asked once: no style set
    given = body("deepseek-v4-pro")
    before = copy.deepcopy(given)
    settings = Settings(base_url=fakeapi.base_url, retries=0)
    with ChatClient(settings, thinking=True) as client:
        client.open_chat(given).close()
    with ChatClient(settings, thinking=False, thinking_style="llmgw_thinking") as client:
        client.open_chat(given).close()
    first, second = (r.json() for r in fakeapi.requests if r.method == "POST")
    assert first["messages"][-1]["content"] == "hi\n/think"
    assert second == {**before, "llmgw_thinking": False}
    assert given == before


def test_no_switch_is_sent_unless_asked(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    with ChatClient(Settings(base_url=fakeapi.base_url, retries=0)) as client:
        client.open_chat(body("qwen3-max")).close()
    assert fakeapi.requests[0].json() == body("qwen3-max")
