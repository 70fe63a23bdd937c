"""The secret scan: every rule found where it is and nowhere else, the pre-filter and its
lazy rules, redaction, the decision table and the terminal question (injected streams).

Fake secrets are made at run time from a seeded random generator and concatenated
prefixes, so this file holds no literal that looks like a live key.
"""

from __future__ import annotations

import base64
import io
import json
import random
import string
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatcli.errors import UsageError
from chatcli.secrets import (
    KINDS,
    SECRET_SCAN_MODES,
    Action,
    Ask,
    Decision,
    Finding,
    Override,
    SecretScanMode,
    ask_on_terminal,
    decide,
    describe,
    might_contain_secrets,
    needs_scan,
    override_from_flags,
    redact,
    refusal,
    scan,
    summary,
)
from chatcli.secrets.assignments import key_kind
from chatcli.secrets.detect import settle
from chatcli.secrets.finding import Hit, mask
from chatcli.secrets.values import entropy, is_placeholder, looks_random

ROOT = Path(__file__).resolve().parent.parent
RNG = random.Random(20240611)
B62 = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


@pytest.fixture(autouse=True)
def _seeded(request: pytest.FixtureRequest) -> None:
    """Each test draws the same fake secrets however the run is selected or ordered."""
    RNG.seed(request.node.name)


def rand(size: int, alphabet: str = B62) -> str:
    """``size`` random characters: a stand-in for a key's random part."""
    return "".join(RNG.choice(alphabet) for _ in range(size))


def b64(size: int) -> str:
    return base64.b64encode(bytes(RNG.randrange(256) for _ in range(size))).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pem(label: str, size: int = 600, end: bool = True) -> str:
    body = b64(size)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    tail = [f"-----END {label}-----"] if end else []
    return "\n".join([f"-----BEGIN {label}-----", *lines, *tail])


def jwt(header: dict[str, str] | None = None) -> str:
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "8812", "name": "Ada", "iat": 1716200000}).encode())
    return f"{head}.{payload}.{rand(43, B62 + '_-')}"


def gh(prefix: str) -> str:
    return "gh" + prefix + "_" + rand(36)


def slack(prefix: str) -> str:
    return ("xo" + "x" + prefix + "-" + rand(12, string.digits) + "-" + rand(13, string.digits)
            + "-" + rand(24))


def aws_id(prefix: str = "AKIA") -> str:
    return prefix[:2] + prefix[2:] + rand(16, string.ascii_uppercase + "234567")


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def place(text: str, start: int) -> tuple[int, int]:
    """1-based line and column of ``start``."""
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


SERVICE_ACCOUNT_KEY = pem("PRIVATE KEY") + "\n"
PRIVATE_KEY_ESCAPED = pem("PRIVATE KEY").replace("\n", "\\n")

