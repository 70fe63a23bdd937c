"""What ``chatcli ask`` sends: messages, fields, headers, and the usage errors before sending."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from clirun import run_cli
from fakeapi import JSON, SSE, FakeAPI, completion, text_stream

# ask looks up the model's input modalities before sending an image.
VISION = JSON({"id": "gpt-4o-mini", "modalities": {"input": ["text", "image"]}})
CATALOG_PATH = "/v1/model-catalog/gpt-4o-mini"

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 24
GIF = b"GIF89a" + b"\0" * 24
WEBP = b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 16


def ask(
    api: FakeAPI, *args: str, stdin: str | None = None, reply: str = "ok", **kwargs: Any
) -> tuple[dict[str, Any], str]:
    """Run ask against the fake API; return the JSON body it sent and its stdout."""
    api.add(SSE(text_stream([reply])))
    result = run_cli(["--base-url", api.base_url, *args], stdin=stdin, **kwargs)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    body: dict[str, Any] = api.requests[-1].json()
    return body, result.stdout


def test_prompt_words_are_joined_and_the_defaults_are_sent(fakeapi: FakeAPI) -> None:
    body, out = ask(fakeapi, "hello", "there", "world")
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello there world"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert out == "ok\n"


def test_ask_is_the_default_command(fakeapi: FakeAPI) -> None:
    body_default, _ = ask(fakeapi, "hi")
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["ask", "--base-url", fakeapi.base_url, "hi"])
    assert result.exit_code == 0
    assert fakeapi.requests[-1].json() == body_default


def test_double_dash_sends_a_command_name_as_the_prompt(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["ask", "--base-url", fakeapi.base_url, "--", "models"])
    assert result.exit_code == 0, result.stderr
    assert fakeapi.requests[-1].json()["messages"] == [{"role": "user", "content": "models"}]


def test_stdin_is_appended_to_the_prompt(fakeapi: FakeAPI) -> None:
    body, _ = ask(fakeapi, "summarise", stdin="line one\nline two\n")
    assert body["messages"][-1]["content"] == "summarise\n\nline one\nline two\n"


def test_stdin_alone_is_the_prompt(fakeapi: FakeAPI) -> None:
    body, _ = ask(fakeapi, stdin="just stdin")
    assert body["messages"] == [{"role": "user", "content": "just stdin"}]


def test_empty_stdin_adds_nothing(fakeapi: FakeAPI) -> None:
    body, _ = ask(fakeapi, "hi", stdin="")
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_no_prompt_and_no_stdin_is_a_usage_error() -> None:
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1"], stdin="")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("chatcli: error: no prompt: give PROMPT words or pipe text on stdin\n"
                             "Try 'chatcli ask --help'.\n")


def test_a_terminal_stdin_is_never_read(fakeapi: FakeAPI) -> None:
    body, _ = ask(fakeapi, "hi", stdin="typed but not piped", stdin_tty=True)
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    result = run_cli(["--base-url", fakeapi.base_url], stdin="x", stdin_tty=True)
    assert result.exit_code == 2


def test_system_message(fakeapi: FakeAPI) -> None:
    body, _ = ask(fakeapi, "-s", "Be terse.", "hi")
    assert body["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi"},
    ]


def test_files_are_inlined_as_fenced_blocks(fakeapi: FakeAPI, tmp_path: Path) -> None:
    code = tmp_path / "a.py"
    code.write_text("print('x')\n")
    tricky = tmp_path / "b.md"
    tricky.write_text("```\ninner fence\n```")
    body, _ = ask(fakeapi, "-f", str(code), "-f", str(tricky), "review")
    assert body["messages"][-1]["content"] == (
        f"review\n\n```{code}\nprint('x')\n```\n\n````{tricky}\n```\ninner fence\n```\n````"
    )


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("a.png", PNG, "image/png"),
        ("b.jpg", JPEG, "image/jpeg"),
        ("c.gif", GIF, "image/gif"),
        ("d.bin", WEBP, "image/webp"),
    ],
)
def test_images_become_data_urls_typed_by_their_bytes(
    fakeapi: FakeAPI, tmp_path: Path, name: str, data: bytes, mime: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    fakeapi.add(VISION, path=CATALOG_PATH)
    body, _ = ask(fakeapi, "-i", str(path), "--image-detail", "low", "what is it")
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    assert body["messages"][-1]["content"] == [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
    ]


def test_image_urls_pass_through(fakeapi: FakeAPI) -> None:
    fakeapi.add(VISION, path=CATALOG_PATH)
    body, _ = ask(
        fakeapi, "-i", "https://example.com/cat.jpg", "-i", "data:image/png;base64,AAAA", "describe"
    )
    parts = body["messages"][-1]["content"]
    assert [p["image_url"]["url"] for p in parts[1:]] == [
        "https://example.com/cat.jpg",
        "data:image/png;base64,AAAA",
    ]


def test_messages_file_with_prompt_appended(fakeapi: FakeAPI, tmp_path: Path) -> None:
    history = [
        {"role": "developer", "content": "Rules."},
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "need tool",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny", "name": "w"},
    ]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(history))
    body, _ = ask(fakeapi, "--messages", str(path), "and tomorrow?")
    assert body["messages"] == [*history, {"role": "user", "content": "and tomorrow?"}]


def test_messages_from_stdin(fakeapi: FakeAPI) -> None:
    history = [{"role": "user", "content": "from stdin"}]
    body, _ = ask(fakeapi, "--messages", "-", stdin=json.dumps(history))
    assert body["messages"] == history


def test_every_request_flag_lands_in_the_body(fakeapi: FakeAPI, tmp_path: Path) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    tools_file = tmp_path / "tools.json"
    tools_file.write_text(json.dumps(tools))
    body, _ = ask(
        fakeapi,
        "-m",
        "m1",
        "-t",
        "0.5",
        "--top-p",
        "0.9",
        "--max-tokens",
        "100",
        "--max-completion-tokens",
        "200",
        "-n",
        "1",
        "--stop",
        "END",
        "--stop",
        "STOP",
        "--presence-penalty",
        "-1.5",
        "--frequency-penalty",
        "2",
        "--logit-bias",
        "50256=-100",
        "--logit-bias",
        "13=2.5",
        "--seed",
        "7",
        "--user",
        "u-1",
        "--reasoning-effort",
        "high",
        "--tools",
        str(tools_file),
        "--tool-choice",
        "get_weather",
        "--no-parallel-tool-calls",
        "--logprobs",
        "--top-logprobs",
        "3",
        "hi",
    )
    expected = {
        "model": "m1",
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 100,
        "max_completion_tokens": 200,
        "n": 1,
        "stop": ["END", "STOP"],
        "presence_penalty": -1.5,
        "frequency_penalty": 2.0,
        "logit_bias": {"50256": -100, "13": 2.5},
        "seed": 7,
        "user": "u-1",
        "reasoning_effort": "high",
        "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "logprobs": True,
        "top_logprobs": 3,
    }
    assert {k: body[k] for k in expected} == expected


def test_response_format_and_schema(fakeapi: FakeAPI, tmp_path: Path) -> None:
    body, _ = ask(fakeapi, "--response-format", "json_object", "hi")
    assert body["response_format"] == {"type": "json_object"}
    schema = {"title": "Person card", "type": "object", "properties": {"name": {"type": "string"}}}
    body, _ = ask(fakeapi, "--schema", json.dumps(schema), "hi")
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Person_card", "schema": schema, "strict": True},
    }
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"type": "object"}))
    body, _ = ask(fakeapi, "--schema", str(path), "hi")
    assert body["response_format"]["json_schema"]["name"] == "response"


def test_single_stop_and_tool_choice_keywords(fakeapi: FakeAPI) -> None:
    body, _ = ask(
        fakeapi, "--stop", "END", "--tool-choice", "required", "--parallel-tool-calls", "hi"
    )
    assert (body["stop"], body["tool_choice"], body["parallel_tool_calls"]) == (
        "END",
        "required",
        True,
    )


def test_options_parse_json_and_nest(fakeapi: FakeAPI) -> None:
    body, _ = ask(
        fakeapi,
        "-o",
        "enable_thinking=false",
        "-o",
        "chat_template_kwargs.enable_thinking=true",
        "-o",
        "chat_template_kwargs.mode=fast",
        "-o",
        "top_k=40",
        "-o",
        'metadata={"a": "b"}',
        "-o",
        "temperature=0.1",
        "-t",
        "0.9",
        "hi",
    )
    assert body["enable_thinking"] is False
    assert body["chat_template_kwargs"] == {"enable_thinking": True, "mode": "fast"}
    assert body["top_k"] == 40
    assert body["metadata"] == {"a": "b"}
    assert body["temperature"] == 0.1  # -o is the most specific way to say it


def test_no_stream_sends_stream_false_and_renders_json(fakeapi: FakeAPI) -> None:
    fakeapi.add(
        JSON(
            completion(
                "a whole answer",
                usage={"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
            )
        )
    )
    result = run_cli(["--base-url", fakeapi.base_url, "--no-stream", "hi"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "a whole answer\n", "")
    body = fakeapi.requests[-1].json()
    assert body["stream"] is False
    assert "stream_options" not in body


def test_headers_auth_and_trace_id(fakeapi: FakeAPI) -> None:
    ask(fakeapi, "--api-key", "sk-test-1234567890", "-H", "X-Team: blue", "-H", "X-Empty:", "hi")
    request = fakeapi.requests[-1]
    assert request.header("Authorization") == "Bearer sk-test-1234567890"
    assert request.header("X-Team") == "blue"
    assert request.header("Content-Type") == "application/json"
    trace = request.header("X-Trace-ID") or ""
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", trace)
    ask(fakeapi, "--trace-id", "my-trace", "hi")
    assert fakeapi.requests[-1].header("X-Trace-ID") == "my-trace"
    assert fakeapi.requests[-1].header("Authorization") is None
    ask(fakeapi, "hi")
    assert fakeapi.requests[-1].header("X-Trace-ID") != trace  # fresh per request


def test_trailing_slash_in_base_url_is_harmless(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url + "/", "hi"])
    assert result.exit_code == 0
    assert fakeapi.requests[-1].path == "/v1/chat/completions"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "2.5"], "Invalid value for '-t' / '--temperature'"),
        (["--top-p", "-0.1"], "Invalid value for '--top-p'"),
        (["--presence-penalty", "3"], "Invalid value for '--presence-penalty'"),
        (["--frequency-penalty", "-2.1"], "Invalid value for '--frequency-penalty'"),
        (["--max-tokens", "0"], "Invalid value for '--max-tokens'"),
        (["-n", "0"], "Invalid value for '-n'"),
        (["-O", "fancy"], "Invalid value for '-O' / '--output'"),
        (["--nope"], "No such option: --nope"),
    ],
)
def test_bad_flags_are_usage_errors_before_any_request(args: list[str], message: str) -> None:
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", *args, "hi"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "novalue"], "option 'novalue' must look like KEY=VALUE"),
        (["-o", "a..b=1"], "option 'a..b=1' has an empty key part"),
        (["-H", "NoColon"], "header 'NoColon' must look like 'Name: value'"),
        (["--logit-bias", "5=101"], "--logit-bias '5=101' must be TOKEN=BIAS"),
        (["--schema", "{not json"], "--schema: not valid JSON"),
        (["--schema", "missing.json"], "--schema missing.json: no such file"),
        (["--tools", "missing.json"], "--tools missing.json: no such file"),
        (["--messages", "missing.json"], "--messages missing.json: no such file"),
        (["-f", "missing.txt"], "missing.txt: no such file"),
        (["-i", "missing.png"], "missing.png: no such file"),
    ],
)
def test_bad_input_is_a_usage_error_and_a_hint(args: list[str], message: str) -> None:
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", *args, "hi"])
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("chatcli: error: ")
    first, hint = result.stderr.splitlines()
    assert message in first
    assert hint == "Try 'chatcli ask --help'."


def test_bad_files_name_the_path(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\0\1\2")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * 2_000_000)
    (tmp_path / "empty").mkdir()
    cases = {
        ("-f", str(binary)): f"{binary}: is a binary file",
        ("-f", str(tmp_path / "empty")): f"-f {tmp_path / 'empty'}: no text files to inline",
        ("-i", str(text)): f"{text}: not a PNG, JPEG, GIF or WebP image",
        ("-i", str(big), "--max-attachment-mb", "1"): f"{big}: 1.9 MB is over the 1 MB limit",
    }
    for args, message in cases.items():
        result = run_cli(["--base-url", "http://127.0.0.1:9/v1", *args, "hi"])
        assert result.exit_code == 2
        assert message in result.stderr


def test_messages_must_be_an_array_of_known_roles(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"role": "wizard", "content": "x"}]))
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", "--messages", str(path)])
    assert result.exit_code == 2
    assert "message 0 has role 'wizard'" in result.stderr


WAV = b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 24
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def test_audio_file_video_and_file_id_parts(fakeapi: FakeAPI, tmp_path: Path) -> None:
    audio = tmp_path / "note.wav"
    audio.write_bytes(WAV)
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(PDF)
    fakeapi.add(JSON({"id": "gpt-4o-mini", "modalities": {
        "input": ["text", "audio", "file", "video"]}}), path=CATALOG_PATH)
    body, _ = ask(fakeapi, "--audio", str(audio), "--attach", str(pdf), "--file-id", "file-123",
                  "--video", "https://example.com/clip.mp4", "summarise")
    parts = body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "summarise"}
    assert parts[1] == {"type": "input_audio", "input_audio": {
        "data": base64.b64encode(WAV).decode(), "format": "wav"}}
    assert parts[2] == {"type": "file", "file": {
        "filename": "paper.pdf",
        "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode()}}
    assert parts[3] == {"type": "file", "file": {"file_id": "file-123"}}
    assert parts[4] == {"type": "video_url", "video_url": {"url": "https://example.com/clip.mp4"}}


def test_output_and_storage_fields(fakeapi: FakeAPI, tmp_path: Path) -> None:
    draft = tmp_path / "draft.py"
    draft.write_text("print('old')\n")
    body, _ = ask(fakeapi, "--modalities", "text", "--modalities", "audio", "--audio-voice",
                  "verse", "--audio-format", "mp3", "--web-search", "high", "--prediction",
                  str(draft), "--store", "--metadata", "team=blue", "--metadata", "run=7",
                  "--service-tier", "flex", "hi")
    assert body["modalities"] == ["text", "audio"]
    assert body["audio"] == {"voice": "verse", "format": "mp3"}
    assert body["web_search_options"] == {"search_context_size": "high"}
    assert body["prediction"] == {"type": "content", "content": "print('old')\n"}
    assert (body["store"], body["metadata"], body["service_tier"]) == (
        True, {"team": "blue", "run": "7"}, "flex")
    body, _ = ask(fakeapi, "--no-store", "--modalities", "text,audio", "hi")
    assert body["store"] is False
    assert body["modalities"] == ["text", "audio"]


def test_a_file_that_is_not_audio_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "song.mp3"
    fake.write_text("not audio")
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", "--audio", str(fake), "hi"])
    assert result.exit_code == 2
    assert str(fake) in result.stderr
