"""The REPL's state (``chatcli chat``): a ``ChatSession`` and how one is opened.

``ChatSession`` holds the conversation, the request it would go out in, what
is queued for the next message, and what the history keeps; what a line does
is ``exchange`` (messages) and ``commands`` (slash commands), the keys and the
screen ``prompt``. Nothing here knows about keys or screens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chatcli.config import Settings
from chatcli.dotted import without
from chatcli.errors import ChatcliError
from chatcli.protocol.messages import ContentPart, Message, build_request
from chatcli.protocol.result import TurnResult
from chatcli.sanitize import is_safe, visible
from chatcli.session.continuation import CutAnswer, cut_answer
from chatcli.session.conversation import Resumed, continued, continued_settings, open_history
from chatcli.session.environment import Environment
from chatcli.session.fields import request_fields
from chatcli.session.options import AskRequest
from chatcli.session.outgoing import Piece, SecretPolicy
from chatcli.session.templates import resolve

if TYPE_CHECKING:
    from chatcli.endpoint.client import ChatClient
    from chatcli.history import ConversationRecorder, HistoryStore, StoredMessage
    from chatcli.repl.tools import ReplTools
    from chatcli.session.budget import Budget
    from chatcli.session.inputs import Gathered
    from chatcli.session.known_model import KnownModel
    from chatcli.session.notify import Notifier



@dataclass
class ChatSession:
    """What the REPL remembers between lines."""

    settings: Settings
    client: ChatClient
    env: Environment
    fields: dict[str, Any] = field(default_factory=dict)
    messages: list[Any] = field(default_factory=list)
    store: HistoryStore | None = None
    recorder: ConversationRecorder | None = None  # None without history
    output: str = "auto"
    reasoning: str = "auto"
    stream: bool = True
    show_usage: bool = False
    verbose: bool = False  # -v: the notes about each answer too
    unsaved_said: bool = False  # the warning that the history stopped saving was given
    trace_id: str | None = None
    max_bytes: int = 20 * 1_048_576
    image_detail: str | None = None
    queued_text: list[Piece] = field(default_factory=list)  # piped text, /attach, -f files
    queued_parts: list[ContentPart] = field(default_factory=list)
    queued_sources: list[str] = field(default_factory=list)  # what each -f was, for history
    secrets: SecretPolicy = field(default_factory=SecretPolicy)
    pending_input: str = ""  # a line the secret check kept back: the next prompt's text
    editing: int | None = None  # /edit N: the user message the next one sent replaces
    audio_out: str | None = None  # --audio-out: each spoken answer is written there
    notifier: Notifier | None = None  # --notify / notify_after: the bell for answers
    removed: list[list[str]] = field(default_factory=list)  # /unset keys the profile sets
    replies: list[tuple[Any, str, Any]] = field(default_factory=list)  # message, status, usage
    summarised: list[tuple[Any, str, Any]] = field(default_factory=list)  # replies compacted
    models: list[str] | None = field(default=None, repr=False)
    models_fetch: Any = field(default=None, repr=False)  # the thread asking for them
    last_reply: TurnResult | None = field(default=None, repr=False)
    tools: ReplTools | None = None  # None: no tool runs here, and every exchange is one turn
    sent: list[Message] | None = field(default=None, repr=False)  # the last request's messages
    turns: list[TurnResult] = field(default_factory=list, repr=False)  # this exchange's
    template: str | None = None  # -T or /template: the template in use
    template_prompt: str | None = None  # its prompt, which each message goes into
    known_models: dict[str, KnownModel] = field(default_factory=dict, repr=False)
    asked_models: set[str] = field(default_factory=set, repr=False)  # the endpoint was asked
    budget: Budget | None = None  # budget_daily, budget_monthly, --max-cost (the session's)
    context_policy: str = "truncate"  # over the window: truncate, compact, error (/context-policy)
    pinned: list[Any] = field(default_factory=list)  # messages fitting never leaves out
    cut: CutAnswer | None = None  # the last answer, if it was cut off (/continue)

    def body(self) -> dict[str, Any]:
        """The request the conversation would go out in now."""
        return self.body_with()

    def body_with(self, *messages: Message) -> dict[str, Any]:
        """The request, with ``messages`` after the conversation (not added to it)."""
        body = build_request(self.settings, [*self.messages, *messages], self.fields,
                             stream=self.stream)
        for path in self.removed:
            body = without(body, path)
        return body

    @property
    def model(self) -> str:
        return str(self.body().get("model", ""))

    @property
    def conversation_id(self) -> str | None:
        return self.recorder.conversation_id if self.recorder is not None else None

    def usage_totals(self) -> tuple[int, int, int, int]:
        """Prompt, completion and total tokens of the answers in the conversation, and how
        many answers reported them."""
        prompt = completion = total = counted = 0
        for _, _, usage in [*self.summarised, *self._replies_here()]:
            if isinstance(usage, dict):
                p, c = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
                prompt, completion, counted = prompt + p, completion + c, counted + 1
                total += usage.get("total_tokens") or p + c
        return prompt, completion, total, counted

    def known(self, *, ask: bool = False) -> KnownModel:
        """The model's window and prices: from the config and the cache, kept for the
        session (``ask``: the endpoint may be asked, once, for what they leave unknown)."""
        from chatcli.session.known_model import known_model

        model = self.model
        found = self.known_models.get(model)
        asking = ask and model not in self.asked_models
        if found is None or (asking and not found.priced):
            found = known_model(self.settings, model, client=self.client if asking else None)
            self.known_models[model] = found
        if asking:
            self.asked_models.add(model)
        return found

    def message_size(self, message: Mapping[str, Any]) -> int:
        """About how many tokens a message takes: an answer's own count where the server
        reported it, else by the model's vocabulary (``tokenizer``) or the estimate."""
        from chatcli.session.token_estimate import MESSAGE_OVERHEAD, message_tokens

        for reply, _, usage in self.replies:
            if reply is message and isinstance(usage, dict):
                count = usage.get("completion_tokens")
                if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                    return count + MESSAGE_OVERHEAD
        if self.settings.tokenizer == "tiktoken":
            from chatcli.session.tokenizer import text_counter

            counter = text_counter(str(self.fields.get("model") or self.settings.model))[0]
            if counter is not None:
                return message_tokens(message, counter)
        return message_tokens(message)

    def cost_so_far(self, *, ask: bool = False) -> float | None:
        """USD for the answers in the conversation, at the current model's prices."""
        from chatcli.session.cost import cost_of

        known = self.known(ask=ask)
        if not known.priced:
            return None
        costs = [cost_of(usage, known.facts)
                 for _, _, usage in [*self.summarised, *self._replies_here()]]
        return sum(cost.total for cost in costs if cost is not None)

    def _replies_here(self) -> list[tuple[Any, str, Any]]:
        """The replies still in the conversation (not taken back by /undo, say)."""
        return [r for r in self.replies if any(r[0] is m for m in self.messages)]

    def context_used(self) -> int | None:
        """Tokens the last answer's request and reply took of the window (its usage)."""
        for message, _, usage in reversed(self.replies):
            if isinstance(usage, dict) and any(message is m for m in self.messages):
                total = usage.get("total_tokens") or (
                    (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0))
                return int(total) if isinstance(total, int) else None
        return None

    def toolbar(self) -> str:
        """The bottom toolbar: profile, model, conversation id, tokens so far, how full the
        window is and the cost so far (when the window and prices are known)."""
        from chatcli.session.cost import dollars

        parts = [self.settings.profile or "default", self.model,
                 self.conversation_id or "new conversation", f"{self.usage_totals()[2]} tokens"]
        window, used = self.known().context_window, self.context_used()
        if window and used is not None:
            parts.append(f"context {used}/{window} ({used * 100 // window}%)")
        cost = self.cost_so_far()
        if cost is not None:
            parts.append(dollars(cost))
        return visible(" " + " · ".join(parts) + " ")

    def model_names(self) -> list[str]:
        """Model ids from GET /models, fetched on first need and kept for the session."""
        if self.models is None:
            try:
                data = self.client.list_models()
            except ChatcliError:
                return []  # completion stays quiet; a later TAB asks again
            # An id a terminal would obey (or that would disguise itself) is never offered.
            self.models = sorted(str(e["id"]) for e in data.get("data") or []
                                 if isinstance(e, dict) and "id" in e and is_safe(str(e["id"])))
        return self.models

    def model_names_now(self) -> list[str]:
        """The model ids known now, for a keystroke that must not wait on the network: the
        first asks for them on a thread of its own, and a later keystroke offers them."""
        if self.models is None and self.models_fetch is None:
            import threading

            self.models_fetch = threading.Thread(target=self._fetch_models, daemon=True,
                                                 name="models")
            self.models_fetch.start()
        return self.models or []

    def _fetch_models(self) -> None:
        if not self.model_names():
            self.models_fetch = None  # none came: a later keystroke may ask again

    def use_model(self, name: str) -> None:
        """Switch the model; an alias names the model it stands for."""
        model = self.settings.aliases.get(name, name)
        self.settings = replace(self.settings, model=model,
                                model_alias=name if model != name else None)
        self.fields.pop("model", None)  # -o model=… would hide the choice
        self.removed = [p for p in self.removed if p != ["model"]]

    def set_system(self, text: str) -> None:
        """The system message, first in the conversation; stored as it will be sent."""
        system: Message = {"role": "system", "content": text}
        if self.messages and self.messages[0].get("role") == "system":
            self.messages[0] = system
        else:
            self.messages.insert(0, system)
        if self.recorder is not None:
            self.recorder.put_system(system)
            self.say_if_not_saved()

    def say(self, text: str) -> None:
        self.env.stdout.write(text + "\n")
        self.env.stdout.flush()

    def error(self, text: str) -> None:
        self.env.stderr.write(f"chatcli: error: {text}\n")
        self.env.stderr.flush()

    def take_pending(self) -> str:
        """The line to show in the next prompt (empty but after a held-back message)."""
        line, self.pending_input = self.pending_input, ""
        return line

    def say_if_not_saved(self) -> None:
        """Once, when the history stopped taking this conversation (a full disk, say)."""
        failed = self.recorder.failed if self.recorder is not None else None
        if failed is not None and not self.unsaved_said:
            self.unsaved_said = True
            self.env.warn(f"the history is not saving this conversation: {failed.describe()}")

    # turn.Recorder: the session passes both on to the history, keeping the reply.
    def record_request(self, messages: Sequence[Message], body: Mapping[str, Any]) -> None:
        self.sent = list(messages)
        if self.recorder is not None:
            self.recorder.record_request(messages, body)

    def record_reply(self, result: TurnResult) -> None:
        self.last_reply = result
        self.turns.append(result)
        if self.recorder is not None:
            self.recorder.record_reply(result)

    def switch_to(self, conversation_id: str, stored: list[StoredMessage], *,
                  fork: bool = False, name: str | None = None) -> None:
        """Go on with a stored conversation from its last message (``fork``: in a copy)."""
        self.messages = [s.message for s in stored]
        self.replies = [(s.message, s.status, s.usage) for s in stored
                        if s.message.get("role") == "assistant"]
        self.summarised = []
        last = stored[-1] if stored else None
        self.cut = None if last is None else cut_answer(
            last.message, finish_reason=last.finish_reason, status=last.status,
            usage=last.usage, duration=last.duration)
        self.recorder = Resumed(self.store, conversation_id, self.messages, fork=fork,
                                name=name, rows=[s.rows for s in stored]).recorder(self.settings)
        if fork and self.recorder is not None:
            self.recorder.fork_now()
            self.say_if_not_saved()