# (what, text before, the secret, text after, kind): each found exactly once, just there.
POSITIVE: list[tuple[str, str, str, str, str]] = [
    ("rsa", "key file:\n", pem("RSA PRIVATE KEY"), "\n", "private-key"),
    ("ec", "", pem("EC PRIVATE KEY", 120), "", "private-key"),
    ("dsa", "# old\n", pem("DSA PRIVATE KEY", 400), "\n", "private-key"),
    ("openssh", "$ cat ~/.ssh/id_ed25519\n", pem("OPENSSH PRIVATE KEY", 300), "\n$ ",
     "private-key"),
    ("pkcs8", "", pem("PRIVATE KEY"), "\n", "private-key"),
    ("encrypted", "", pem("ENCRYPTED PRIVATE KEY"), "\n", "private-key"),
    ("pgp", "", pem("PGP PRIVATE KEY BLOCK"), "\n", "private-key"),
    ("rsa with headers", "",
     "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"
     + rand(32, HEX).upper() + "\n\n" + pem("RSA PRIVATE KEY").split("\n", 1)[1], "\n",
     "private-key"),
    ("pem cut short", "pasted:\n", pem("RSA PRIVATE KEY", end=False), "\n", "private-key"),
    ("pem in a JSON string", '{"key": "', PRIVATE_KEY_ESCAPED, '"}', "private-key"),
    ("gcp service account",
     '{\n  "type": "service_account",\n  "project_id": "demo-123",\n  "private_key_id": "'
     + rand(40, HEX) + '",\n  "private_key": "', SERVICE_ACCOUNT_KEY.replace("\n", "\\n"),
     '",\n  "client_email": "ci@demo-123.iam.gserviceaccount.com"\n}\n',
     "gcp-service-account"),
    ("aws id", "aws_access_key_id = ", aws_id(), "\n", "aws-access-key"),
    ("aws temporary id", "creds: ", aws_id("ASIA"), " expires soon", "aws-access-key"),
    ("aws secret dotenv", "AWS_SECRET_ACCESS_KEY=", rand(40, B62 + "/+"), "\n",
     "aws-secret-key"),
    ("aws secret ini", "[default]\naws_secret_access_key = ", rand(40, B62 + "/+"), "\n",
     "aws-secret-key"),
    ("aws secret sts json", '{"Credentials": {"SecretAccessKey": "', rand(40, B62 + "/+"),
     '"}}', "aws-secret-key"),
    ("azure storage", "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=", b64(64),
     ";EndpointSuffix=core.windows.net", "azure-storage-key"),
    ("azure service bus", "Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=Root;"
     "SharedAccessKey=", b64(32), "", "azure-shared-access-key"),
    ("github classic", "token: ", gh("p"), "\n", "github-token"),
    ("github oauth", "", gh("o"), "", "github-token"),
    ("github user-to-server", "GH=", gh("u"), "", "github-token"),
    ("github server-to-server", "https://x-access-token:", gh("s"), "@github.com/o/r.git",
     "github-token"),
    ("github refresh", "", gh("r"), "", "github-token"),
    ("github fine-grained", "GITHUB_TOKEN=", "github" + "_pat_" + rand(22) + "_" + rand(59),
     "\n", "github-token"),
    ("slack bot", "SLACK_BOT_TOKEN=", slack("b"), "\n", "slack-token"),
    ("slack user", "", slack("p"), "", "slack-token"),
    ("slack legacy", "", slack("a"), "", "slack-token"),
    ("slack refresh", "", slack("r"), "", "slack-token"),
    ("slack session", "", slack("s"), "", "slack-token"),
    ("slack app", "app token ", "xa" + "pp-1-A" + rand(10, UPPER) + "-" + rand(13, string.digits)
     + "-" + rand(64, HEX), "", "slack-token"),
    ("slack webhook", "curl -X POST ", "https://hooks.slack.com/services/T" + rand(8, UPPER)
     + "/B" + rand(10, UPPER) + "/" + rand(24), " -d @msg.json", "slack-webhook"),
    ("openai project", "OPENAI_API_KEY=", "sk-" + "proj-" + rand(124, B62 + "_-"), "\n",
     "openai-key"),
    ("openai service account", "", "sk-" + "svcacct-" + rand(64, B62 + "_-"), "",
     "openai-key"),
    ("openai legacy", "client = OpenAI(api_key='", "sk-" + rand(48), "')", "openai-key"),
    ("anthropic", "x-api-key: ", "sk-" + "ant-api03-" + rand(93, B62 + "_-") + "AA", "\n",
     "anthropic-key"),
    ("stripe secret", "stripe.api_key = '", "sk_" + "live_" + rand(99), "'", "stripe-key"),
    ("stripe restricted", "", "rk_" + "live_" + rand(24), "", "stripe-key"),
    ("npm", "//registry.npmjs.org/:_authToken=", "npm" + "_" + rand(36), "\n", "npm-token"),
    ("pypi", "[pypi]\n  password = ", "pypi-" + "AgEIcHlwaS5vcmc" + rand(120, B62 + "_-"),
     "\n", "pypi-token"),
    ("gitlab", "GITLAB_TOKEN=", "glpat-" + rand(20, B62 + "_-"), "\n", "gitlab-token"),
    ("hugging face", "huggingface-cli login --token ", "hf" + "_" + rand(34, string.ascii_letters),
     "", "huggingface-token"),
    ("google api key", "https://maps.googleapis.com/maps/api/geocode/json?key=",
     "AI" + "za" + rand(35, B62 + "_-"), "&address=x", "google-api-key"),
    ("openrouter", "OPENROUTER_API_KEY=", "sk-" + "or-v1-" + rand(64, HEX), "\n", "openai-key"),
    ("hex sk key", "api_key: ", "sk-" + rand(32, HEX), "\n", "openai-key"),
    ("jwt", "Cookie: session=", jwt(), "; Path=/", "jwt"),
    ("jwt bearer", "Authorization: Bearer ", jwt({"alg": "RS256", "kid": "k1"}), "\n", "jwt"),
    ("password dotenv", "DB_HOST=db\nDB_PASSWORD=", "Tr0ub4dor&3", "\n", "password-assignment"),
    ("password yaml", "db:\n  user: app\n  password: ", "hunter2x9", "\n",
     "password-assignment"),
    ("password yaml quoted", "  - password: '", "c0rrect-h0rse", "'\n",
     "password-assignment"),
    ("password json", '{"user": "svc", "password": "', "Wint3r!sComing", '"}',
     "password-assignment"),
    ("password kwarg", 'conn = connect(host="db", password="', "s3cr3t-Pa55", '")',
     "password-assignment"),
    ("password annotated", "    password: str = \"", "N0tInTheC0de", '"\n',
     "password-assignment"),
    ("password docker", "docker run -e POSTGRES_PASSWORD=", "pgAdm1nX", " -d postgres",
     "password-assignment"),
    ("password flag", "mysql -u root --password=", "Sup3rS3cret!", " app",
     "password-assignment"),
    ("password export", "export PGPASSWORD='", "r0llingStone", "'\n", "password-assignment"),
    ("passwd ini", "[smtp]\npasswd = ", "m4ilB0xQ", "\n", "password-assignment"),
    ("pwd yaml", "pwd: ", "9lives!cat", "\n", "password-assignment"),
    ("secret dotenv", "SECRET_KEY=", rand(50), "\n", "high-entropy-assignment"),
    ("token export", "export API_TOKEN=", rand(32, HEX), "\n", "high-entropy-assignment"),
    ("secret yaml", "oauth:\n  client_secret: ", rand(40, B62 + "_-"), "\n",
     "high-entropy-assignment"),
    ("key toml", "[signing]\nsigning_key = \"", b64(32), "\"\n", "high-entropy-assignment"),
    ("token json camel case", '{"refreshToken": "', rand(64), '"}', "high-entropy-assignment"),
    ("credential flag", "deploy --credential=", rand(30), " --env prod",
     "high-entropy-assignment"),
    ("auth header quoted", 'curl -H "X-Auth: ', rand(36), '" https://internal',
     "high-entropy-assignment"),
    ("token in a query", "GET /v1/export?access_token=", rand(32), "&page=2 HTTP/1.1",
     "high-entropy-assignment"),
    ("url password", "DATABASE_URL=postgres://app:", rand(16), "@db.internal:5432/app\n",
     "url-password"),
    ("url password empty user", "REDIS_URL=redis://:", rand(20), "@cache:6379/0",
     "url-password"),
    ("bearer", "curl -H 'Authorization: Bearer ", rand(40), "' https://api.internal",
     "authorization-header"),
    ("basic", "Authorization: Basic ", basic("deploy", "Gr8ful-Dead"), "\r\n",
     "authorization-header"),
]


