"""What an answer cost, from the server's ``usage`` and the model's prices.

``prompt_tokens`` includes the cached ones, billed at ``price_cached_input`` where
it is known (else at the input price); ``completion_tokens`` includes the reasoning
ones, billed at the output price and shown apart. Prices are USD per million tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Cost:
    """USD: the input (uncached), cached input, output (reasoning included) and total."""

    input: float
    cached_input: float
    output: float
    reasoning: float  # the part of ``output`` spent on reasoning tokens

    @property
    def total(self) -> float:
        return self.input + self.cached_input + self.output


def tokens(usage: Any) -> tuple[int, int, int, int]:
    """Prompt, cached, completion and reasoning tokens of a ``usage`` object (0 if absent)."""
    data = usage if isinstance(usage, Mapping) else {}
    prompt = _count(data.get("prompt_tokens"))
    completion = _count(data.get("completion_tokens"))
    cached = _count(_table(data.get("prompt_tokens_details")).get("cached_tokens"))
    reasoning = _count(_table(data.get("completion_tokens_details")).get("reasoning_tokens"))
    return prompt, min(cached, prompt), completion, min(reasoning, completion)


def cost_of(usage: Any, prices: Mapping[str, float]) -> Cost | None:
    """The cost of one answer's usage; None when the input or output price is unknown or
    the usage has no token counts."""
    if "price_input" not in prices or "price_output" not in prices:
        return None
    if not isinstance(usage, Mapping) or not any(
            k in usage for k in ("prompt_tokens", "completion_tokens")):
        return None
    prompt, cached, completion, reasoning = tokens(usage)
    input_price, output_price = prices["price_input"], prices["price_output"]
    cached_price = prices.get("price_cached_input", input_price)
    return Cost((prompt - cached) * input_price / PER_MILLION,
                cached * cached_price / PER_MILLION,
                completion * output_price / PER_MILLION,
                reasoning * output_price / PER_MILLION)


def answer_cost(usage: Any, settings: Settings, model: str | None,
                client: ChatClient | None) -> Cost | None:
    """The cost of an answer from ``model`` (default: the settings'), the prices looked up
    (the endpoint asked through ``client`` for what the config does not say)."""
    if not isinstance(usage, Mapping):
        return None
    from chatcli.config.types import MODEL_PRICES
    from chatcli.session.known_model import known_model

    known = known_model(settings, model, client=client, need=MODEL_PRICES[:2])
    return cost_of(usage, known.facts)


def estimate(input_tokens: int, output_tokens: int, prices: Mapping[str, float]) -> float | None:
    """What a request of this many tokens would cost at most (no cache discount)."""
    if "price_input" not in prices or "price_output" not in prices:
        return None
    return (input_tokens * prices["price_input"]
            + output_tokens * prices["price_output"]) / PER_MILLION


def dollars(amount: float) -> str:
    """An amount as people read a small bill: "$0.41", "$0.0031", "$12.50"."""
    if amount == 0:
        return "$0.00"
    if amount >= 0.1:
        return f"${amount:,.2f}"
    return f"${amount:.2g}" if amount >= 0.0001 else "<$0.0001"


def _table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return 0


def budgets_wanted(settings: Settings, max_cost: float | None) -> bool:
    """Whether any budget applies (``--max-cost``, ``budget_daily``, ``budget_monthly``):
    without one, nothing is estimated or priced before sending."""
    return max_cost is not None or settings.budget_daily is not None or (
        settings.budget_monthly is not None)
