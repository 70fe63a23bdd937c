"""A model's window and prices: from the config, else from what the endpoint publishes
(OpenRouter-style ``/models`` entries, LiteLLM's ``/model/info``), cached a day; and the
cost ``-u``, ``/usage`` and the REPL's toolbar give from them."""

from __future__ import annotations

import re

import pytest

from chatcli.endpoint.model_facts import facts_of
from chatcli.session.cost import cost_of, dollars
from clirun import run_cli, unpublished, write_config
from fakeapi import JSON, MODELS_PATH, SSE, FakeAPI, Raw, text_stream

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
         "prompt_tokens_details": {"cached_tokens": 400},
         "completion_tokens_details": {"reasoning_tokens": 200}}
PRICED = ('[models."gpt-4o-mini"]\nprice_input = 2.0\nprice_output = 8.0\n'
          'price_cached_input = 0.5\ncontext_window = 128000\n')
OPENROUTER = {"data": [
    {"id": "other", "context_length": 1, "pricing": {"prompt": "1", "completion": "1"}},
    {"id": "gpt-4o-mini", "context_length": 128000,
     "top_provider": {"max_completion_tokens": 16384},
     "pricing": {"prompt": "0.000002", "completion": "0.000008",
                 "input_cache_read": "0.0000005"}}]}


def test_costs_are_split_into_uncached_cached_output_and_reasoning() -> None:
    cost = cost_of(USAGE, {"price_input": 2.0, "price_output": 8.0, "price_cached_input": 0.5})
    assert cost is not None
    assert (cost.input, cost.cached_input, cost.output, cost.reasoning) == pytest.approx(
        (600 * 2 / 1e6, 400 * 0.5 / 1e6, 500 * 8 / 1e6, 200 * 8 / 1e6))
    assert cost.total == pytest.approx(0.0054)
    no_cache_price = cost_of(USAGE, {"price_input": 2.0, "price_output": 8.0})
    assert no_cache_price is not None and no_cache_price.cached_input == pytest.approx(0.0008)
    assert cost_of(USAGE, {"price_input": 2.0}) is None
    assert cost_of({"total_tokens": 3}, {"price_input": 1.0, "price_output": 1.0}) is None


@pytest.mark.parametrize(("amount", "shown"), [
    (0, "$0.00"), (0.41, "$0.41"), (12.5, "$12.50"), (0.0054, "$0.0054"), (0.00001, "<$0.0001"),
    (1234.5, "$1,234.50")])
def test_dollars_read_as_a_bill(amount: float, shown: str) -> None:
    assert dollars(amount) == shown