@pytest.mark.parametrize(("what", "before", "secret", "after", "kind"), POSITIVE,
                         ids=[case[0] for case in POSITIVE])
def test_each_kind_of_secret_is_found_once_where_it_is(what: str, before: str, secret: str,
                                                       after: str, kind: str) -> None:
    text = before + secret + after
    start = len(before)
    line, column = place(text, start)
    [finding] = scan(text, "stdin")
    assert (finding.kind, finding.origin, finding.line, finding.column) == (
        kind, "stdin", line, column)
    assert (finding.start, finding.end) == (start, start + len(secret))


def test_every_kind_is_covered_by_a_positive_case() -> None:
    assert {case[4] for case in POSITIVE} == set(KINDS)


def test_a_whole_leaked_file_reports_each_secret_once_in_order() -> None:
    github, aws, openai = gh("p"), aws_id(), "sk-" + "proj-" + rand(80, B62 + "_-")
    text = ("# deploy.env\n"
            f"GITHUB_TOKEN={github}\n"
            "DEBUG=false\n"
            f"AWS_ACCESS_KEY_ID={aws}\n"
            f"AWS_SECRET_ACCESS_KEY={rand(40, B62 + '/+')}\n"
            f'  "openai": "{openai}",\n')
    found = [(f.kind, f.line, f.column, f.name) for f in scan(text, "deploy.env")]
    assert found == [("github-token", 2, 14, ""), ("aws-access-key", 4, 19, ""),
                     ("aws-secret-key", 5, 23, "AWS_SECRET_ACCESS_KEY"),
                     ("openai-key", 6, 14, "")]


