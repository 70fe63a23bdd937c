"""``tokenizer = "tiktoken"``: a request near the window is counted by the model family's
own vocabulary before it is fitted; other models, and a tiktoken that is missing or
cannot load its vocabulary, are estimated, with one note saying why.

tiktoken itself is not what is tested (its vocabularies are fetched from OpenAI,
and tests reach nothing but 127.0.0.1): a stand-in module counts one token per two
characters, twice what the estimate says, so the fitting shows which was used."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from chatcli.session import context_fit, tokenizer
from chatcli.session.tokenizer import encoding_name
from clirun import run_cli, write_config
from fakeapi import SSE, FakeAPI, text_stream
from test_context_window import chats, long_history

WINDOW = '[models."gpt-4o-mini"]\ncontext_window = 3000\n'  # 2500 left with --max-tokens 500


class _Vocabulary:
    def encode(self, text: str, disallowed_special: Any = None) -> list[int]:
        assert disallowed_special == ()  # text that looks like a special token is text
        return [0] * (len(text) // 2)


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenizer, "_loaded", {})
    monkeypatch.setattr(context_fit, "_SAID", set())


def stand_in(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> list[str]:
    """A ``tiktoken`` module; the encodings asked for are recorded."""
    asked: list[str] = []

    def get_encoding(name: str) -> _Vocabulary:
        asked.append(name)
        if fail:
            raise ValueError("no network to fetch it")
        return _Vocabulary()
    module = types.ModuleType("tiktoken")
    module.get_encoding = get_encoding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", module)
    return asked


def ask(fakeapi: FakeAPI, tmp_path: Any) -> Any:
    # 5 turns of 600 characters: about 1550 tokens by the estimate, 3050 counted
    fakeapi.add(SSE(text_stream(["ok"])))
    return run_cli(["--base-url", fakeapi.base_url, "-m", "gpt-4o-mini", "--max-tokens", "500",
                    "--messages", long_history(tmp_path, 5, 600), "last question"])


def test_the_families_and_their_vocabularies() -> None:
    assert [encoding_name(m) for m in ("gpt-4o-mini", "openai/gpt-4.1", "gpt-4-turbo", "o3-mini",
                                       "GPT-5", "gpt-oss-20b", "gpt-3.5-turbo", "llama3",
                                       "claude-sonnet")] == [
        "o200k_base", "o200k_base", "cl100k_base", "o200k_base", "o200k_base", "o200k_harmony",
        "cl100k_base", None, None]


def test_the_estimate_sends_it_all(fakeapi: FakeAPI, tmp_path: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    asked = stand_in(monkeypatch)
    write_config(WINDOW)
    result = ask(fakeapi, tmp_path)
    assert (result.exit_code, result.stderr) == (0, "")
    assert len(chats(fakeapi)[0]["messages"]) == 12
    assert asked == []  # not loaded unless asked for


def test_the_vocabulary_counts_and_the_oldest_turns_go(fakeapi: FakeAPI, tmp_path: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    asked = stand_in(monkeypatch)
    write_config('tokenizer = "tiktoken"\n' + WINDOW)
    result = ask(fakeapi, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert asked == ["o200k_base"]
    sent = chats(fakeapi)[0]["messages"]
    assert sent[0]["role"] == "system" and sent[-1]["content"] == "last question"
    assert [m["content"][:2] for m in sent[1:-1]] == ["q1", "a1", "q2", "a2", "q3", "a3", "q4",
                                                      "a4"]
    assert "1 earlier turn left out to fit gpt-4o-mini's window of 3000 tokens (about 2458" \
           " tokens sent" in result.stderr  # counted: 8 messages of 300 + 4, and the question


def test_a_short_request_loads_no_vocabulary(fakeapi: FakeAPI, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    asked = stand_in(monkeypatch)
    write_config('tokenizer = "tiktoken"\n' + WINDOW)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-m", "gpt-4o-mini", "hello"])
    assert (result.exit_code, result.stderr, asked) == (0, "", [])


def test_without_tiktoken_it_is_estimated_with_one_note(fakeapi: FakeAPI, tmp_path: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # import tiktoken: ImportError
    write_config('tokenizer = "tiktoken"\n' + WINDOW)
    result = ask(fakeapi, tmp_path)
    assert result.exit_code == 0
    assert result.stderr == ('chatcli: warning: tokenizer = "tiktoken": tiktoken is not'
                             " installed (pip install 'chatcli[tokens]'); tokens are"
                             " estimated\n")
    assert len(chats(fakeapi)[0]["messages"]) == 12


def test_a_vocabulary_that_cannot_be_loaded_is_said_and_estimated(
        fakeapi: FakeAPI, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in(monkeypatch, fail=True)
    write_config('tokenizer = "tiktoken"\n' + WINDOW)
    result = ask(fakeapi, tmp_path)
    assert result.exit_code == 0
    assert "the o200k_base vocabulary could not be loaded (ValueError)" in result.stderr
    assert len(chats(fakeapi)[0]["messages"]) == 12


def test_a_model_of_another_family_is_estimated_quietly(fakeapi: FakeAPI, tmp_path: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    asked = stand_in(monkeypatch)
    write_config('tokenizer = "tiktoken"\n[models."llama3"]\ncontext_window = 3000\n')
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-m", "llama3", "--max-tokens", "500",
                      "--messages", long_history(tmp_path, 5, 600), "q"])
    assert (result.exit_code, result.stderr, asked) == (0, "", [])


def test_a_bad_tokenizer_setting_is_a_config_error(fakeapi: FakeAPI) -> None:
    write_config('tokenizer = "bpe"\n')
    result = run_cli(["--base-url", fakeapi.base_url, "hello"])
    assert result.exit_code == 3
    assert "tokenizer" in result.stderr and "estimate, tiktoken" in result.stderr


def test_the_repl_sizes_its_messages_by_the_vocabulary(fakeapi: FakeAPI,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from chatcli.repl.session import open_session
    from test_repl import ask as repl_ask
    from test_repl import screen

    stand_in(monkeypatch)
    write_config('tokenizer = "tiktoken"\n')
    with open_session(repl_ask(fakeapi, flags={"model": "gpt-4o"}), screen()) as session:
        assert session.message_size({"role": "user", "content": "x" * 400}) == 200 + 4
    write_config("")
    with open_session(repl_ask(fakeapi, flags={"model": "gpt-4o"}), screen()) as session:
        assert session.message_size({"role": "user", "content": "x" * 400}) == 100 + 4