def test_published_shapes_are_read_into_one_vocabulary() -> None:
    assert facts_of(OPENROUTER["data"][1]) == {
        "context_window": 128000, "max_output": 16384, "price_input": 2.0,
        "price_output": 8.0, "price_cached_input": 0.5}
    litellm = {"model_name": "gpt-4o", "model_info": {
        "max_input_tokens": 128000, "max_output_tokens": 4096, "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06}}
    assert facts_of(litellm) == {"context_window": 128000, "max_output": 4096,
                                 "price_input": 2.5, "price_output": 10.0,
                                 "price_cached_input": 1.25}
    varies = {"context_length": True, "pricing": {"prompt": "-1", "completion": "many"}}
    assert facts_of(varies) == {}


def usage_line(fakeapi: FakeAPI, *args: str) -> str:
    fakeapi.add(SSE(text_stream(["ok"], usage=USAGE)))
    result = run_cli(["--base-url", fakeapi.base_url, "--no-history", "-u", *args, "hi"])
    assert (result.exit_code, result.stdout) == (0, "ok\n"), result.stderr
    return result.stderr


def test_config_prices_give_the_cost_without_asking_the_endpoint(fakeapi: FakeAPI) -> None:
    write_config(PRICED)
    line = usage_line(fakeapi)
    assert line.endswith(" · cost $0.0054 (input $0.0012, cached $0.0002, output $0.004,"
                         " reasoning $0.0016)\n"), line
    assert [r.path for r in fakeapi.requests] == ["/v1/chat/completions"]


def test_published_prices_are_looked_up_once_and_cached(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(OPENROUTER), path=MODELS_PATH)
    assert " · cost $0.0054 (" in usage_line(fakeapi)
    assert " · cost $0.0054 (" in usage_line(fakeapi)  # from the cache: no second GET
    assert [r.path for r in fakeapi.requests] == [
        "/v1/chat/completions", "/v1/models", "/v1/chat/completions"]


def test_litellm_model_info_is_asked_when_models_has_no_prices(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"data": [{"id": "gpt-4o-mini", "object": "model"}]}), path=MODELS_PATH)
    fakeapi.add(JSON({"data": [{"model_name": "gpt-4o-mini", "model_info": {
        "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}]}),
        path="/v1/model/info")
    assert usage_line(fakeapi).endswith(" · cost $0.002 (input $0.0006, cached $0.0004,"
                                        " output $0.001, reasoning $0.0004)\n")


def test_without_prices_there_is_no_cost(fakeapi: FakeAPI) -> None:
    unpublished(fakeapi)
    assert "cost" not in usage_line(fakeapi)


def test_an_endpoint_failure_costs_the_answer_nothing(fakeapi: FakeAPI) -> None:
    for _ in range(3):  # the first lookup, retried
        fakeapi.add(Raw(503, b"busy"), path=MODELS_PATH)
    line = usage_line(fakeapi, "--retries", "2")
    assert line.startswith("usage: prompt 1000 · completion 500") and "cost" not in line


def test_models_show_says_what_is_known_and_where_from(fakeapi: FakeAPI) -> None:
    config = write_config('[models."gpt-4o-mini"]\nprice_input = 3.0\n'
                          '[profiles.lab.models."gpt-4o-mini"]\ncontext_window = 64000\n')
    fakeapi.add(JSON({"id": "gpt-4o-mini"}), path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(JSON(OPENROUTER), path=MODELS_PATH)
    result = run_cli(["models", "show", "gpt-4o-mini", "-P", "lab", "--base-url",
                      fakeapi.base_url])
    assert result.exit_code == 0, result.stderr
    known = result.stdout.split("known to chatcli:\n")[1]
    assert known == (
        f"  context_window      64000 tokens  (profile lab)\n"
        f"  max_output          16384 tokens  (endpoint GET /models)\n"
        f"  price_input         $3 per million tokens  (config {config})\n"
        f"  price_output        $8 per million tokens  (endpoint GET /models)\n"
        f"  price_cached_input  $0.5 per million tokens  (endpoint GET /models)\n")


def test_models_show_of_a_model_only_the_config_knows(fakeapi: FakeAPI) -> None:
    write_config(PRICED.replace("gpt-4o-mini", "local"))
    fakeapi.add(JSON({"error": {"message": "no"}}, status=404),
                path="/v1/model-catalog/local")
    fakeapi.add(JSON({"error": {"message": "no"}}, status=404), path="/v1/models/local")
    unpublished(fakeapi)
    result = run_cli(["models", "show", "local", "--base-url", fakeapi.base_url])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("chatcli: warning: the endpoint does not describe local")
    assert "context_window      128000 tokens  (config " in result.stdout


@pytest.mark.parametrize(("table", "words"), [
    ('[models."m"]\nprice_input = "cheap"\n', "models m: price_input must be USD per million"),
    ('[models."m"]\ncontext_window = 0\n', "models m: context_window must be a whole number"),
    ('[models."m"]\nwindow = 5\n', "models m: unknown key 'window'"),
    ('[models."m"]\ntimeout = 5\n', "models m: timeout is a setting, not a model fact: put it"
     " above the [models] tables"),
    ("budget_daily = -1\n", "budget_daily must be an amount in USD"),
    ("budget_monthly = true\n", "budget_monthly must be an amount in USD"),
])
def test_bad_model_tables_are_config_errors(fakeapi: FakeAPI, table: str, words: str) -> None:
    write_config(table)
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert result.exit_code == 3
    assert words in result.stderr, result.stderr
    assert fakeapi.requests == []


def test_the_repl_toolbar_and_usage_show_the_window_and_cost(fakeapi: FakeAPI) -> None:
    from test_repl import answer, ask, out, repl

    write_config(PRICED)
    fakeapi.add(answer("a", usage=USAGE))
    session, env = repl(ask(fakeapi), "q1\r/usage\r")
    assert out(env).endswith("usage: prompt 1000 · completion 500 · total 1500 tokens"
                             " (1 answer) · cost $0.0054 at gpt-4o-mini's prices\n")
    toolbar = session.toolbar()
    assert re.fullmatch(r" default · gpt-4o-mini · \w+ · 1500 tokens · context 1500/128000"
                        r" \(1%\) · \$0.0054 ", toolbar), toolbar
