"""Diagnostics: what is wrong, where, and how to fix it.

Every pass reports into a `Diagnostics` collector instead of raising, so that one run
shows all the errors of a file. Only the CLI and the public API decide what to do with
them (print, serialise as JSON, raise `CompileError`).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import Literal

import attrs

from clausec.source import SourceFile, Span

Severity = Literal["error", "warning"]


@attrs.frozen
class Related:
    """A second position that explains a diagnostic (the other rule of a conflict...)."""

    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    code: str = "error"
    related: tuple[Related, ...] = ()

    def render(self, sources: dict[str, SourceFile]) -> str:
        """`file:line:col: error: message`, the offending line, a caret, the hint."""
        out = [f"{self.span}: {self.severity}: {self.message}"]
        out.extend(_excerpt(sources.get(self.span.file), self.span))
        if self.hint:
            out.append(f"  hint: {self.hint}")
        for rel in self.related:
            out.append(f"{rel.span}: note: {rel.message}")
            out.extend(_excerpt(sources.get(rel.span.file), rel.span))
        return "\n".join(out)

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "hint": self.hint,
            "related": [
                {"file": r.span.file, "line": r.span.line, "column": r.span.column,
                 "message": r.message}
                for r in self.related
            ],
        }


# Of a long line, the excerpt shows this many characters either side of the caret: a
# generated one-line clause can be megabytes long.
EXCERPT_CONTEXT = 100


def _excerpt(source: SourceFile | None, span: Span) -> list[str]:
    if source is None:
        return []
    text = source.line_text(span.line).expandtabs(1)
    if not text.strip():
        return []
    width = 1
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    caret = span.column - 1
    start = max(0, caret - EXCERPT_CONTEXT)
    end = min(len(text), caret + max(width, 1) + EXCERPT_CONTEXT)
    shown = text[start:end]
    if start > 0:
        shown = "…" + shown
        caret = caret - start + 1
    if end < len(text):
        shown += "…"
        width = min(width, end - (span.column - 1))
    gutter = f"{span.line:>5} | "
    return [gutter + shown, " " * (len(gutter) + caret) + "^" * max(1, width)]


@attrs.define
class Diagnostics:
    """Collects diagnostics in the order they are found; sorted for output."""

    items: list[Diagnostic] = attrs.field(factory=list)

    def error(self, span: Span, message: str, hint: str | None = None, *,
              code: str = "error", related: Iterable[Related] = ()) -> None:
        self.items.append(Diagnostic("error", span, message, hint, code, tuple(related)))

    def warning(self, span: Span, message: str, hint: str | None = None, *,
                code: str = "warning", related: Iterable[Related] = ()) -> None:
        self.items.append(Diagnostic("warning", span, message, hint, code, tuple(related)))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        seen: set[tuple[object, ...]] = set()
        unique = []
        for d in sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.column)):
            key = (d.span, d.message)
            if key not in seen:
                seen.add(key)
                unique.append(d)
        return unique

    def render(self, sources: dict[str, SourceFile]) -> str:
        return "\n\n".join(d.render(sources) for d in self.sorted())


class CompileError(Exception):
    """Raised by the Python API when a clause file has errors; carries all diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]):
        self.diagnostics = diagnostics
        self.sources = sources
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__(
            f"{len(errors)} error(s)\n" + "\n\n".join(d.render(sources) for d in diagnostics)
        )


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean …" hint for a misspelt name, or None when nothing is close."""
    match = _closest(name, tuple(sorted(set(candidates))))
    return f"did you mean '{match}'?" if match else None


@functools.lru_cache(maxsize=256)
def _closest(name: str, candidates: tuple[str, ...]) -> str | None:
    # Cached: the language server checks the whole agreement on every keystroke, and an
    # unknown name elsewhere in a large file would cost a search over every name each time.
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None
