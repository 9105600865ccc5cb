"""The parser's tables, cached on disk: building the LALR tables of the grammar takes a
quarter of a second, longer than checking a contract, and every command builds them.

The cache is a file per grammar and options in the user's cache folder ($CLAUSEC_CACHE_DIR,
else $XDG_CACHE_HOME/clausec or ~/.cache/clausec on Linux, ~/Library/Caches/clausec on
macOS, %LOCALAPPDATA%\\clausec on Windows), never the working directory. Its name holds
the lark and Python versions and a hash of the grammar's text and the parser's options,
so a changed grammar (or lark) never loads tables built for another. A file that does
not load (truncated, corrupt, from elsewhere) is deleted and the tables rebuilt; where
the folder cannot be created or written (a read-only home), the tables are built each
time, silently: the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import lark

ENV = "CLAUSEC_CACHE_DIR"


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


def cache_file(grammar: str, options: dict[str, Any]) -> Path | None:
    """Where the tables of `grammar` built with `options` are kept (None: nowhere)."""
    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(f"{grammar}\0{sorted(options.items())!r}".encode()).hexdigest()
    python = f"{sys.version_info[0]}{sys.version_info[1]}"
    return folder / f"parser-lark{lark.__version__}-py{python}-{key[:24]}.pickle"


def build(grammar: str, **options: Any) -> lark.Lark:
    """`lark.Lark(grammar, **options)` (an LALR parser), its tables loaded from the cache
    when they are there, and saved to it when they were built."""
    path = cache_file(grammar, options)
    if path is not None:
        loaded = _load(path)
        if loaded is not None:
            return loaded
    parser = lark.Lark(grammar, **options)
    if path is not None:
        _save(parser, path)
    return parser


def _load(path: Path) -> lark.Lark | None:
    try:
        with open(path, "rb") as handle:
            if not _trusted(handle.fileno()):
                return None
            loaded = lark.Lark.load(handle)
    except FileNotFoundError:
        return None
    except PermissionError:
        return None  # not ours to read, nor to delete
    except Exception:  # noqa: BLE001 - truncated, corrupt, not ours: rebuilt and replaced
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return loaded if isinstance(loaded, lark.Lark) else None


def _trusted(fd: int) -> bool:
    """Whether a cache file may be loaded (it is a pickle): on POSIX, only one that this
    user owns and that nobody else may write."""
    if not hasattr(os, "getuid"):
        return True
    info = os.fstat(fd)
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _save(parser: lark.Lark, path: Path) -> None:
    """Write the tables whole (a reader sees no file or all of it), or nothing at all."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                parser.save(handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except Exception:  # noqa: BLE001 - a read-only home, a full disk: no cache, silently
        return
