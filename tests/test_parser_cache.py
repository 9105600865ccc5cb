"""The parser's tables cached on disk (compiler/front/parser_cache.py): in the user's cache
folder ($CLAUSEC_CACHE_DIR here), never the working directory; named by the lark version
and a hash of the grammar, so another grammar never loads them; a corrupt or untrusted
file is rebuilt and replaced; an unwritable folder means no cache, silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lark
import pytest

from clausec.front import parser, parser_cache

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = parser.grammar_path().read_text(encoding="utf-8")
OPTIONS = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True,
           "maybe_placeholders": True}
CONTRACT = (ROOT / "clauses" / "patent_purchase" / "patent_purchase.clause").read_text(
    encoding="utf-8")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(parser_cache.ENV, str(folder))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return folder


def build() -> lark.Lark:
    return parser_cache.build(GRAMMAR, **OPTIONS)


def loaded(p: lark.Lark) -> bool:
    return p.source_path == "<deserialized>"  # read from the cache, not built


def same_parse(p: lark.Lark) -> None:
    assert p.parse(CONTRACT) == lark.Lark(GRAMMAR, **OPTIONS).parse(CONTRACT)


def test_the_cache_is_written_in_the_cache_folder_not_the_working_directory(cache):
    first = build()
    assert not loaded(first)
    files = list(cache.iterdir())
    assert [f.name for f in files] == [parser_cache.cache_file(GRAMMAR, OPTIONS).name]
    assert f"lark{lark.__version__}" in files[0].name
    assert list(Path.cwd().iterdir()) == []
    second = build()
    assert loaded(second)
    same_parse(second)


def test_a_changed_grammar_or_other_options_never_load_the_same_tables(cache):
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None and path.parent == cache
    assert parser_cache.cache_file(GRAMMAR + "\n// changed\n", OPTIONS) != path
    assert parser_cache.cache_file(GRAMMAR, {**OPTIONS, "keep_all_tokens": True}) != path


@pytest.mark.parametrize("garbage", [b"", b"not a pickle at all\n" * 10, b"\x80\x04K\x01.",
                                     "half"])
def test_a_corrupt_cache_is_rebuilt_and_replaced(cache, garbage):
    build()
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None
    good = path.read_bytes()
    path.write_bytes(good[:len(good) // 2] if garbage == "half" else garbage)
    rebuilt = build()
    assert not loaded(rebuilt)
    same_parse(rebuilt)
    assert loaded(build())  # replaced by a good one


def test_a_cache_others_may_write_is_not_loaded(cache):
    build()
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None
    path.chmod(0o666)
    assert not loaded(build())
    assert path.stat().st_mode & 0o077 == 0  # rewritten private
    assert loaded(build())


def test_no_folder_to_write_means_no_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(parser_cache.ENV, str(blocker / "cache"))
    monkeypatch.chdir(tmp_path)
    p = build()
    same_parse(p)
    assert not loaded(build())
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a file"]


def test_unwritable_files_mean_no_cache(cache, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(parser_cache.tempfile, "mkstemp", refuse)
    same_parse(build())
    assert not cache.exists() or list(cache.iterdir()) == []


def test_the_default_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(parser_cache.ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert parser_cache.cache_dir() == tmp_path / "xdg" / "clausec"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid: ignored
    assert parser_cache.cache_dir() == tmp_path / "home" / ".cache" / "clausec"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert parser_cache.cache_dir() == tmp_path / "home" / ".cache" / "clausec"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert parser_cache.cache_dir() == tmp_path / "home" / "Library" / "Caches" / "clausec"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert parser_cache.cache_dir() == tmp_path / "local" / "clausec"


def test_a_relative_home_is_no_cache_folder(monkeypatch):
    monkeypatch.delenv(parser_cache.ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", "somewhere")
    assert parser_cache.cache_dir() is None  # never the working directory


def test_the_command_line_with_a_corrupt_cache(tmp_path, cli_env):
    """A command, end to end: it writes the cache where it is told, and survives
    garbage in it."""
    folder = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    env = cli_env(CLAUSEC_CACHE_DIR=str(folder))
    argv = [sys.executable, "-m", "clausec", "check", str(ROOT / "clauses" / "patent_purchase")]
    first = subprocess.run(argv, capture_output=True, text=True, cwd=work, env=env,
                           timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    (cached,) = folder.iterdir()
    assert list(work.iterdir()) == []
    cached.write_bytes(b"\x80\x05garbage")
    again = subprocess.run(argv, capture_output=True, text=True, cwd=work, env=env,
                           timeout=120, check=False)
    assert again.returncode == 0
    assert again.stderr == first.stderr and "Traceback" not in again.stderr
    assert cached.read_bytes() != b"\x80\x05garbage"
