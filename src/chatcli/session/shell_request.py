"""What ``chatcli cmd`` sends first: its settings, the messages and the request fields.

The shell system prompt comes first, a template's system text (``-T``) after it, so
the template adds to the rules for a command rather than replacing them; the
template's prompt wraps the description (and stdin). What the user gave is checked
for credentials, as ``ask`` checks it, before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError
from chatcli.protocol.messages import Message
from chatcli.session.outgoing import Piece, SecretPolicy, check, terminal_policy
from chatcli.session.shell_prompt import system_of, system_prompt

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.session.environment import Environment

MAX_CONTEXT = 20 * 1_048_576


@dataclass
class CmdRequest:
    """What ``chatcli cmd`` was asked, as plain values."""

    description: list[str]
    shell: str | None = None
    yes: bool = False
    interaction: bool = True
    dry_run: bool = False
    history: bool = True
    template: str | None = None  # -T NAME
    params: list[tuple[str, str]] = field(default_factory=list)  # -p NAME VALUE
    allow_secrets: bool = False
    redact_secrets: bool = False
    headers: list[str] = field(default_factory=list)
    verbose: bool = False
    trace_id: str | None = None
    ca_bundle: str | None = None
    insecure: bool = False
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Opening:
    """The first request's parts, and the secret policy later revisions are checked with."""

    settings: Settings
    messages: list[Message]
    fields: dict[str, Any]
    policy: SecretPolicy


def opening(request: CmdRequest, env: Environment, shell: str) -> Opening:
    """Settings, messages and fields for the first command; a usage error (no description,
    a template variable without a value, a credential refused) before anything is sent."""
    system_extra, prompt, fields = None, None, {}
    if request.template is not None:
        from chatcli.session.templates import for_command

        applied = for_command(request.template, request.params, request.flags, env)
        settings, system_extra, prompt, fields = (applied.settings, applied.system,
                                                  applied.prompt, applied.fields)
        if applied.left_out:
            env.warn(f"template {applied.name}: cmd does not apply"
                     f" {', '.join(applied.left_out)}")
    elif request.params:
        raise UsageError("-p/--param fills a template's variables; name the template with"
                         " -T NAME")
    else:
        settings = env.settings(request.flags)
    description = " ".join(request.description).strip()
    context = "" if env.stdin_is_terminal else env.read_stdin(MAX_CONTEXT)
    if not description:
        raise UsageError("say what the command should do: chatcli cmd 'list the ten largest"
                         " files here'")
    policy = terminal_policy(env, settings.secret_scan, allow=request.allow_secrets,
                             redact=request.redact_secrets)
    pieces = {"description": Piece("the description", description)}
    if context.strip():
        pieces["stdin"] = Piece("stdin", context)
    if prompt is not None:
        pieces["prompt"] = Piece(f"template {request.template}", prompt)
    if system_extra:
        pieces["system"] = Piece(f"template {request.template}", system_extra)
    sent = dict(zip(pieces, checked(list(pieces.values()), policy, env), strict=True))
    user = sent["description"]
    if "stdin" in sent:
        user = f"{user}\n\nContext (from stdin):\n{sent['stdin']}"
    if "prompt" in sent:
        from chatcli.config.templates import with_input

        user = with_input(sent["prompt"], user)
    system = system_prompt(shell, system_of())
    if "system" in sent:
        system = f"{system}\n\n{sent['system']}"
    messages: list[Message] = [{"role": "system", "content": system},
                               {"role": "user", "content": user}]
    return Opening(settings, messages, fields, policy)


def checked(pieces: list[Piece], policy: SecretPolicy, env: Environment) -> list[str]:
    """The texts to send, redacted where the policy says; refused ones raise UsageError."""
    sent, note = check(pieces, policy)
    if note:
        env.warn(note)
    return [piece.text for piece in sent]