def test_columns_count_characters_on_long_and_non_ascii_lines() -> None:
    token = gh("p")
    text = "é" * 5000 + "İ " + token + "\n" + "x" * 70000 + " " + token
    first, second = scan(text, "stdin")
    assert (first.line, first.column) == (1, 5003)
    assert (second.line, second.column, second.start) == (2, 70002, len(text) - len(token))


# -- what must not be flagged -----------------------------------------------------

NEGATIVE = [
    # private keys
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----",
    pem("PUBLIC KEY"),
    pem("CERTIFICATE"),
    'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):',
    # AWS
    "AK" + "IAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "AK" + "IA" + "X" * 16,
    "XAK" + "IA" + rand(16, UPPER),
    "AK" + "IA" + rand(15, UPPER),
    # vendor tokens
    "gh" + "p_" + "x" * 36,
    "gh" + "p_short",
    "ag" + "hp_" + rand(36),
    "xo" + "xb-your-token-here",
    "xo" + "xb-" + "x" * 30,
    "sk-...",
    "sk-your-key-here-please-replace",
    "task-1234-abcd-efgh-ijkl-mnop-qrst",
    "sk-learn-is-a-python-library-for-ml",
    "--api-key sk-bench",
    "sk-" + "ant-...",
    "sk_" + "test_" + rand(24),
    "pk_" + "live_" + rand(24),
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJ" + rand(20) + "." + rand(20) + "." + rand(30),
    "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
    # passwords
    "password = getpass()",
    "password = None",
    "    password: str",
    "def login(user: str, password: str | None = None) -> None:",
    "connect(user, password=password)",
    'password = os.environ["DB_PASSWORD"]',
    "PASSWORD=${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    'password = "********"',
    "password: changeme",
    "password: password1",
    'password = "%s" % secret',
    'password="<your password>"',
    "PWD=/home/user/project\nOLDPWD=/home/user",
    "password_file: /run/secrets/db",
    'if password == "letmein":',
    'raise ValueError("Invalid password: too short")',
    "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256",
    'password = ""',
    "pass_context = jinja2.pass_context",
    'parser.add_argument("--password", help="the password to use")',
    "password: *db_password",
    "password: test1234",
    'password = "DB_PASSWORD"',
    "Pass :meth:`peek` a default value",
    "PASS: tests/unit/test_login.py",
    "pass: 12, fail: 0",
    # key=value
    "token = tokenizer.encode(text)",
    'api_key = os.environ["OPENAI_API_KEY"]',
    "api_key = settings.api_key",
    "KEY=${SECRET}",
    "export TOKEN=$(vault read -field=token secret/ci)",
    "max_tokens = 4096",
    f'cache_key = "{rand(64, HEX)}"',
    f'public_key: "{b64(32)}"',
    f"KEY_ID={rand(40, HEX)}",
    "token_count=1234",
    "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
    "SECRET_NAME=my-app-production-secret",
    "AUTH_BACKEND=django.contrib.auth.backends.ModelBackend",
    "    api_key: str | None = None",
    f'next_page_token: "{b64(24)}"',
    'key: "user:1234"',
    "SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
    'api_key_cmd = "pass show openai"',
    "const token = await getToken();",
    "client = Client(api_key=api_key, token=token)",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "secretKeyRef:\n  name: db\n  key: password",
    "private_key: Ed25519PrivateKey | Ed448PrivateKey",
    'AttributeOID.CHALLENGE_PASSWORD: "challengePassword"',
    '"oauth_token_secret=secret%3Dpassword&oauth_token=lock%26key"',
    # URLs and headers
    "postgres://user:password@localhost/db",
    "https://user:${PASS}@host/x",
    "https://abc:xyz@example.com",
    "http://[::1]:8080/health",
    "git@github.com:org/repo.git",
    "https://user@host/path",
    "Authorization: Bearer $OPENAI_API_KEY",
    "Authorization: Bearer <token>",
    "-H 'Authorization: Bearer ${TOKEN}'",
    "from huggingface_hub import hf_hub_download; hf_hub_download(repo_id='gpt2')",
    "npm_config_cache=/tmp/npm npm_lifecycle_event=test",
    "glpat-your-token-goes-here",
    'headers["Authorization"] = f"Bearer {key}"',
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_placeholders_code_and_look_alikes_are_not_flagged(text: str) -> None:
    assert scan(text, "stdin") == []


def ordinary_corpus() -> str:
    """Code and prose full of hashes, ids and long strings that are not secrets."""
    png = b64(1500)
    return "\n".join([
        "# poetry.lock",
        f'{{file = "httpx-0.27.0-py3-none-any.whl", hash = "sha256:{rand(64, HEX)}"}},',
        "# package-lock.json",
        f'"integrity": "sha512-{b64(64)}",',
        '"resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",',
        "# Cargo.lock",
        f'checksum = "{rand(64, HEX)}"',
        "# yarn.lock",
        f"  integrity sha1-{b64(20)}",
        f"request_id={'-'.join(rand(n, HEX) for n in (8, 4, 4, 4, 12))} status=200",
        f'{{"id": "{"-".join(rand(n, HEX) for n in (8, 4, 4, 4, 12))}", "ok": true}}',
        f'<img src="data:image/png;base64,{png}">',
        f"commit {rand(40, HEX)}",
        f"Merge: {rand(7, HEX)} {rand(7, HEX)}",
        f"git checkout {rand(40, HEX)}",
        "AbstractSingletonProxyFactoryBeanConfigurationRegistryManager = object()",
        "def test_that_the_long_descriptive_identifier_name_is_not_a_secret() -> None:",
        ".btn { color: #ff00aa; background: #1e1e2e; border-color: rgba(0,0,0,.5); }",
        f'var a="{rand(30, string.ascii_lowercase)}",b=function(e,t){{return e.key===t}};',
        "!function(e){var t={};function n(r){if(t[r])return t[r].exports}}([]);",
        "token = tokenizer.encode(prompt)",
        "tokens = [tokenizer.decode(t) for t in ids]",
        "password = getpass.getpass('Password: ')",
        'api_key = os.environ["OPENAI_API_KEY"]',
        "KEY=${SECRET}",
        "export OPENAI_API_KEY=sk-...",
        "Set your API key with `export OPENAI_API_KEY=...` and run it again.",
        "The key insight: a token bucket refills at a fixed rate; auth happens first.",
        "2024-05-01T12:00:00Z INFO auth: login ok for user=42 session=active",
        "2024-05-01T12:00:01Z DEBUG token refreshed, expires_in=3600",
        "ENV PYTHON_SHA256 " + rand(64, HEX),
        "ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305",
        'secret_string = jsonencode({ username = "app" })',
        "private: true",
        "version: '3.8'",
        "docker run -p 5432:5432 -e POSTGRES_USER=app postgres:16",
        "ssh-ed25519 " + b64(51) + " user@laptop",
        "sha256sum: " + rand(64, HEX),
        "Authorization header missing; see docs/auth.md",
        "Bearer tokens are sent in the Authorization header.",
    ]) + "\n"


def test_an_ordinary_corpus_gives_no_findings() -> None:
    assert scan(ordinary_corpus(), "corpus") == []


def repository_texts() -> list[Path]:
    files = [*sorted((ROOT / "src").rglob("*")), *sorted((ROOT / "bench").rglob("*")),
             ROOT / "README.md"]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def test_this_repository_gives_no_findings() -> None:
    texts = repository_texts()
    assert len(texts) > 40
    findings = [f for path in texts
                for f in scan(path.read_text(errors="replace"), str(path.relative_to(ROOT)))]
    assert findings == []


@pytest.mark.parametrize("text", [
    "eyJ" * 20000, "sk-" * 20000, "gh" + "p_" * 20000, "key=" * 20000, 'key="' * 20000,
    "-----BEGIN PRIVATE KEY-----\n" * 2000, "://a:" * 20000, "password: x\n" * 5000,
    "AK" + "IA" * 20000, "Authorization: Bearer " * 3000, '"private_key": "' * 5000,
    "_" * 100000 + "key=1",
])
def test_pathological_inputs_finish_and_find_nothing(text: str) -> None:
    assert scan(text, "stdin") == []


# -- the pre-filter --------------------------------------------------------------


def test_the_prefilter_passes_every_positive_case() -> None:
    for _, before, secret, after, _kind in POSITIVE:
        assert might_contain_secrets(before + secret + after)


@pytest.mark.parametrize("text", [
    "", "Explain this stack trace, please.",
    "The key to good tests is small steps.\nNo assignments here.",
    "GET /api/v1/items?page=2 HTTP/1.1 200 512",
    "https://example.com/path?q=1",
])
def test_the_prefilter_lets_ordinary_text_through(text: str) -> None:
    assert not might_contain_secrets(text)
    assert scan(text, "stdin") == []


def test_the_detailed_rules_load_only_when_the_prefilter_hits() -> None:
    code = ("import sys\nfrom chatcli.secrets import scan\n"
            "rules = ('chatcli.secrets.tokens', 'chatcli.secrets.assignments')\n"
            "scan('just an ordinary prompt', 'stdin')\n"
            "print(any(name in sys.modules for name in rules))\n"
            "scan('password: ' + 'x', 'stdin')\n"
            "print(all(name in sys.modules for name in rules))\n")
    src = str(ROOT / "src")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={"PYTHONPATH": src, "PATH": ""})
    assert result.stdout.split() == ["False", "True"]


