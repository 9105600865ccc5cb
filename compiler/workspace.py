"""The clause files an editor works on: open documents (their text as typed, preferred
to the disk), which files belong together (an agreement, its amendments, the files of
tests for it), their analysis and their symbol indexes.

An agreement is analysed with its amendments as `clausec check` analyses it, so the
diagnostics of an amendment are those of the check of its agreement; the front end of
each file is incremental (incremental.py), so re-analysing after an edit re-parses only
the chunk the edit touched, and an unchanged agreement is not parsed again at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

from . import api, navigation
from .diagnostics import Diagnostic, Diagnostics
from .incremental import FileFront
from .source import SourceFile

_HEADER = re.compile(r"^\s*(agreement|amendment|tests\s+for)\s+([A-Za-z_][A-Za-z0-9_]*)"
                     r"(?:\s+\"[^\"]*\"\s+amends\s+([A-Za-z_][A-Za-z0-9_]*))?", re.MULTILINE)


def peek(text: str) -> tuple[str, str, str]:
    """(kind, name, amends) of a clause file's header: kind is agreement, amendment,
    tests or ""; read without parsing, like `api.group` does."""
    match = _HEADER.search(text)
    if match is None:
        return ("", "", "")
    return (match.group(1).split()[0], match.group(2), match.group(3) or "")


@attrs.frozen
class Group:
    """An agreement with its amendments and its files of tests (agreement is None for an
    amendment or a file of tests whose agreement is nowhere to be found)."""

    agreement: Path | None
    amendments: tuple[Path, ...]
    tests: tuple[Path, ...]
    alone: Path | None = None  # the file analysed on its own when there is no agreement

    @property
    def files(self) -> tuple[Path, ...]:
        head = (self.agreement,) if self.agreement else (
            (self.alone,) if self.alone else ())
        return (*head, *self.amendments, *self.tests)


@attrs.frozen
class Analysis:
    group: Group
    result: api.Result | None  # None for a file of tests on its own
    diagnostics: dict[Path, list[Diagnostic]]


class Workspace:
    def __init__(self, roots: list[Path] | None = None) -> None:
        self.roots = roots or []
        self.documents: dict[Path, str] = {}
        self._fronts: dict[Path, FileFront] = {}
        self._indexes: dict[Path, tuple[str, navigation.FileIndex]] = {}
        self.good: dict[Path, api.Result] = {}  # the last analysis without errors

    # ------------------------------------------------------------------ texts

    def open(self, path: Path, text: str) -> None:
        self.documents[path] = _normalise(text)

    def close(self, path: Path) -> None:
        self.documents.pop(path, None)

    def text(self, path: Path) -> str | None:
        if path in self.documents:
            return self.documents[path]
        try:
            return _normalise(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None

    def source(self, path: Path) -> SourceFile:
        return SourceFile(str(path), self.text(path) or "")

    # ------------------------------------------------------------------ groups

    def clause_files(self, near: Path) -> list[Path]:
        """The clause files of the workspace, of the file's folder, and open ones."""
        found: dict[Path, None] = {}
        folders = [near.parent, *self.roots]
        for folder in folders:
            pattern = folder.glob("*.clause") if folder == near.parent else \
                folder.rglob("*.clause")
            for file in sorted(pattern):
                found[file.resolve()] = None
        for file in self.documents:
            found[file] = None
        found[near] = None
        return list(found)

    def group(self, path: Path) -> Group:
        files = self.clause_files(path)
        headers = {f: peek(self.text(f) or "") for f in files}
        kind, name, amends = headers[path]
        if kind in ("amendment", "tests"):
            target = amends if kind == "amendment" else name
            agreement = _agreement(path, target, headers)
            if agreement is None:
                return Group(None, (), (path,) if kind == "tests" else (), alone=(
                    path if kind == "amendment" else None))
            return self._members(agreement, headers)
        return self._members(path, headers)

    def _members(self, agreement: Path, headers: dict[Path, tuple[str, str, str]]) -> Group:
        name = headers[agreement][1]
        amendments = [f for f, (kind, _, amends) in headers.items()
                      if kind == "amendment" and amends == name
                      and _agreement(f, name, headers) == agreement]
        tests = [f for f, (kind, target, _) in headers.items()
                 if kind == "tests" and target == name
                 and _agreement(f, name, headers) == agreement]
        return Group(agreement, tuple(amendments), tuple(tests))

    # ---------------------------------------------------------------- analysis

    def front(self, path: Path) -> FileFront:
        front = self._fronts.get(path)
        if front is None:
            front = self._fronts[path] = FileFront()
        return front

    def _front(self, source: SourceFile, diagnostics: Diagnostics) -> object:
        return self.front(Path(source.name)).front(source, diagnostics)

    def analyse(self, path: Path) -> Analysis:
        """The diagnostics of every file of the group `path` belongs to."""
        group = self.group(path)
        result = None
        head = group.agreement or group.alone
        found: list[Diagnostic] = []
        if head is not None:
            result = api.analyse(self.source(head), [self.source(a) for a in group.amendments],
                                 front=self._front)  # type: ignore[arg-type]
            found.extend(result.diagnostics)
            if result.ok:
                self.good[head] = result
        for test_file in group.tests:
            # A file of tests is not compiled: what its own text says wrong is shown.
            notes = Diagnostics()
            self.front(test_file).front(self.source(test_file), notes)
            found.extend(notes.sorted())
        by_file: dict[Path, list[Diagnostic]] = {f: [] for f in group.files}
        for d in found:
            by_file.setdefault(Path(d.span.file), []).append(d)
        return Analysis(group, result, by_file)

    def last_good(self, group: Group) -> api.Result | None:
        head = group.agreement or group.alone
        return self.good.get(head) if head is not None else None

    # ----------------------------------------------------------------- indexes

    def index(self, path: Path, group: Group | None = None) -> navigation.FileIndex:
        """The symbol index of a file's current text (of the chunks that parse)."""
        text = self.text(path) or ""
        cached = self._indexes.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        group = group or self.group(path)
        front = self.front(path)
        front.front(SourceFile(str(path), text), Diagnostics())
        assert front.last is not None
        agreement = str(group.agreement) if group.agreement else None
        index = navigation.index_file(str(path), front.last.trees, agreement)
        self._indexes[path] = (text, index)
        return index

    def indexes(self, group: Group) -> Iterator[navigation.FileIndex]:
        for file in group.files:
            yield self.index(file, group)


def _agreement(file: Path, name: str, headers: dict[Path, tuple[str, str, str]]
               ) -> Path | None:
    """The agreement named `name` that `file` belongs to: beside it first, as `api.group`
    finds it, then anywhere in the workspace."""
    candidates = [f for f, (kind, n, _) in headers.items() if kind == "agreement" and n == name]
    beside = [f for f in candidates if f.parent == file.parent]
    chosen = beside or candidates
    return min(chosen) if chosen else None


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
