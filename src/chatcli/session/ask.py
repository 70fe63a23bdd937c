"""The one-shot command: gather input, build the request, run one turn.

Input comes from the prompt words, stdin (when it is not a terminal), files,
images and ``--messages``; every problem with it is a ``UsageError`` raised
before any request is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chatcli.protocol.messages import (
    build_request,
)
from chatcli.session.answered import after_answer
from chatcli.session.connect import client_for, refuse_unsupported
from chatcli.session.conversation import Resumed, continued, continued_settings, open_history
from chatcli.session.cost import answer_cost, budgets_wanted
from chatcli.session.environment import Environment
from chatcli.session.extract import INCOMPLETE, check_extract, extracting
from chatcli.session.fields import request_fields
from chatcli.session.inputs import gather_messages
from chatcli.session.more import continue_answer, more_hint, refuse_more
from chatcli.session.options import AskRequest, has_runnable_tools
from chatcli.session.outgoing import terminal_policy
from chatcli.session.output import make_renderer, save_audio
from chatcli.session.templates import resolve

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.protocol.result import TurnResult
    from chatcli.session.compaction import Compactor
    from chatcli.session.context_fit import WholeRecord
    from chatcli.tools import ToolSet


def run_ask(request: AskRequest, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    check_extract(request)
    refuse_more(request)
    if request.save is not None:
        from chatcli.session.template_save import save_template

        save_template(request, env)
        return
    request, settings, template = resolve(request, env)
    resumed = continued(settings, env, request)
    mcp_tools = None
    try:
        settings = continued_settings(settings, env, request.flags, resumed.conversation,
                                      template)
        if (settings.functions or settings.tool_cmds or settings.tools or settings.approve
                or settings.mcp or settings.mcp_urls):
            from chatcli.session.tooling import merged_tool_options

            request = merged_tool_options(request, settings)  # the flags add to the profile's
        fields = request_fields(request)
        if request.more:
            continue_answer(request, env, settings, fields, resumed)
            return
        toolset = None
        if has_runnable_tools(request):
            from chatcli.session.tooling import keep_keys_from_tools, load_mcp, toolset_for

            keep_keys_from_tools(request, settings, env)
            mcp_tools = load_mcp(request, env)  # bad tools are usage errors before sending
            toolset = toolset_for(request, fields, mcp_tools)
        _run(request, env, settings, fields, toolset, resumed)
    finally:
        if mcp_tools is not None:
            mcp_tools.close()
        if resumed.store is not None:
            resumed.store.close()


def _run(request: AskRequest, env: Environment, settings: Settings, fields: dict[str, Any],
         toolset: ToolSet | None, resumed: Resumed) -> None:
    """Gather, send and show; a history not opened yet is opened (and closed) here."""

    if request.editor:
        from dataclasses import replace

        from chatcli.session.editor import compose

        written = compose(" ".join(request.prompt), stdin_is_terminal=env.stdin_is_terminal)
        request = replace(request, prompt=[written])
    policy = terminal_policy(env, settings.secret_scan, allow=request.allow_secrets,
                             redact=request.redact_secrets)
    # refused input touches no history
    new_messages, sources = gather_messages(request, env, policy, settings)
    if request.dry_run:
        _show(request, env, settings, fields, toolset, [*resumed.messages, *new_messages])
        return
    if resumed.store is None:
        opened = open_history(settings, env, wanted=request.history, name=request.name)
        try:
            _send(request, env, settings, fields, toolset, opened, new_messages, sources)
        finally:
            if opened.store is not None:
                opened.store.close()
    else:
        _send(request, env, settings, fields, toolset, resumed, new_messages, sources)


def _show(request: AskRequest, env: Environment, settings: Settings, fields: dict[str, Any],
          toolset: ToolSet | None, messages: list[Any]) -> None:
    """``--dry-run``: the first request as it would be sent; nothing sent or stored."""
    from chatcli.session.dry_run import show_request

    sent_fields = toolset.request_fields(fields) if toolset is not None else fields
    body = build_request(settings, messages, sent_fields, stream=request.stream)
    with client_for(env, settings, request) as client:
        show_request(client, body, env, request.trace_id)


def _send(request: AskRequest, env: Environment, settings: Settings, fields: dict[str, Any],
          toolset: ToolSet | None, resumed: Resumed, new_messages: list[Any],
          sources: list[str]) -> None:
    from chatcli.engine.turn import run_turn
    messages: list[Any] = [*resumed.messages, *new_messages]
    recorder = resumed.recorder(settings)
    if recorder is not None and sources:
        recorder.sources = sources  # kept with the user message they were part of
    notifier = None
    if request.notify or settings.notify_after is not None:
        from chatcli.session.notify import notifier_for

        notifier = notifier_for(env, request.notify, settings.notify_after)
    extract = extracting(request)
    budget = None
    if budgets_wanted(settings, request.max_cost):
        from chatcli.session.budget import Budget

        budget = Budget(settings, env, resumed.store, request.max_cost)
    cost = None
    try:
        with client_for(env, settings, request) as client:
            refuse_unsupported(client, new_messages, str(fields.get("model") or settings.model))
            if budget is not None:
                sent_fields = toolset.request_fields(fields) if toolset is not None else fields
                budget.check(build_request(settings, messages, sent_fields,
                                           stream=request.stream), client)
            if toolset is not None:
                from chatcli.session.tooling import run_with_tools

                result = _held_back(extract, env, lambda: run_with_tools(
                    request, env, client, settings, messages, fields, toolset, recorder).last)
            else:
                from chatcli.session.context_fit import WholeRecord, send_fitting

                body = build_request(settings, messages, fields, stream=request.stream)
                whole = (WholeRecord(recorder, messages, recorder.record_summary)
                         if recorder is not None else None)

                def send(fitted: dict[str, Any]) -> TurnResult:
                    renderer = make_renderer(request.output, request.reasoning, env,
                                             choices=int(body.get("n") or 1),
                                             model=str(body.get("model", "")),
                                             logprobs=request.logprobs,
                                             top_logprobs=request.top_logprobs or 0,
                                             extract=extract)
                    return run_turn(client, fitted, renderer, trace_id=request.trace_id,
                                    recorder=whole)

                result = _held_back(extract, env, lambda: send_fitting(
                    body, settings, settings.context, client=client, send=send,
                    warn=env.warn, compact=_compactor(client, settings, body, whole)))
            if request.usage or budget is not None:
                cost = answer_cost(result.completion.get("usage"), settings,
                                   str(fields.get("model") or settings.model), client)
    finally:
        if recorder is not None and recorder.failed is not None:
            env.warn(f"the history was not saved: {recorder.failed.describe()}")
    after_answer(result, request, env, cost=cost, budget=budget,
                 more=more_hint(request) if recorder is not None and toolset is None else None)
    if notifier is not None:
        notifier.arrived(str(result.message.get("content") or ""))
    if request.audio_out:
        save_audio(result, request.audio_out, env)


def _compactor(client: ChatClient, settings: Settings, body: Mapping[str, Any],
               whole: WholeRecord | None) -> Compactor | None:
    """What writes the summaries of ``context = "compact"``, kept in the history."""
    if settings.context != "compact":
        return None
    from chatcli.session.compaction import Compactor

    return Compactor(client, settings, str(body.get("model") or settings.model),
                     kept=whole.summary_made if whole is not None else None)


def _held_back(extract: bool, env: Environment, run: Callable[[], TurnResult]) -> TurnResult:
    """Run the exchange; with ``-x``, a failure or Ctrl-C says first that stdout got nothing."""
    try:
        return run()
    except BaseException:
        if extract:
            env.warn(INCOMPLETE)
        raise
