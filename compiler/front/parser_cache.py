"""The parser's tables, cached on disk: building the LALR tables of the grammar takes more
than half a second, longer than checking a contract, and every command needs them.

The cache is a file per grammar and options in the user's cache folder ($CLAUSEC_CACHE_DIR,
else $XDG_CACHE_HOME/clausec or ~/.cache/clausec on Linux, ~/Library/Caches/clausec on
macOS, %LOCALAPPDATA%\\clausec on Windows), never the working directory. Its name holds
lark's version and a hash of the grammar's text, the parser's options and the file's
format, and the file repeats that hash: a changed grammar (or lark) never loads tables
built for another. A file that does not load (truncated, corrupt, from elsewhere) is
deleted and the tables rebuilt; where the folder cannot be created or written (a
read-only home), the tables are built each time, silently: the cache only ever saves time.

The file is JSON (lark's own `Lark.save` and `cache=True` write pickles, which run code
when loaded), so a cache file can at worst hold wrong tables, never run anything. Wrong
tables would still change what a contract means, so only a file that this user owns and
nobody else may write is read, and the folder is created private (0700). A file is
written whole under another name and renamed into place: a reader, or a second process
writing the same tables, sees no file or a complete one.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

ENV = "CLAUSEC_CACHE_DIR"

# The layout of the file (below); part of its key, so that another layout is not read.
FORMAT = 1
# The file: {MAGIC: FORMAT, "key": the key, "data": ..., "memo": ...}, where data and
# memo are what lark's `memo_serialize` gives and `Lark.load` takes. JSON has no tuples
# (they come back as lists, which lark only iterates and unpacks) and no keys but strings:
# a dict with other keys (lark's parse table numbers its states) is written as
# {PAIRS: [[key, value], ...]}.
MAGIC = "clausec-parser-tables"
PAIRS = "__pairs__"


def cache_dir() -> Path | None:
    """The folder of clausec's caches, or None when the user has none (no home)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser().absolute()
    try:
        if sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA")
            root = Path(local) if local else Path.home() / "AppData" / "Local"
        elif sys.platform == "darwin":
            root = Path.home() / "Library" / "Caches"
        else:
            xdg = os.environ.get("XDG_CACHE_HOME")
            # The XDG spec: a relative value is invalid and is ignored.
            root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    except (RuntimeError, KeyError, OSError):  # no home directory to be found
        return None
    # A relative home (HOME=. or empty) would be the working directory: no cache then.
    return root / "clausec" if root.is_absolute() else None


def cache_key(grammar: str, options: dict[str, Any]) -> str:
    """What the tables depend on: the grammar, the options, lark and the file's layout."""
    text = f"{FORMAT}\0{lark.__version__}\0{grammar}\0{sorted(options.items())!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def cache_file(grammar: str, options: dict[str, Any]) -> Path | None:
    """Where the tables of `grammar` built with `options` are kept (None: nowhere)."""
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"parser-lark{lark.__version__}-{cache_key(grammar, options)[:24]}.json"


def build(grammar: str, **options: Any) -> lark.Lark:
    """`lark.Lark(grammar, **options)` (an LALR parser), its tables loaded from the cache
    when they are there, and saved to it when they were built."""
    key = cache_key(grammar, options)
    path = cache_file(grammar, options)
    if path is not None:
        loaded = _load(path, key)
        if loaded is not None:
            return loaded
    with _gc_paused():
        parser = lark.Lark(grammar, **options)
    if path is not None:
        _save(parser, path, key)
    return parser


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building or loading the tables makes some 100,000 objects, all kept for good and
    none garbage: the cycle collector would scan them again and again (15% of a build)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(path: Path, key: str) -> lark.Lark | None:
    try:
        with open(path, "rb") as handle:
            if not _trusted(handle.fileno()):
                return None
            text = handle.read()
        with _gc_paused():
            stored = json.loads(text, object_hook=_from_pairs)
            if stored.get(MAGIC) != FORMAT or stored.get("key") != key:
                raise ValueError("tables of another grammar or layout")
            return lark.Lark.load({"data": stored["data"], "memo": stored["memo"]})
    except FileNotFoundError:
        return None
    except PermissionError:
        return None  # not ours to read, nor to delete
    except Exception:  # noqa: BLE001 - truncated, corrupt, not ours: rebuilt and replaced
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _trusted(fd: int) -> bool:
    """Whether a cache file may be loaded: on POSIX, only one that this user owns and that
    nobody else may write (tables planted by another user would change what contracts
    mean)."""
    if not hasattr(os, "getuid"):
        return True
    info = os.fstat(fd)
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _save(parser: lark.Lark, path: Path, key: str) -> None:
    """Write the tables whole (a reader sees no file or all of it), or nothing at all."""
    try:
        data, memo = parser.memo_serialize([TerminalDef, Rule])
        text = json.dumps({MAGIC: FORMAT, "key": key, "data": _to_json(data),
                           "memo": _to_json(memo)}, separators=(",", ":"))
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp: a new file (never one planted under the name), readable by this user only.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except Exception:  # noqa: BLE001 - a read-only home, a full disk: no cache, silently
        return


def _to_json(value: Any) -> Any:
    """Lark's serialized tables as JSON can hold them (PAIRS above)."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _to_json(v) for k, v in value.items()}
        return {PAIRS: [[k, _to_json(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def _from_pairs(obj: dict[str, Any]) -> Any:
    pairs = obj.get(PAIRS)
    return obj if pairs is None or len(obj) != 1 else dict(pairs)
