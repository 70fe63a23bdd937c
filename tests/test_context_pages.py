"""``-f URL``: the page is fetched (without the endpoint's credentials) and inlined as a
fenced block labelled with the URL; every failure is a usage error before sending."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clirun import refused, run_cli, sent
from fakeapi import CHAT_PATH, JSON, SSE, FakeAPI, Raw, text_stream

HTML = b"""<!doctype html><html><head><title>T</title>
<style>body { color: red }</style><script>alert('tracked')</script></head>
<body><header>Site banner</header><nav>Home | About</nav>
<h1>Release notes</h1><p>See <a href="https://example.com/docs">the docs</a>.</p>
<ul><li>faster</li><li>smaller</li></ul>
<aside>Related links</aside><form>Subscribe</form><noscript>enable js</noscript>
<footer>Copyright</footer></body></html>"""


CATALOG_PATH = "/v1/model-catalog/gpt-4o-mini"


def page_url(api: FakeAPI, path: str) -> str:
    return f"http://127.0.0.1:{api.port}{path}"


def test_a_text_page_is_inlined_as_it_is(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"line one\nline two\n", "text/plain; charset=utf-8"), "/notes.txt")
    url = page_url(fakeapi, "/notes.txt")
    content, stderr = sent(fakeapi, "-f", url, "summarise")
    assert content == f"summarise\n\n```{url}\nline one\nline two\n```"
    assert stderr == ""


def test_markdown_is_inlined_as_it_is(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"# Title\n\n* item\n", "text/markdown"), "/readme.md")
    url = page_url(fakeapi, "/readme.md")
    content, _ = sent(fakeapi, "-f", url, "read")
    assert content == f"read\n\n```{url}\n# Title\n\n* item\n```"


def test_html_becomes_markdown_without_scripts_styles_or_navigation(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, HTML, "text/html; charset=utf-8"), "/notes.html")
    url = page_url(fakeapi, "/notes.html")
    content, _ = sent(fakeapi, "-f", url, "summarise")
    assert content == (f"summarise\n\n```{url}\n# Release notes\n\n"
                       "See [the docs](https://example.com/docs).\n\n- faster\n- smaller\n```")
    for gone in ("alert", "color: red", "Site banner", "Home | About", "Related links",
                 "Subscribe", "enable js", "Copyright"):
        assert gone not in content


def test_json_is_pretty_printed(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b'{"b":[1,2],"a":"\xc3\xa9"}', "application/json"), "/data")
    url = page_url(fakeapi, "/data")
    content, _ = sent(fakeapi, "-f", url, "explain")
    assert content == (f'explain\n\n```{url}\n{{\n  "b": [\n    1,\n    2\n  ],\n'
                       '  "a": "\u00e9"\n}\n```')


def test_redirects_are_followed_and_the_label_is_the_url_given(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(302, b"", "", headers={"Location": "/final.txt"}), "/moved")
    fakeapi.add(Raw(200, b"arrived\n", "text/plain"), "/final.txt")
    url = page_url(fakeapi, "/moved")
    content, _ = sent(fakeapi, "-f", url, "go")
    assert content == f"go\n\n```{url}\narrived\n```"


def test_the_page_gets_no_credentials_of_the_endpoint(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"public\n", "text/plain"), "/public.txt")
    url = page_url(fakeapi, "/public.txt")
    sent(fakeapi, "--api-key", "sk-test-0123456789abcdef", "-H", "X-Team: red",
         "-f", url, "read")
    page = next(r for r in fakeapi.requests if r.path == "/public.txt")
    chat = next(r for r in fakeapi.requests if r.path == CHAT_PATH)
    assert page.method == "GET"
    assert page.header("Authorization") is None
    assert page.header("X-Team") is None
    assert chat.header("Authorization") == "Bearer sk-test-0123456789abcdef"
    assert chat.header("X-Team") == "red"


def test_a_404_is_a_usage_error_naming_the_url_and_status(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(404, b"nope", "text/plain"), "/missing")
    url = page_url(fakeapi, "/missing")
    stderr = refused(fakeapi, "-f", url, "read")
    assert stderr == (f"chatcli: error: -f {url}: the server answered 404 Not Found\n"
                      "Try 'chatcli ask --help'.\n")


def test_a_500_is_a_usage_error_too(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": "boom"}, status=500), "/broken")
    url = page_url(fakeapi, "/broken")
    assert f"-f {url}: the server answered 500" in refused(fakeapi, "-f", url, "read")


def test_a_body_over_the_context_cap_is_a_usage_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"x" * 3000, "text/plain"), "/big.txt")
    url = page_url(fakeapi, "/big.txt")
    stderr = refused(fakeapi, "--max-context-kb", "2", "-f", url, "read")
    assert stderr.startswith(f"chatcli: error: -f {url}: the page is over the 2 KB limit"
                             " (--max-context-kb 2)\n")


def test_a_page_that_is_not_text_is_refused(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"\x89PNG\r\n\x1a\n", "image/png"), "/thing")
    url = page_url(fakeapi, "/thing")
    assert f"-f {url}: is image/png, not text" in refused(fakeapi, "-f", url, "read")


@pytest.mark.parametrize(("path", "query", "kind", "name"), [
    ("/papers/attention.pdf", "", "application/pdf", "attention.pdf"),
    ("/download", "?id=7", "application/octet-stream", "download.pdf"),
])
def test_a_pdf_page_is_attached_as_attach_sends_a_file(
        fakeapi: FakeAPI, path: str, query: str, kind: str, name: str) -> None:
    import base64

    body = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    fakeapi.add(Raw(200, body, kind), path)
    url = page_url(fakeapi, path + query)
    fakeapi.add(JSON({"id": "gpt-4o-mini", "modalities": {"input": ["text", "file"]}}),
                path=CATALOG_PATH)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-f", url, "summarise"])
    assert result.exit_code == 0, result.stderr
    content = [r for r in fakeapi.requests if r.path == CHAT_PATH][-1].json()[
        "messages"][-1]["content"]
    assert content == [
        {"type": "text", "text": "summarise"},
        {"type": "file", "file": {"filename": name, "file_data": "data:application/pdf;base64,"
                                  + base64.b64encode(body).decode()}}]


def test_a_refused_connection_names_the_url(fakeapi: FakeAPI) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    stderr = refused(fakeapi, "-f", url, "read")
    assert stderr.startswith(f"chatcli: error: -f {url}: cannot fetch it: ")
    assert "refused" in stderr.lower()


def test_a_page_and_a_file_share_the_context_cap(fakeapi: FakeAPI, tmp_path: Any) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("y" * 1500)
    fakeapi.add(Raw(200, b"x" * 1000, "text/plain"), "/more.txt")
    url = page_url(fakeapi, "/more.txt")
    stderr = refused(fakeapi, "--max-context-kb", "2", "-f", str(notes), "-f", url, "read")
    assert (f"-f {url}: the page is over the 548 bytes that other -f sources left of"
            " --max-context-kb 2\n") in stderr


def test_dry_run_shows_the_inlined_page(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"shown\n", "text/plain"), "/shown.txt")
    url = page_url(fakeapi, "/shown.txt")
    result = run_cli(["--base-url", fakeapi.base_url, "--dry-run", "-f", url, "q"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["messages"][-1]["content"] == f"q\n\n```{url}\nshown\n```"
