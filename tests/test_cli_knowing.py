"""``models``, ``models show`` and ``doctor`` from the command line, and the modality
check ``ask`` makes before sending an image."""

from __future__ import annotations

from pathlib import Path

from clirun import run_cli, unpublished
from fakeapi import CHAT_PATH, JSON, MODELS_PATH, SSE, FakeAPI, models, text_stream

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c63f8cfc0500f0004850180848c3"
                    "1210000000049454e44ae426082")


def test_models_still_lists_and_models_show_describes(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON(models(["b", "a"])), path=MODELS_PATH)
    listed = run_cli(["models", "--base-url", fakeapi.base_url])
    assert (listed.exit_code, listed.stdout, listed.stderr) == (0, "a\nb\n", "")
    fakeapi.add(JSON({"id": "a", "modalities": {"input": ["text"]}}),
                path="/v1/model-catalog/a")
    unpublished(fakeapi)
    shown = run_cli(["models", "show", "a", "--base-url", fakeapi.base_url])
    assert (shown.exit_code, shown.stdout, shown.stderr) == (
        0, "id                a\nmodalities.input  text\n\nknown to chatcli: neither the window"
        ' nor the prices (set them in config.toml under [models."a"])\n', "")


def test_options_before_show_are_refused() -> None:
    result = run_cli(["models", "--base-url", "http://x/v1", "show", "a"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("chatcli: error: options go after the subcommand:"
                             " chatcli models show MODEL [OPTIONS]\n"
                             "Try 'chatcli models --help'.\n")


def test_an_image_the_model_cannot_take_is_refused_before_sending(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    image = tmp_path / "pixel.png"
    image.write_bytes(PNG)
    fakeapi.add(JSON({"id": "m", "modalities": {"input": ["text"]}}),
                path="/v1/model-catalog/m")
    result = run_cli(["what is it", "-i", str(image), "-m", "m", "--no-history",
                      "--base-url", fakeapi.base_url])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("chatcli: error: model m does not take image input"
                             " (the endpoint lists: text)\nTry 'chatcli ask --help'.\n")
    assert [r.path for r in fakeapi.requests] == ["/v1/model-catalog/m"]
    fakeapi.add(SSE(text_stream(["ok"])), path=CHAT_PATH)
    text_only = run_cli(["hi", "-m", "m", "--no-history", "--base-url", fakeapi.base_url])
    assert (text_only.exit_code, text_only.stdout) == (0, "ok\n")


def test_doctor_prints_a_row_per_probe(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "bad key"}}, status=401), path=MODELS_PATH)
    for _ in range(6):
        fakeapi.add(JSON({"error": {"message": "bad key"}}, status=401), path=CHAT_PATH)
    result = run_cli(["doctor", "-m", "m", "--base-url", fakeapi.base_url])
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"endpoint  {fakeapi.base_url}", "model     m", ""]
    assert lines[3].split() == ["probe", "status", "time", "found"]
    assert lines[5].split()[:2] == ["authenticated", "no"]
    assert len(lines) == 4 + 12
