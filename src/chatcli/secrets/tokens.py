"""Rules for credentials with a recognisable shape: key blocks, vendor tokens, JWTs, URLs.

Each rule is a literal-prefixed regex, then checks on its few matches in Python
(placeholders, randomness, a JWT header that decodes). Loaded only when the
pre-filter hits. Nothing here reads key=value assignments (``assignments``) or
settles overlapping matches (``detect``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator

from chatcli.secrets.finding import Hit
from chatcli.secrets.values import entropy, is_placeholder, is_template, looks_random

# Priorities: where matches overlap, the higher one is kept.
EXACT, SHAPED, CONTEXT = 4, 3, 2

# Each pattern starts with a literal (the engine skips ahead to it in C), then checks
# the character before it (``(?<!…)``: no match starts inside a longer word, so a run
# of prefixes costs one pass), then reads its body possessively (``++``: no
# backtracking). Together they keep every rule linear in the text.
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?"
                        r"PRIVATE KEY(?: BLOCK)?)-----")
_PEM_LINE = re.compile(r"(?:\r?\n|\\n)[ \t]*(?:[A-Za-z0-9+/=]{4,}+|[A-Za-z][A-Za-z-]*: [^\n\\]*+)"
                       r"[ \t]*(?=\r?\n|\\n|\Z|[\"'])")
_PEM_HEADER_LINE = re.compile(r"(?m)^[ \t]*[A-Za-z][A-Za-z-]*:[^\n]*$|\\n[A-Za-z][A-Za-z-]*: "
                              r"[^\\\n]*(?=\\n)")
_PEM_NOISE = re.compile(r"\\[nr]|\s")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]")
_GCP_KEY = re.compile(r"\"private_key\"\s*+:\s*+\"((?:[^\"\\\n]|\\.){0,16384}+)\"")
_AWS_ID = re.compile(r"A(?:KIA|SIA|BIA|CCA)(?<![A-Za-z0-9]A...)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AZURE = (re.compile(r"(AccountKey)=([A-Za-z0-9+/]{40,100}+={0,2})"),
          re.compile(r"(SharedAccessKey)=([A-Za-z0-9+/]{40,100}+={0,2})"))
_GITHUB = re.compile(r"gh[pousr]_(?<![A-Za-z0-9_]....)[A-Za-z0-9]{36,251}+(?![A-Za-z0-9_])")
_GITHUB_PAT = re.compile(r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{60,251}+"
                         r"(?![A-Za-z0-9_])")
_SLACK = re.compile(r"xox[abposre]-(?<![0-9A-Za-z_-].....)[0-9A-Za-z-]{15,250}+"
                    r"(?![0-9A-Za-z_-])")
_SLACK_APP = re.compile(r"xapp-(?<![0-9A-Za-z_-].....)[0-9]-[0-9A-Za-z-]{20,250}+"
                        r"(?![0-9A-Za-z_-])")
_SLACK_HOOK = re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
                         r"[A-Za-z0-9_/-]{20,300}+")
_SK = re.compile(r"sk-(?<![A-Za-z0-9_-]sk-)[A-Za-z0-9_-]{20,400}+(?![A-Za-z0-9_-])")
_VENDORS = (
    ("npm-token", re.compile(r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])"), 4),
    ("pypi-token", re.compile(r"pypi-AgE(?<![A-Za-z0-9_-]pypi-AgE)[A-Za-z0-9_-]{50,1000}+"), 8),
    ("gitlab-token", re.compile(r"glpat-(?<![A-Za-z0-9_-]glpat-)[A-Za-z0-9_-]{20,50}+"
                                r"(?![A-Za-z0-9_-])"), 6),
    ("huggingface-token", re.compile(r"hf_(?<![A-Za-z0-9_]hf_)[A-Za-z]{34,40}+"
                                     r"(?![A-Za-z0-9_])"), 3),
    ("google-api-key", re.compile(r"AIza(?<![A-Za-z0-9_-]AIza)[A-Za-z0-9_-]{35}"
                                  r"(?![A-Za-z0-9_-])"), 4),
)
_ANTHROPIC_PREFIX = re.compile(r"sk-ant-[a-z0-9]{2,12}-")
_OPENAI_PREFIX = re.compile(r"sk-(?:proj|svcacct|admin|None)-")
_STRIPE = re.compile(r"k_live_(?<![A-Za-z0-9_][rs]k_live_)(?<=[rs]k_live_)[A-Za-z0-9]{20,250}+"
                     r"(?![A-Za-z0-9_])")
_JWT = re.compile(r"eyJ(?<![A-Za-z0-9_.-]eyJ)[A-Za-z0-9_-]{5,4093}+\.[A-Za-z0-9_-]{8,65536}+\."
                  r"[A-Za-z0-9_-]{16,4096}+(?![A-Za-z0-9_.-])")
_URL_PASSWORD = re.compile(r"://([^\s/?#@:\"'<>]{0,128}+):([^\s/?#@:\"'<>]{1,256}+)@"
                           r"(?=[A-Za-z0-9\[])")
_DOC_HOSTS = ("example.", "www.example.", "host.example", "db.example")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{1,30}\Z")
def private_keys(text: str) -> Iterator[Hit]:
    """PEM private key blocks (RSA, EC, DSA, OPENSSH, PKCS#8, encrypted, PGP), the whole
    block one hit; also with ``\\n`` escapes (a JSON string) or without the END line."""
    position = 0
    ends: dict[str, int] = {}  # label -> its next END marker (-1: none left); kept, so
    begins = 0                 # each search moves on and the whole rule stays linear
    while (match := _PEM_BEGIN.search(text, position)) is not None:
        marker = f"-----END {match.group(1)}-----"
        close = ends.get(marker, 0)
        if 0 <= close < match.end():
            close = ends[marker] = text.find(marker, match.end())
        if 0 <= begins < match.end():
            begins = text.find("-----BEGIN ", match.end())
        limit = min(match.end() + 65536, len(text) if begins < 0 else begins)
        if 0 <= close < limit:
            body, end = text[match.end():close], close + len(marker)
        else:  # cut short: the block runs on while lines look like base64 or headers
            end = match.end()
            while (line := _PEM_LINE.match(text, end, limit)) is not None:
                end = line.end()
            body = text[match.end():end]
        position = max(end, match.end())
        if _pem_body_ok(body):
            yield Hit("private-key", match.start(), end, EXACT, match.end() - match.start())


def _pem_body_ok(body: str) -> bool:
    """At least 64 base64 characters, next to nothing else, and no ``...`` stand-in."""
    if "..." in body or "…" in body or "<" in body:
        return False
    payload = _PEM_NOISE.sub("", _PEM_HEADER_LINE.sub("", body))
    base64_chars = len(_BASE64.findall(payload))
    return base64_chars >= 64 and base64_chars >= 0.95 * len(payload)


def gcp_service_accounts(text: str) -> Iterator[Hit]:
    """The ``"private_key"`` string of a service-account JSON: a PEM key in one line."""
    for match in _GCP_KEY.finditer(text):
        start, end = match.span(1)
        for block in private_keys(text[start:end]):
            yield Hit("gcp-service-account", start, end, EXACT + 1, block.shown)
            break


def aws_access_keys(text: str) -> Iterator[Hit]:
    """AWS access key ids: ``AKIA`` (long-term), ``ASIA`` (temporary), ``ABIA``, ``ACCA``."""
    for match in _AWS_ID.finditer(text):
        if not _fake(match.group()[4:]):
            yield Hit("aws-access-key", match.start(), match.end(), EXACT, 4)


def azure_keys(text: str) -> Iterator[Hit]:
    """``AccountKey=`` (storage) and ``SharedAccessKey=`` (Service Bus, Event Hubs) in a
    connection string: the key alone is the hit."""
    for match in (m for pattern in _AZURE for m in pattern.finditer(text)):
        value = match.group(2)
        if _fake(value) or not looks_random(value, 40):
            continue
        kind = "azure-storage-key" if match.group(1) == "AccountKey" else "azure-shared-access-key"
        yield Hit(kind, match.start(2), match.end(2), SHAPED, 4, match.group(1))


def github_tokens(text: str) -> Iterator[Hit]:
    """GitHub tokens: ``ghp_`` (classic), ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``,
    ``github_pat_`` (fine-grained)."""
    for pattern, shown in ((_GITHUB, 4), (_GITHUB_PAT, 11)):
        for match in pattern.finditer(text):
            if _vendor_body(match.group()[shown:]):
                yield Hit("github-token", match.start(), match.end(), EXACT, shown)


def slack_tokens(text: str) -> Iterator[Hit]:
    """Slack tokens (``xoxb-``, ``xoxp-``, ``xoxa-``, ``xoxr-``, ``xoxs-``, ``xoxe-``,
    ``xapp-``) and incoming-webhook URLs."""
    for pattern in (_SLACK, _SLACK_APP):
        for match in pattern.finditer(text):
            body = match.group()[5:]
            if _vendor_body(body) and any(ch.isdigit() for ch in body):
                yield Hit("slack-token", match.start(), match.end(), EXACT, 5)
    for match in _SLACK_HOOK.finditer(text):
        secret = match.group().rsplit("/", 1)[-1]
        if not _fake(secret) and looks_random(secret, 16):
            shown = match.group().index("/", len("https://hooks.slack.com/")) + 1
            yield Hit("slack-webhook", match.start(), match.end(), EXACT, shown)


def sk_keys(text: str) -> Iterator[Hit]:
    """``sk-…`` API keys: Anthropic (``sk-ant-api03-…``) and OpenAI-style (``sk-proj-…``,
    ``sk-svcacct-…``, plain ``sk-…``, as many compatible gateways issue)."""
    for match in _SK.finditer(text):
        start, key = match.start(), match.group()
        anthropic = _ANTHROPIC_PREFIX.match(key)
        if key.startswith("sk-ant-"):
            if anthropic and _plausible(key[anthropic.end():]):
                yield Hit("anthropic-key", start, match.end(), EXACT, anthropic.end())
            continue
        named = _OPENAI_PREFIX.match(key)
        shown = named.end() if named else 3
        if _plausible(key[shown:]):
            yield Hit("openai-key", start, match.end(), EXACT, shown)


def stripe_keys(text: str) -> Iterator[Hit]:
    """Stripe live secret and restricted keys (``sk_live_``, ``rk_live_``); test keys are
    left alone."""
    for match in _STRIPE.finditer(text):
        if _vendor_body(match.group()[7:]):
            yield Hit("stripe-key", match.start() - 1, match.end(), EXACT, 8)


def other_vendor_tokens(text: str) -> Iterator[Hit]:
    """Tokens a developer pastes often: npm (``npm_``), PyPI (``pypi-AgE…``), GitLab
    (``glpat-``), Hugging Face (``hf_``) and Google API keys (``AIza``)."""
    for kind, pattern, shown in _VENDORS:
        for match in pattern.finditer(text):
            if _vendor_body(match.group()[shown:]):
                yield Hit(kind, match.start(), match.end(), EXACT, shown)


def jwts(text: str) -> Iterator[Hit]:
    """JSON Web Tokens: three base64url parts whose header decodes to JSON with ``alg``."""
    for match in _JWT.finditer(text):
        if _jwt_header(match.group()):
            yield Hit("jwt", match.start(), match.end(), SHAPED, 3)


def _jwt_header(token: str) -> bool:
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def url_passwords(text: str) -> Iterator[Hit]:
    """The password in a URL's userinfo (``postgres://app:password@db/x``): the password
    alone is the hit, so redaction keeps the user and host."""
    for match in _URL_PASSWORD.finditer(text):
        if not _SCHEME.search(text, max(0, match.start() - 31), match.start()):
            continue
        password = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), match.group(2))
        if len(password) < 4 or is_placeholder(password) or is_template(password):
            continue
        if password == match.group(1) or any(ch.isspace() for ch in password):
            continue
        if text.startswith(_DOC_HOSTS, match.end()):  # ``user:pw@example.com``: a doc's
            continue
        yield Hit("url-password", match.start(2), match.end(2), CONTEXT, 0)


def _fake(value: str) -> bool:
    """A vendor-shaped stand-in: ``EXAMPLE``, ``xxxx``, one character repeated."""
    return is_placeholder(value) or "EXAMPLE" in value.upper()


def _vendor_body(body: str) -> bool:
    """The random part after a vendor's own prefix (``ghp_``, ``xoxb-``, ``sk_live_``): the
    prefix and length already say what it is, so only stand-ins are turned away."""
    return not _fake(body) and entropy(body) >= 3.0


def _plausible(body: str) -> bool:
    """The random part of a prefixed key: long, mixed, random-looking, not a stand-in."""
    return len(body) >= 20 and not _fake(body) and looks_random(body, 20)


RULES: tuple[Callable[[str], Iterator[Hit]], ...] = (
    private_keys, gcp_service_accounts, aws_access_keys, azure_keys, github_tokens,
    slack_tokens, sk_keys, stripe_keys, other_vendor_tokens, jwts, url_passwords,
)
