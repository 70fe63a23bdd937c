"""The request options ``ask``, ``chat``, ``batch`` and ``compare`` share, declared once:
the system message and the sampling and format fields every request may carry."""

from __future__ import annotations

from typing import Annotated

import typer

from chatcli.cli.options import Effort, ResponseFormat, finite

System = Annotated[str | None, typer.Option(
    "-s", "--system", metavar="TEXT", help="System message.")]
Temperature = Annotated[float | None, typer.Option(
    "-t", "--temperature", callback=finite, min=0, max=2, help="Sampling temperature (0-2).")]
TopP = Annotated[float | None, typer.Option(
    "--top-p", callback=finite, min=0, max=1, help="Nucleus sampling (0-1).")]
MaxTokens = Annotated[int | None, typer.Option(
    "--max-tokens", min=1, help="Most tokens to generate.")]
MaxCompletionTokens = Annotated[int | None, typer.Option(
    "--max-completion-tokens", min=1, help="Most completion tokens, reasoning included.")]
Stop = Annotated[list[str] | None, typer.Option(
    "--stop", metavar="TEXT", help="Stop sequence (repeatable).")]
PresencePenalty = Annotated[float | None, typer.Option(
    "--presence-penalty", callback=finite, min=-2, max=2, help="Presence penalty (-2 to 2).")]
FrequencyPenalty = Annotated[float | None, typer.Option(
    "--frequency-penalty", callback=finite, min=-2, max=2,
    help="Frequency penalty (-2 to 2).")]
Seed = Annotated[int | None, typer.Option("--seed", help="Sampling seed.")]
ReasoningEffort = Annotated[Effort | None, typer.Option(
    "--reasoning-effort", help="Reasoning effort.")]
ResponseFormatOption = Annotated[ResponseFormat | None, typer.Option(
    "--response-format", help="Response format.")]
Schema = Annotated[str | None, typer.Option(
    "--schema", metavar="FILE|JSON", help="JSON Schema for structured output (strict).")]
RequestFields = Annotated[list[str] | None, typer.Option(
    "-o", "--option", metavar="KEY=VALUE",
    help="Any request field; JSON values parse, dotted keys nest (repeatable).")]