# -- findings, previews and redaction ----------------------------------------------


def test_a_preview_shows_only_the_public_prefix_and_the_length() -> None:
    token, password = gh("p"), "Tr0ub4dor&3"
    github, secret = scan(f"{token}\nDB_PASSWORD={password}\n", "stdin")
    assert github.preview == "ghp_… (40 chars)"
    assert secret.preview == "T… (11 chars)"
    for finding in (github, secret):
        assert token[4:8] not in repr(finding) and password[1:] not in repr(finding)


def test_mask_keeps_at_most_four_characters_of_a_value() -> None:
    assert mask("x" * 7) == "… (7 chars)"
    assert mask("abcdefgh") == "a… (8 chars)"
    assert mask("y" * 100) == "yyyy… (100 chars)"
    assert mask("sk-" + "q" * 40, 3) == "sk-… (43 chars)"


def test_redaction_keeps_keys_and_replaces_values() -> None:
    aws_secret, github = rand(40, B62 + "/+"), gh("p")
    text = (f"AWS_SECRET_ACCESS_KEY={aws_secret}\n"
            f'{{"token": "{github}", "password": "Wint3r!sComing"}}\n'
            f"url=postgres://app:{rand(16)}@db/app\n")
    assert redact(text, scan(text, "stdin")) == (
        "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]\n"
        '{"token": "[REDACTED:github-token]", "password": "[REDACTED:password-assignment]"}\n'
        "url=postgres://app:[REDACTED:url-password]@db/app\n")


