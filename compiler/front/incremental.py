"""The front end of one file, again and again as it is edited: parse and IR of each
top-level chunk are kept, so an edit re-parses only the chunk it touched.

`parser.parse` tries the whole file and, on a syntax error, parses it chunk by chunk (a
chunk starts at a line that begins with a top-level keyword). The grammar's start rule is
`_item*` and no token crosses a chunk boundary, so when every chunk parses on its own the
whole file parses to the same trees; and when the first failing chunk is k, the whole
file parses if and only if the text from chunk k on does. `FileFront.front` uses both
facts to give exactly what `api._front` gives (trees, IR and diagnostics) while parsing
and transforming only the chunks that changed since the last call.

A chunk's cache key is its text and its first line: positions in trees and IR are
absolute, so a chunk that moved to another line is parsed again.
"""

from __future__ import annotations

import attrs
import lark
from lark import Token
from lark.exceptions import UnexpectedInput

from clausec import ir
from clausec.diagnostics import Diagnostic, Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile


@attrs.frozen
class Chunk:
    """One top-level chunk: its trees and their IR, or the syntax error that stopped it."""

    start_line: int
    text: str
    trees: tuple[lark.Tree[Token], ...]
    nodes: tuple[object, ...]  # the IR of each tree (transform.ToIR's result)
    notes: tuple[Diagnostic, ...]  # what transforming the trees reported
    error: UnexpectedInput | None


@attrs.frozen
class Front:
    """The last front end of a file: its trees (of the chunks that parsed) and IR."""

    source: SourceFile
    trees: tuple[lark.Tree[Token], ...]
    program: ir.Program
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_syntax_errors(self) -> bool:
        return any(d.code == "syntax" for d in self.diagnostics)


class FileFront:
    """Parse and IR of one file, reusing the chunks that did not change."""

    def __init__(self) -> None:
        self._chunks: dict[tuple[int, str], Chunk] = {}
        self.last: Front | None = None

    def front(self, source: SourceFile, diagnostics: Diagnostics) -> ir.Program:
        """What `api._front` returns for `source`, reporting into `diagnostics`."""
        if self.last is not None and self.last.source == source:
            diagnostics.items.extend(self.last.diagnostics)
            return self.last.program
        own = Diagnostics()
        trees, nodes, notes = self._parse(source, own)
        for note in notes:
            own.items.append(note)
        # build() transforms each item; an item that is IR already passes through lark's
        # Transformer unchanged, so build only assembles (headers, test files, names of
        # unnamed exceptions), exactly as it does after transforming.
        program = transform.build(source.name, nodes, own)  # type: ignore[arg-type]
        self.last = Front(source, tuple(trees), program, tuple(own.items))
        diagnostics.items.extend(own.items)
        return program

    def _parse(self, source: SourceFile, diagnostics: Diagnostics
               ) -> tuple[list[lark.Tree[Token]], list[object], list[Diagnostic]]:
        pieces = parser.chunks(source.text)
        chunks = [self._chunk(source.name, line, text) for line, text in pieces]
        # Keep only the chunks of this text: the cache stays the size of the file.
        self._chunks = {(c.start_line, c.text): c for c in chunks}
        failed = next((i for i, c in enumerate(chunks) if c.error is not None), None)
        if failed is None:
            return _gather(chunks)
        suffix = self._suffix(source, chunks[failed])
        if suffix is not None:  # the file parses as a whole: no chunk error counts
            return _gather([*chunks[:failed], suffix])
        for i, chunk in enumerate(chunks):
            if chunk.error is not None:
                following = chunks[i + 1].start_line if i + 1 < len(chunks) else None
                parser.report_syntax_error(source, chunk.error, diagnostics, following)
        return _gather([c for c in chunks if c.error is None])

    def _chunk(self, file: str, start_line: int, text: str) -> Chunk:
        cached = self._chunks.get((start_line, text))
        if cached is not None:
            return cached
        try:
            # Padding with newlines keeps line numbers true to the file, as parse() does.
            start = parser.lark_parser().parse("\n" * (start_line - 1) + text)
        except UnexpectedInput as error:
            return Chunk(start_line, text, (), (), (), error)
        return _transformed(file, start_line, text, parser.top_level_trees(start))

    def _suffix(self, source: SourceFile, first_failed: Chunk) -> Chunk | None:
        """The text from the first failing chunk to the end, parsed as one chunk, or None
        if it does not parse."""
        lines = source.text.split("\n")
        text = "\n".join(lines[first_failed.start_line - 1:])
        try:
            start = parser.lark_parser().parse("\n" * (first_failed.start_line - 1) + text)
        except UnexpectedInput:
            return None
        return _transformed(source.name, first_failed.start_line, text,
                            parser.top_level_trees(start))


def _transformed(file: str, start_line: int, text: str,
                 trees: list[lark.Tree[Token]]) -> Chunk:
    notes = Diagnostics()
    # As parser.parse does for the whole file; padded so that positions are the file's.
    parser.limit_nesting(trees, SourceFile(file, "\n" * (start_line - 1) + text), notes)
    to_ir = transform.ToIR(file, notes)
    nodes = tuple(to_ir.transform(tree) for tree in trees)
    return Chunk(start_line, text, tuple(trees), nodes, tuple(notes.items), None)


def _gather(chunks: list[Chunk]
            ) -> tuple[list[lark.Tree[Token]], list[object], list[Diagnostic]]:
    trees = [t for c in chunks for t in c.trees]
    nodes = [n for c in chunks for n in c.nodes]
    notes = [d for c in chunks for d in c.notes]
    return trees, nodes, notes
