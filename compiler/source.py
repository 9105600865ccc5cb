"""Source files and positions: what every diagnostic and every generated line points back to."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

import attrs

# The largest file clausec reads (clause files, files of tests, facts): far more than any
# contract needs, and a bound on the memory one command takes.
MAX_FILE_BYTES = 64 * 1024 * 1024


class ReadError(OSError):
    """An input that is not read: not a regular file, or larger than MAX_FILE_BYTES. Its
    text is the whole message, `path: what is wrong`."""

    def __init__(self, path: str | Path, message: str, kind: str):
        super().__init__(f"{path}: {message}")
        self.kind = kind  # "not_regular" or "too_large"


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    The file is opened without blocking, so that a named pipe cannot stall the command
    (nothing may ever write to it), and is refused unless it is a regular file: a device
    such as /dev/zero never ends. A file that grows past `limit` while it is read is
    refused too, as one larger than `limit` is.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(21, "Is a directory", str(path))
            what = next((name for test, name in _KINDS if test(info.st_mode)),
                        "not a regular file")
            raise ReadError(path, f"is {what}, not a file; clausec reads regular files only",
                            "not_regular")
        if info.st_size > limit:
            raise ReadError(path, _too_large(info.st_size, limit), "too_large")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew after fstat
                raise ReadError(path, _too_large(None, limit), "too_large")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_large(size: int | None, limit: int) -> str:
    size_text = f" ({size:,} bytes)" if size is not None else ""
    return (f"is too large{size_text}: clausec reads at most {limit:,} bytes "
            f"({limit / (1024 * 1024):g} MiB) from one file")


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates the file private (0600); give it the mode any new file gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_text(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """A text file as clausec reads every input: bounded (read_bytes), decoded leniently
    (a stray byte becomes a diagnostic where it is, not a traceback) and with its line
    ends normalised."""
    text = read_bytes(path, limit).decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@attrs.frozen
class Span:
    """A range in a clause file. Lines and columns count from 1, as editors show them."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class SourceFile:
    """The text of one clause file, with its display name (the path as the user gave it)."""

    name: str
    text: str

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        return cls(str(path), read_text(path))

    def line_text(self, line: int) -> str:
        # Found without splitting the text: a diagnostic in a file of megabytes would
        # otherwise copy it, once per diagnostic.
        if line < 1:
            return ""
        start = 0
        for _ in range(line - 1):
            start = self.text.find("\n", start) + 1
            if start == 0:
                return ""
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def span(self, line: int, column: int, end_line: int | None = None,
             end_column: int | None = None) -> Span:
        return Span(self.name, line, column, end_line or line, end_column or column + 1)


def snippet(lines: list[str], span: Span, limit: int = 100) -> str:
    """The clause source of a construct on one line, comments dropped, cut at `limit`
    characters ("" when the lines are not known): the labels of explanations."""
    lines = lines[span.line - 1:span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        text = lines[0][span.column - 1:span.end_column - 1]
    else:
        text = "\n".join([lines[0][span.column - 1:]] + lines[1:-1]
                         + [lines[-1][:span.end_column - 1]])
    text = re.sub(r"\s+", " ", re.sub(r"#[^\n]*", "", text)).strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."