def test_redaction_replaces_a_whole_key_block() -> None:
    text = "before\n" + pem("RSA PRIVATE KEY") + "\nafter\n"
    assert redact(text, scan(text, "stdin")) == "before\n[REDACTED:private-key]\nafter\n"


def test_redaction_without_findings_changes_nothing() -> None:
    assert redact("plain text", []) == "plain text"


def test_redaction_rejects_findings_of_another_text() -> None:
    finding = Finding("jwt", "stdin", 1, 1, 5, 50, "eyJ… (45 chars)")
    with pytest.raises(ValueError, match="outside the text"):
        redact("short", [finding])


def test_overlapping_hits_keep_the_more_specific_one() -> None:
    hits = [Hit("high-entropy-assignment", 10, 50, 1, 4), Hit("github-token", 10, 50, 4, 4),
            Hit("url-password", 0, 12, 2, 0), Hit("jwt", 60, 70, 3, 3)]
    assert [h.kind for h in settle(hits)] == ["github-token", "jwt"]


# -- the value and key judgements ------------------------------------------------


@pytest.mark.parametrize("value", ["changeme", "xxxxxxxx", "<your-key>", "...", "example-key",
                                   "********", "password1", "test-token-123", "YOUR_API_KEY"])
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


def test_random_values_pass_and_words_do_not() -> None:
    assert looks_random(rand(20)) and looks_random(rand(32, HEX)) and looks_random(b64(30))
    for value in ("my-app-production-secret", "ThisIsMyVeryLongIdentifierName",
                  "v1.2.3-beta.4+build.5", "2024-10-10T13:55:01.123Z", "a" * 40):
        assert not looks_random(value), value
    assert entropy("") == 0.0 and entropy("abab") == 1.0


