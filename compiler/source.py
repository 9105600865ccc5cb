"""Source files and positions: what every diagnostic and every generated line points back to."""

from __future__ import annotations

import re
from pathlib import Path

import attrs


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
        raw = Path(path).read_bytes()
        # Decode leniently: a stray byte should become a diagnostic, not a traceback.
        text = raw.decode("utf-8", errors="replace")
        return cls(str(path), text.replace("\r\n", "\n").replace("\r", "\n"))

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 1 <= line <= len(lines) else ""

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
