"""``-f DIR``: every text file under it, sorted, as its own fenced block labelled as the
user would write the path; ignored, hidden, binary and oversized files are left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clirun import refused, sent
from fakeapi import FakeAPI


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small tree in the working directory: src/ with code, clutter and a nested rule."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "b.py").write_text("b = 2\n")
    (src / "a.py").write_text("a = 1\n")
    (src / "pkg" / "z.py").write_text("z = 26\n")
    (src / "pkg" / "gen.py").write_text("generated\n")
    (src / "pkg" / ".gitignore").write_text("gen.py\n")
    (src / "debug.log").write_text("noise\n")
    (src / ".gitignore").write_text("*.log\nbuild/\n")
    (src / "build").mkdir()
    (src / "build" / "out.py").write_text("built\n")
    (src / ".cache").mkdir()
    (src / ".cache" / "c.py").write_text("cached\n")
    (src / ".env").write_text("HIDDEN=1\n")
    (src / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (src / "latin1.txt").write_bytes(b"caf\xe9\n")
    return src


def test_every_text_file_is_inlined_in_sorted_order(fakeapi: FakeAPI, project: Path) -> None:
    content, stderr = sent(fakeapi, "-f", "src/", "review")
    assert content == ("review\n\n```src/a.py\na = 1\n```\n\n```src/b.py\nb = 2\n```\n\n"
                       "```src/pkg/z.py\nz = 26\n```")
    assert stderr == "chatcli: -f src/: 3 files, 19 bytes, 2 skipped\n"


def test_ignored_hidden_and_binary_files_stay_out(fakeapi: FakeAPI, project: Path) -> None:
    content, _ = sent(fakeapi, "-f", "src", "review")
    for absent in ("debug.log", "noise", "build/out.py", "gen.py", "generated", ".cache",
                   "cached", ".env", "HIDDEN", "logo.png", "latin1", "caf"):
        assert absent not in content
    assert "```src/a.py\n" in content


def test_the_enclosing_repository_ignore_file_counts(fakeapi: FakeAPI, project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(project.parent)], check=True)
    (project.parent / ".gitignore").write_text("src/b.py\n")
    content, stderr = sent(fakeapi, "-f", "src/", "review")
    assert "src/b.py" not in content
    assert "```src/a.py\n" in content
    assert stderr == "chatcli: -f src/: 2 files, 13 bytes, 2 skipped\n"


def test_a_negated_pattern_in_a_nested_file_brings_a_file_back(fakeapi: FakeAPI,
                                                               project: Path) -> None:
    (project / "pkg" / ".gitignore").write_text("!keep.log\n")
    (project / "pkg" / "keep.log").write_text("kept\n")
    content, _ = sent(fakeapi, "-f", "src/", "review")
    assert "```src/pkg/keep.log\nkept\n```" in content
    assert "```src/pkg/gen.py\ngenerated\n```" in content


def test_files_over_the_per_file_cap_are_skipped(fakeapi: FakeAPI, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "small.txt").write_text("small\n")
    (tmp_path / "d" / "huge.txt").write_text("h" * (256 * 1024 + 1))
    content, stderr = sent(fakeapi, "--max-context-kb", "1024", "-f", "d", "read")
    assert content == "read\n\n```d/small.txt\nsmall\n```"
    assert stderr == "chatcli: -f d: 1 file, 6 bytes, 1 skipped\n"


def test_over_the_total_cap_lists_the_largest_files(fakeapi: FakeAPI, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    for name, size in (("big.json", 3000), ("mid.py", 2000), ("tiny.md", 10)):
        (tmp_path / "d" / name).write_text("x" * size)
    stderr = refused(fakeapi, "--max-context-kb", "4", "-f", "d", "read")
    assert stderr == ("chatcli: error: -f d: 3 files, 4.9 KB, over the 4 KB limit"
                      " (--max-context-kb); the largest: d/big.json (2.9 KB),"
                      " d/mid.py (2.0 KB), d/tiny.md (10 bytes)\n"
                      "Try 'chatcli ask --help'.\n")


def test_an_empty_directory_is_a_usage_error(fakeapi: FakeAPI, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blob.bin").write_bytes(b"\0\1")
    stderr = refused(fakeapi, "-f", str(empty), "read")
    assert stderr.startswith(f"chatcli: error: -f {empty}: no text files to inline,"
                             " 1 skipped\n")


def test_each_file_is_checked_for_secrets_by_its_own_name(fakeapi: FakeAPI,
                                                          project: Path) -> None:
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    (project / "pkg" / "settings.py").write_text(f'API_KEY = "{key}"\n')
    stderr = refused(fakeapi, "-f", "src/", "review")
    assert "src/pkg/settings.py" in stderr
    assert key not in stderr
