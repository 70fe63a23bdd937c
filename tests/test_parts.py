"""Content parts for audio, documents, file ids, videos and the clipboard."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import pytest

from chatcli.errors import UsageError
from chatcli.media.attachments import audio_part, document_part, file_id_part, video_part
from chatcli.media.clipboard import clipboard_image

WAV = b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 16
MP3 = b"ID3\x04\0\0\0\0\0\0" + b"\0" * 16
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24


def test_audio_part_takes_its_format_from_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "voice.mp3"
    path.write_bytes(WAV)
    assert audio_part(str(path), 1000) == {"type": "input_audio", "input_audio": {
        "data": base64.b64encode(WAV).decode(), "format": "wav"}}
    path.write_bytes(b"\xff\xfb\x90\x00" + b"\0" * 8)
    assert audio_part(str(path), 1000)["input_audio"]["format"] == "mp3"  # type: ignore[typeddict-item]


def test_audio_errors_name_the_path(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(UsageError, match=r"a\.txt: not a WAV or MP3"):
        audio_part(str(tmp_path / "a.txt"), 1000)
    with pytest.raises(UsageError, match="is a directory"):
        audio_part(str(tmp_path), 1000)
    with pytest.raises(UsageError, match="no such file"):
        audio_part(str(tmp_path / "missing.wav"), 1000)
    (tmp_path / "big.wav").write_bytes(MP3 * 100)
    with pytest.raises(UsageError, match=r"big\.wav: .* limit"):
        audio_part(str(tmp_path / "big.wav"), 10)


@pytest.mark.parametrize(("name", "data", "mime"), [
    ("paper.bin", b"%PDF-1.7\n", "application/pdf"),
    ("notes.zzq", b"plain words\n", "text/plain"),
    ("blob.zzq", b"\0\1\2", "application/octet-stream"),
    ("data.json", b"{}", "application/json"),
])
def test_document_part_mime(tmp_path: Path, name: str, data: bytes, mime: str) -> None:
    (tmp_path / name).write_bytes(data)
    assert document_part(str(tmp_path / name), 1000) == {"type": "file", "file": {
        "filename": name, "file_data": f"data:{mime};base64,{base64.b64encode(data).decode()}"}}


def test_file_id_and_video_parts() -> None:
    assert file_id_part("file-abc") == {"type": "file", "file": {"file_id": "file-abc"}}
    assert video_part("https://x.test/v.mp4") == {
        "type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}
    with pytest.raises(UsageError, match="--video takes"):
        video_part("clip.mp4")


class FakeTools:
    def __init__(self, replies: dict[tuple[str, ...], tuple[int, bytes]]) -> None:
        self.replies = replies
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> tuple[int, bytes]:
        self.calls.append(list(argv))
        return self.replies.get(tuple(argv), (1, b""))


def test_clipboard_with_wl_paste() -> None:
    run = FakeTools({("wl-paste", "--list-types"): (0, b"text/plain\nimage/png\n"),
                     ("wl-paste", "--type", "image/png"): (0, PNG)})
    part = clipboard_image(1000, which=lambda n: n if n == "wl-paste" else None, run=run)
    assert part == {"type": "image_url", "image_url": {
        "url": "data:image/png;base64," + base64.b64encode(PNG).decode()}}


def test_clipboard_falls_back_to_xclip_when_wayland_has_nothing() -> None:
    run = FakeTools({("xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"): (0, b"image/png"),
                     ("xclip", "-selection", "clipboard", "-t", "image/png", "-o"): (0, PNG)})
    part = clipboard_image(1000, which=lambda n: n if n != "pngpaste" else None, run=run)
    assert part["type"] == "image_url"
    assert run.calls[0] == ["wl-paste", "--list-types"]


def test_clipboard_errors() -> None:
    with pytest.raises(UsageError, match="no clipboard tool found"):
        clipboard_image(1000, which=lambda n: None, run=FakeTools({}))
    with pytest.raises(UsageError, match="the clipboard holds no image"):
        clipboard_image(1000, which=lambda n: n, run=FakeTools({}))


def test_clipboard_runs_a_real_program(tmp_path: Path) -> None:
    tool = tmp_path / "pngpaste"
    tool.write_text("#!/bin/sh\nprintf '\\211PNG\\r\\n\\032\\n'\n")
    tool.chmod(0o755)
    part = clipboard_image(1000, which=lambda n: str(tool) if n == "pngpaste" else None)
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
