"""What the secret scan reports, how a finding is shown, and how findings are cut out.

A ``Finding`` says where a suspected secret is (origin, line, column, offsets) and
carries a masked preview, never the secret itself, so it is safe to log or show.
``redact`` replaces each finding's span with ``[REDACTED:<kind>]``. Nothing here
scans text or asks anyone anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

# Every kind the scan reports, with the words a message uses for it.
KINDS: dict[str, str] = {
    "private-key": "a private key",
    "gcp-service-account": "a GCP service-account key",
    "aws-access-key": "an AWS access key id",
    "aws-secret-key": "an AWS secret key",
    "azure-storage-key": "an Azure storage account key",
    "azure-shared-access-key": "an Azure shared access key",
    "github-token": "a GitHub token",
    "slack-token": "a Slack token",
    "slack-webhook": "a Slack webhook URL",
    "openai-key": "an OpenAI-style API key",
    "anthropic-key": "an Anthropic API key",
    "stripe-key": "a Stripe live key",
    "npm-token": "an npm token",
    "pypi-token": "a PyPI token",
    "gitlab-token": "a GitLab token",
    "huggingface-token": "a Hugging Face token",
    "google-api-key": "a Google API key",
    "jwt": "a JSON Web Token",
    "authorization-header": "an Authorization header credential",
    "url-password": "a password in a URL",
    "password-assignment": "a password",
    "high-entropy-assignment": "a secret value",
}


@dataclass(frozen=True)
class Finding:
    """One suspected secret: ``text[start:end]`` of the scanned text from ``origin``.

    ``line`` and ``column`` are 1-based (columns count characters). For a value
    assigned to a key (``DB_PASSWORD=…``) the span is the value alone and ``name``
    is the key. ``preview`` shows a few leading characters and the length only.
    """

    kind: str
    origin: str
    line: int
    column: int
    start: int
    end: int
    preview: str
    name: str = ""

    @property
    def description(self) -> str:
        """The kind in words: ``an AWS secret key``."""
        return KINDS.get(self.kind, "a secret")


class Hit(NamedTuple):
    """A rule's raw match, before overlaps are settled: ``shown`` leading characters of
    the span may appear in the preview (a public prefix such as ``ghp_``)."""

    kind: str
    start: int
    end: int
    priority: int
    shown: int
    name: str = ""


def mask(secret: str, shown: int | None = None) -> str:
    """``ghp_… (40 chars)``: the public prefix, or at most four characters of a long
    value (none of a short one), and the length."""
    if shown is None:
        shown = min(4, len(secret) // 8)
    return f"{secret[:shown]}… ({len(secret)} chars)"


def redact(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with each finding's span replaced by ``[REDACTED:<kind>]``.

    ``findings`` must come from scanning this very text (one origin); a span that
    overlaps one already replaced is skipped, one outside the text is an error.
    """
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if not 0 <= finding.start < finding.end <= len(text):
            raise ValueError(f"finding {finding.start}:{finding.end} lies outside the text")
        if finding.start < position:
            continue
        parts.append(text[position:finding.start])
        parts.append(f"[REDACTED:{finding.kind}]")
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)
