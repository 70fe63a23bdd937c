"""``ask --help`` and ``chat --help`` in sections, with examples at the end.

Seventy options in one list is a wall; grouped by what they are about (what
goes in, what is asked of the model, how the answer is shown, where it goes,
tools, history) a reader finds the one they want. The examples are printed as
written, never rewrapped.
"""

from __future__ import annotations

from typing import Any

from typer._click import Context, HelpFormatter
from typer._click.types import Tuple
from typer.core import TyperCommand

SECTIONS: dict[str, tuple[str, ...]] = {
    "Input": ("editor", "system", "file", "max_context_kb", "image", "image_detail",
              "max_attachment_mb", "audio",
              "attach", "file_id", "video", "clipboard", "messages", "redact_secrets",
              "allow_secrets"),
    "Templates": ("template", "param", "save", "force"),
    "Model and request": ("model", "temperature", "top_p", "max_tokens",
                          "max_completion_tokens", "n", "stop", "presence_penalty",
                          "frequency_penalty", "logit_bias", "seed", "user", "reasoning_effort",
                          "thinking", "strict_params", "response_format", "schema", "modalities",
                          "audio_voice", "audio_format", "web_search", "prediction", "store",
                          "metadata", "service_tier", "logprobs", "top_logprobs", "option",
                          "stream"),
    "Output": ("output", "reasoning", "usage", "extract", "extract_last", "code", "lang",
               "copy", "notify", "dry_run", "audio_out", "verbose", "debug", "help"),
    "Endpoint": ("base_url", "api_key", "profile", "header", "trace_id", "timeout",
                 "connect_timeout", "max_time", "retries", "ca_bundle", "insecure"),
    "Tools": ("tools", "tool_choice", "functions", "tool_cmd", "yes", "approve", "tool_timeout",
              "mcp", "mcp_url", "max_tool_result_kb", "tool_env", "max_tool_rounds",
              "parallel_tool_calls"),
    "History": ("continue_last", "cid", "fork", "more", "name", "no_history"),
    "Cost and context": ("max_cost", "context"),
}
OTHER = "Other options"  # an option no section names: a test keeps this empty

EXAMPLES: dict[str, tuple[str, ...]] = {
    "ask": (
        'chatcli "Explain SSE in one paragraph"',
        'git diff | chatcli -m gpt-4o "Write a commit message"',
        'chatcli -c -f main.py "Now review this file too"',
    ),
    "chat": (
        "chatcli chat",
        'chatcli chat -s "Answer in French" -f notes.md',
        "chatcli chat -c --functions tools.py",
    ),
}


def section_of(name: str | None) -> str:
    return next((title for title, names in SECTIONS.items() if name in names), OTHER)


PAIRS = ("param",)  # options that take two values (-p NAME VALUE), which Typer cannot spell


class PairedCommand(TyperCommand):
    """A command whose ``PAIRS`` options take two values each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.name in PAIRS:
                param.nargs = 2
                param.type = Tuple([str, str])


class SectionedCommand(PairedCommand):
    """A command whose help lists its options by section, then a few examples."""

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        grouped: dict[str, list[tuple[str, str]]] = {title: [] for title in (*SECTIONS, OTHER)}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
            else:
                grouped[section_of(param.name)].append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        for title, records in grouped.items():
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        examples = EXAMPLES.get(self.name or "", ())
        if examples:
            with formatter.section("Examples"):
                for line in examples:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")