@contextmanager
def open_session(request: AskRequest, env: Environment, piped: str = "") -> Iterator[ChatSession]:
    """A session as the command line sets it up: every input is read and checked now,
    as ``ask`` does, and waits for the first message; the client and the history close
    when the block ends."""
    from chatcli.repl.tools import tools_for
    from chatcli.session.inputs import gather
    from chatcli.session.tooling import merged_tool_options

    request, settings, template = resolve(request, env)
    resumed = continued(settings, env, request)
    tools = None
    try:
        settings = continued_settings(settings, env, request.flags, resumed.conversation,
                                      template)
        fields = request_fields(merged_tool_options(request, settings))
        tools = tools_for(request, settings, fields, env)
        policy = _secret_policy(request, settings, env)
        gathered = gather(request, env, policy, piped=piped, prompt=False,
                          settings=settings)
        if resumed.store is None:  # refused input touches no history
            resumed = open_history(settings, env, wanted=request.history, name=request.name)
        with _opened(request, env, settings, fields, tools, policy, gathered,
                     resumed) as session:
            yield session
    finally:
        if tools is not None:
            tools.close()
        if resumed.store is not None:
            resumed.store.close()


@contextmanager
def _opened(request: AskRequest, env: Environment, settings: Settings, fields: dict[str, Any],
            tools: ReplTools | None, policy: SecretPolicy, gathered: Gathered,
            resumed: Resumed) -> Iterator[ChatSession]:
    from chatcli.session.connect import open_client
    from chatcli.session.notify import notifier_for

    max_bytes = int(request.max_attachment_mb * 1_048_576)
    queued = [Piece("the command line", gathered.text, checked=True)] if gathered.text else []
    with open_client(env, settings, headers=request.headers, verbose=request.verbose,
                     ca_bundle=request.ca_bundle, insecure=request.insecure,
                     strict=request.strict_params, thinking=request.thinking) as client:
        session = ChatSession(
            settings, client, env, fields=fields, store=resumed.store,
            recorder=resumed.recorder(settings), output=request.output,
            reasoning=request.reasoning, stream=request.stream, show_usage=request.usage,
            verbose=request.verbose,
            trace_id=request.trace_id, max_bytes=max_bytes, image_detail=request.image_detail,
            queued_text=queued, queued_parts=gathered.parts, tools=tools, secrets=policy,
            queued_sources=list(gathered.sources),
            audio_out=request.audio_out, template=request.template,
            template_prompt=request.template_prompt,
            notifier=notifier_for(env, request.notify, settings.notify_after))
        from chatcli.session.budget import Budget

        session.context_policy = settings.context
        if Budget.wanted(settings, request.max_cost):
            session.budget = Budget(settings, env, resumed.store, request.max_cost, session=True)
        if session.notifier is not None and tools is not None and tools.approval.ask:
            session.notifier.announce_questions(tools.approval)  # the bell before a tool question
        if resumed.store is not None and resumed.conversation_id is not None:
            cid = resumed.conversation_id
            session.switch_to(cid, resumed.store.messages(cid), fork=resumed.fork,
                              name=resumed.name)
        session.messages.extend(gathered.opening)
        yield session


def _secret_policy(request: AskRequest, settings: Settings, env: Environment) -> SecretPolicy:
    """The secret check of this session: it asks on the REPL's own terminal."""
    ask = None
    if env.stdin is not None and env.stdin_is_terminal:
        from chatcli.secrets import ask_on_terminal

        ask = ask_on_terminal(env.stdin, env.stdout)
    return SecretPolicy(settings.secret_scan, request.allow_secrets, request.redact_secrets, ask)
