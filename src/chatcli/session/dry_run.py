"""``--dry-run``: the request exactly as it would go out, and nothing sent or stored.

The body is the one the client would send first (profiles, fields, attachments, the
thinking switch, the fields this endpoint refused before), printed as JSON on
stdout; the method, URL and headers, credentials redacted, go to stderr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatcli.output_guard import write_json
from chatcli.sanitize import without_userinfo
from chatcli.session.environment import Environment

if TYPE_CHECKING:
    from chatcli.endpoint.client import ChatClient


def show_request(client: ChatClient, body: Mapping[str, Any], env: Environment,
                 trace_id: str | None) -> None:
    from chatcli.endpoint.client import new_trace_id

    sent = client.prepared(body)
    env.log(f"POST {without_userinfo(client.settings.chat_url)}")
    for name, value in client.request_headers(trace_id or new_trace_id()).items():
        env.log(f"{name}: {value}")
    if client.thinking_unasked():
        env.log("chatcli: note: the server was not asked which thinking style it reads;"
                " this is the style the model's name implies (thinking_style settles it)")
    write_json(env.stdout, sent)
