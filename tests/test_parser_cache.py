"""The parser's tables cached on disk (compiler/front/parser_cache.py): in the user's cache
folder ($CLAUSEC_CACHE_DIR here), never the working directory; named by the lark version
and a hash of the grammar, so another grammar never loads them; JSON, never a pickle; a
corrupt or untrusted file is rebuilt and replaced; written whole, also when processes
race; an unwritable folder means no cache, silently; used by every command."""

from __future__ import annotations

import functools
import json
import os
import pickle
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


def positions(tree: lark.Tree[lark.Token]) -> list[object]:
    """A tree as its rules, tokens and where each starts and ends (== on trees compares
    neither the positions of tokens nor those of rules)."""
    out: list[object] = []
    for node in tree.iter_subtrees_topdown():
        meta = node.meta
        out.append((node.data, None if meta.empty else (meta.line, meta.column, meta.end_line,
                                                        meta.end_column)))
        out.extend((c.type, str(c), c.line, c.column, c.end_line, c.end_column)
                   for c in node.children if isinstance(c, lark.Token))
    return out


@functools.cache
def expected() -> dict[str, list[object]]:
    """Every seed contract as a parser built afresh (not through the cache) parses it."""
    fresh = lark.Lark(GRAMMAR, **OPTIONS)
    return {path.name: positions(fresh.parse(path.read_text(encoding="utf-8")))
            for path in sorted((ROOT / "clauses").glob("*/*.clause"))}


def same_parse(p: lark.Lark) -> None:
    for name, trees in expected().items():
        text = next((ROOT / "clauses").glob(f"*/{name}")).read_text(encoding="utf-8")
        assert positions(p.parse(text)) == trees, name


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


def test_the_cache_is_json_not_a_pickle(cache):
    """Loading a cache file runs no code: it is JSON (lark's own caches are pickles)."""
    build()
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None and path.suffix == ".json"
    stored = json.loads(path.read_text(encoding="ascii"))
    assert stored[parser_cache.MAGIC] == parser_cache.FORMAT
    assert stored["key"] == parser_cache.cache_key(GRAMMAR, OPTIONS)


class _Planted:
    """A pickle that runs code when it is loaded: writes a file beside the cache."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (Path.write_text, (str(self.marker), "ran"))  # type: ignore[return-value]


def test_a_pickle_in_the_cache_is_never_unpickled(cache):
    build()
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None
    marker = cache.parent / "ran"
    path.write_bytes(pickle.dumps(_Planted(marker)))
    assert not loaded(build())
    assert not marker.exists()
    assert loaded(build())


def test_tables_of_another_grammar_under_this_name_are_not_loaded(cache):
    """The file repeats its key: tables copied (or renamed) from another grammar's file
    are rebuilt, not used."""
    other = GRAMMAR + "\n// another grammar\n"
    parser_cache.build(other, **OPTIONS)
    build()
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    other_path = parser_cache.cache_file(other, OPTIONS)
    assert path is not None and other_path is not None
    path.write_bytes(other_path.read_bytes())
    rebuilt = build()
    assert not loaded(rebuilt)
    same_parse(rebuilt)
    assert json.loads(path.read_text(encoding="ascii"))["key"] == parser_cache.cache_key(
        GRAMMAR, OPTIONS)


def test_a_changed_grammar_or_other_options_never_load_the_same_tables(cache):
    path = parser_cache.cache_file(GRAMMAR, OPTIONS)
    assert path is not None and path.parent == cache
    assert parser_cache.cache_file(GRAMMAR + "\n// changed\n", OPTIONS) != path
    assert parser_cache.cache_file(GRAMMAR, {**OPTIONS, "keep_all_tokens": True}) != path


@pytest.mark.parametrize("garbage", [b"", b"not JSON at all\n" * 10, b"\x80\x04K\x01.",
                                     b"[1, 2, 3]", b'{"__pairs__": 1}', b"\xff\xfe{}",
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


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0,
                    reason="permissions do not bind root")
def test_a_read_only_cache_folder_means_no_cache(cache):
    cache.mkdir(mode=0o500)
    try:
        same_parse(build())
        assert not loaded(build())
        assert list(cache.iterdir()) == []
    finally:
        cache.chmod(0o700)


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


# Builds the tables in a process of its own and says whether it loaded them.
_BUILD = """
import sys
from clausec.front import parser_cache
grammar = open(sys.argv[1], encoding="utf-8").read()
built = parser_cache.build(grammar, parser="lalr", lexer="contextual",
                           propagate_positions=True, maybe_placeholders=True)
print(built.source_path == "<deserialized>")
"""


def test_processes_racing_to_write_the_cache_leave_one_whole_file(tmp_path, cli_env):
    """Processes that find no cache all build the tables and write them at once: each
    renames a whole file into place, so what is left is one good file, and no temporary
    one."""
    folder = tmp_path / "cache"
    env = cli_env(CLAUSEC_CACHE_DIR=str(folder))
    argv = [sys.executable, "-c", _BUILD, str(parser.grammar_path())]
    racers = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env) for _ in range(3)]
    for racer in racers:
        _, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
    (written,) = folder.iterdir()
    assert written.name == parser_cache.cache_file(GRAMMAR, OPTIONS).name  # type: ignore[union-attr]
    after = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                           check=True)
    assert after.stdout.strip() == "True"


def test_every_command_uses_the_cache(tmp_path, cli_env):
    """`check` and `fmt` (which keeps every token, so its tables are others) build their
    tables once: the next runs load them, and rewrite neither file (a rebuild renames a
    new file into place)."""
    folder = tmp_path / "cache"
    env = cli_env(CLAUSEC_CACHE_DIR=str(folder))
    seed = str(ROOT / "clauses" / "patent_purchase")

    def run_both() -> dict[str, int]:
        for command in (["check", seed], ["fmt", "--check", seed]):
            subprocess.run([sys.executable, "-m", "clausec", *command], capture_output=True,
                           env=env, timeout=120, check=False)
        return {f.name: f.stat().st_ino for f in folder.iterdir()}

    first = run_both()
    assert len(first) == 2
    assert run_both() == first


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
