"""Commands with tools that run (``ask`` and ``chat``): build them, approve calls, show outcomes.

Used only when ``--functions`` or ``--tool-cmd`` (or a profile's ``functions``
and ``tool_cmds``) give tools something to run, so the plain path's start-up is
untouched. Tool results are model-facing data: on a terminal they are shown
escaped, and never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from chatcli.output_guard import write_json
from chatcli.session.environment import Environment
from chatcli.session.output import make_renderer

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.engine.tool_loop import LoopResult
    from chatcli.engine.turn import Recorder
    from chatcli.protocol.messages import Message
    from chatcli.session.options import AskRequest
    from chatcli.tools import Approval, Ask, ToolOutcome, ToolSet
    from chatcli.tools.mcp import McpTools



def merged_tool_options(request: AskRequest, settings: Settings) -> AskRequest:
    """The request with the profile's tools first and the flags' added after them.

    ``--tools FILE`` replaces the profile's ``tools`` file (one file, like ``model``);
    a functions file named twice is loaded once.
    """
    return replace(
        request,
        tool_env=[*settings.tool_env, *request.tool_env],
        functions=_once([*settings.functions, *request.functions]),
        tool_cmds=[*settings.tool_cmds, *request.tool_cmds],
        approve=[*settings.approve, *request.approve],
        mcp=[*settings.mcp, *request.mcp],
        mcp_urls=[*settings.mcp_urls, *request.mcp_urls],
        tools=request.tools if request.tools is not None else settings.tools)


def keep_keys_from_tools(request: AskRequest, settings: Settings, env: Environment) -> None:
    """Before any tool runs: the variables holding API keys leave this process's environment
    (every tool process inherits it, and a model driving a shell-like tool could read them),
    but for those ``--tool-env`` (or a profile's ``tool_env``) names."""
    from chatcli.config import withhold_variables

    hidden = withhold_variables(settings.key_variables, keep=request.tool_env)
    if hidden and request.verbose:
        env.log(f"chatcli: note: tools do not see {', '.join(hidden)} (see --tool-env)")


def load_mcp(request: AskRequest, env: Environment) -> McpTools | None:
    """Start or reach the MCP servers asked for; None when there are none."""
    if not (request.mcp or request.mcp_urls):
        return None
    from chatcli.tools.mcp import load_mcp_tools

    errlog = server_log(env) if request.verbose else None
    return load_mcp_tools(request.mcp, request.mcp_urls, errlog=errlog)


def server_log(env: Environment) -> TextIO | None:
    """Where MCP servers' stderr goes with ``-v``: chatcli's stderr, through the guard when
    it is a terminal (a pipe and a thread that copies lines), else the stream itself."""
    if not env.stderr_is_terminal:
        raw = env.stderr.stream
        return raw if hasattr(raw, "fileno") else None
    import os
    import threading

    read_end, write_end = os.pipe()

    def copy() -> None:
        with open(read_end, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                env.stderr.write(line)
                env.stderr.flush()

    threading.Thread(target=copy, name="mcp server log", daemon=True).start()
    return open(write_end, "w", encoding="utf-8")


def _once(paths: Sequence[str]) -> list[str]:
    seen: set[Path] = set()
    kept = []
    for path in paths:
        key = Path(path).expanduser().resolve()
        if key not in seen:
            seen.add(key)
            kept.append(path)
    return kept


def toolset_for(request: AskRequest, fields: dict[str, Any],
                mcp_tools: McpTools | None = None) -> ToolSet:
    """Definitions from ``--tools`` plus the runnable ``--functions``, ``--tool-cmd``, MCP."""
    from chatcli.errors import UsageError
    from chatcli.tools import build_toolset

    if request.tool_timeout <= 0:
        raise UsageError("--tool-timeout must be more than 0 seconds")
    definitions = fields.pop("tools", None) or fields.pop("functions", None) or []
    toolset = build_toolset(definitions, request.functions, request.tool_cmds)
    for definition, tool in mcp_tools.entries if mcp_tools is not None else ():
        toolset.add(definition, tool, origin="MCP server")
    return toolset


def terminal_asker(env: Environment) -> Ask | None:
    """Ask on the terminal, even when stdin is a pipe; None where there is no terminal."""
    from chatcli.tools import ask_on_terminal

    streams = env.question_streams()
    return ask_on_terminal(*streams) if streams is not None else None


def announced(ask: Ask | None, request: AskRequest, settings: Settings,
              env: Environment) -> Ask | None:
    """``ask``, with the bell first when ``--notify``/``notify_after`` says so."""
    from chatcli.session.notify import notifier_for

    notifier = notifier_for(env, request.notify, settings.notify_after)
    if ask is None or notifier is None:
        return ask
    return notifier.asking(ask)


def approval_for(request: AskRequest, ask: Ask | None) -> Approval:
    """``--yes`` and ``--approve`` (the profile's ``approve`` merged in), else ``ask``."""
    from chatcli.tools import Approval

    return Approval(approve_all=request.yes, approved=request.approve, ask=ask)


def run_with_tools(request: AskRequest, env: Environment, client: ChatClient,
                   settings: Settings, messages: list[Message], fields: dict[str, Any],
                   toolset: ToolSet, recorder: Recorder | None,
                   approval: Approval | None = None, pinned: Sequence[Any] = ()) -> LoopResult:
    """Run the tool loop; in json mode print one object with every round's messages.

    ``approval`` lasts longer than one loop in the REPL; by default it asks on the terminal.
    Each round is fitted to the model's window as ``settings.context`` says (``compact``
    leaves turns out there: a summary in the middle of a tool loop would cost a request
    per round).
    """
    from chatcli.engine.tool_loop import converse
    from chatcli.render.json_modes import JsonRenderer

    if approval is None:
        approval = approval_for(request, announced(terminal_asker(env), request, settings,
                                                   env))
    from chatcli.session.extract import extracting

    extract = extracting(request)  # stdout waits for the last answer's code
    rich = not extract and (request.output == "rich"
                            or (request.output == "auto" and env.stdout_is_terminal))
    as_json = request.output == "json"

    def renderer() -> Any:
        made = make_renderer(request.output, request.reasoning, env,
                             choices=int(fields.get("n") or 1), model=settings.model,
                             extract=extract)
        if isinstance(made, JsonRenderer):
            made.final_only = True  # the whole loop is printed once, below
        return made

    loop = converse(client, settings, messages, fields, toolset, approval,
                    make_renderer=renderer, recorder=recorder,
                    on_outcome=outcome_shower(env, rich), max_rounds=request.max_tool_rounds,
                    timeout=request.tool_timeout, stream=request.stream,
                    max_result_bytes=request.max_tool_result_kb * 1024,
                    trace_id=request.trace_id, fit=_fitter(settings, client, env, pinned))
    if as_json:
        write_json(env.stdout, {**loop.last.completion, "messages": loop.messages})
    if loop.notice:
        env.warn(loop.notice)
    return loop


def _fitter(settings: Settings, client: ChatClient, env: Environment,
            pinned: Sequence[Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Each round's request fitted to the window; the loop's copies of pinned messages stay."""
    from chatcli.session.context_fit import fit_request, fitted_note

    said: set[str] = set()

    def fit(body: dict[str, Any]) -> dict[str, Any]:
        kept = [m for m in body.get("messages") or () if any(m == p for p in pinned)]
        fitted = fit_request(body, settings, settings.context, client=client, pinned=kept)
        note = fitted_note(fitted, str(body.get("model") or settings.model))
        if note and not said:  # once a loop: each round would say it again
            said.add(note)
            env.warn(note)
        return body if not fitted.left_out else {**body, "messages": fitted.messages}

    return fit


def outcome_shower(env: Environment, rich: bool) -> Callable[[ToolOutcome], None]:
    """How a tool's outcome is shown: a panel on a terminal, one stderr line otherwise."""
    from chatcli.render.tool_outcome import outcome_panel, plain_line

    if not rich:
        return lambda outcome: env.log(plain_line(outcome))
    from chatcli.render.console import terminal_console

    console = terminal_console(env.stdout)
    return lambda outcome: console.print(outcome_panel(outcome))