@pytest.mark.parametrize(("name", "kind"), [
    ("DB_PASSWORD", "password"), ("pgPassword", "password"), ("SMTP_PASS", "password"),
    ("AWS_SECRET_ACCESS_KEY", "aws"), ("SecretAccessKey", "aws"), ("apiKey", "secret"),
    ("OPENAI_API_KEY", "secret"), ("client.secret", "secret"), ("x-auth-token", "secret"),
    ("PRIVATE_KEY", "secret"), ("public_key", None), ("token_count", None),
    ("key_path", None), ("cache_key", None), ("max_tokens", None), ("author", None),
    ("pass_context", None), ("monkey_business", None), ("AWS_ACCESS_KEY_ID", None),
])
def test_key_names(name: str, kind: str | None) -> None:
    assert key_kind(name) == kind


# -- the decision --------------------------------------------------------------

STDIN_SECRET = Finding("aws-secret-key", "stdin", 3, 23, 60, 100, "wJal… (40 chars)",
                       "AWS_SECRET_ACCESS_KEY")
FILE_TOKEN = Finding("github-token", "notes.env", 1, 14, 13, 53, "ghp_… (40 chars)")


def answering(action: Action, asked: list[int]) -> Ask:
    def ask(findings: Sequence[Finding]) -> Action:
        asked.append(len(findings))
        return action
    return ask


@pytest.mark.parametrize(("mode", "override", "terminal", "answer", "expected"), [
    ("ask", None, True, "send", Decision("send", (STDIN_SECRET,), asked=True)),
    ("ask", None, True, "redact", Decision("redact", (STDIN_SECRET,), asked=True)),
    ("ask", None, True, "abort", Decision("abort", (STDIN_SECRET,), asked=True)),
    ("ask", None, False, None, Decision("abort", (STDIN_SECRET,))),
    ("redact", None, True, None, Decision("redact", (STDIN_SECRET,))),
    ("refuse", None, True, None, Decision("abort", (STDIN_SECRET,))),
    ("off", None, True, None, Decision("send", (STDIN_SECRET,))),
    ("ask", "allow", True, None, Decision("send", (STDIN_SECRET,))),
    ("refuse", "allow", False, None, Decision("send", (STDIN_SECRET,))),
    ("ask", "redact", True, None, Decision("redact", (STDIN_SECRET,))),
    ("refuse", "redact", False, None, Decision("redact", (STDIN_SECRET,))),
    ("off", "redact", False, None, Decision("redact", (STDIN_SECRET,))),
])
def test_the_decision_table(mode: SecretScanMode, override: Override | None, terminal: bool,
                            answer: Action | None, expected: Decision) -> None:
    asked: list[int] = []
    ask = answering(answer or "send", asked) if terminal else None
    assert decide([STDIN_SECRET], mode, ask, override) == expected
    assert asked == ([1] if answer else [])


@pytest.mark.parametrize("mode", SECRET_SCAN_MODES)
def test_nothing_found_is_sent_without_asking(mode: SecretScanMode) -> None:
    asked: list[int] = []
    assert decide([], mode, answering("abort", asked)) == Decision("send")
    assert asked == []


def test_an_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown secret_scan mode"):
        decide([STDIN_SECRET], "warn", None)  # type: ignore[arg-type]


def test_the_modes_match_the_setting_types() -> None:
    from chatcli.config.types import SECRET_SCAN_MODES as CONFIGURED

    assert CONFIGURED == SECRET_SCAN_MODES


@pytest.mark.parametrize(("allow", "redact_flag", "override"), [
    (False, False, None), (True, False, "allow"), (False, True, "redact")])
def test_flags_become_an_override(allow: bool, redact_flag: bool, override: str | None) -> None:
    assert override_from_flags(allow, redact_flag) == override


def test_both_flags_at_once_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot be used together"):
        override_from_flags(True, True)


@pytest.mark.parametrize(("mode", "override", "expected"), [
    ("ask", None, True), ("redact", None, True), ("refuse", None, True), ("off", None, False),
    ("ask", "allow", False), ("off", "redact", True), ("refuse", "redact", True)])
def test_when_to_scan(mode: SecretScanMode, override: Override | None, expected: bool) -> None:
    assert needs_scan(mode, override) is expected


def test_one_finding_is_named_in_one_line() -> None:
    assert refusal([STDIN_SECRET]) == (
        "stdin line 3 holds what looks like an AWS secret key (aws-secret-key);"
        " not sent (use --redact-secrets or --allow-secrets)")


def test_several_findings_are_listed_in_one_line() -> None:
    third = Finding("jwt", "stdin", 9, 1, 400, 480, "eyJ… (80 chars)")
    assert summary([STDIN_SECRET, FILE_TOKEN, third]) == (
        "3 possible secrets: stdin line 3 (aws-secret-key), notes.env line 1 (github-token),"
        " stdin line 9 (jwt)")
    many = [FILE_TOKEN] * 8
    assert summary(many).endswith("notes.env line 1 (github-token) and 3 more")
    assert summary(many).count("notes.env") == 5
    assert summary([]) == "no possible secrets"


def test_origins_with_control_characters_are_shown_escaped() -> None:
    hostile = Finding("jwt", "evil\x1b[2J.txt", 1, 1, 0, 40, "eyJ… (40 chars)")
    assert summary([hostile]).startswith("evil\\x1b[2J.txt line 1 holds")
    assert "\x1b" not in describe(hostile)


# -- the terminal question --------------------------------------------------------

PROMPT = "Send it? [s]end / [r]edact / [a]bort: "
LISTING = ("2 possible secrets in what is about to be sent:\n"
           "  stdin line 3, column 23: aws-secret-key in AWS_SECRET_ACCESS_KEY:"
           " wJal… (40 chars)\n"
           "  notes.env line 1, column 14: github-token: ghp_… (40 chars)\n")


def ask_with(answers: str, findings: Sequence[Finding] = (STDIN_SECRET, FILE_TOKEN)
             ) -> tuple[Action, str]:
    out = io.StringIO()
    action = ask_on_terminal(io.StringIO(answers), out)(findings)
    return action, out.getvalue()


@pytest.mark.parametrize(("answer", "action"), [
    ("s\n", "send"), ("send\n", "send"), ("R\n", "redact"), (" redact \n", "redact"),
    ("a\n", "abort"), ("abort\n", "abort")])
def test_the_question_takes_each_answer(answer: str, action: Action) -> None:
    assert ask_with(answer) == (action, LISTING + PROMPT)


def test_the_question_asks_again_until_it_gets_an_answer() -> None:
    action, shown = ask_with("yes\n\nr\n")
    assert action == "redact"
    again = "Please answer s, r or a.\n"
    assert shown == LISTING + PROMPT + again + PROMPT + again + PROMPT


def test_the_end_of_input_means_abort() -> None:
    assert ask_with("") == ("abort", LISTING + PROMPT + "\n")
    assert ask_with("maybe\n")[0] == "abort"


def test_the_question_shows_findings_escaped_and_caps_a_long_list() -> None:
    hostile = Finding("jwt", "a\x1b]52;c;x\x07.log", 2, 5, 10, 90, "eyJ… (80 chars)")
    action, shown = ask_with("a\n", [hostile] * 25)
    assert action == "abort"
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown.startswith("25 possible secrets in what is about to be sent:\n"
                            "  a\\x1b]52;c;x\\x07.log line 2, column 5: jwt: eyJ… (80 chars)\n")
    assert shown.count("column 5") == 20 and "  … and 5 more\n" in shown
