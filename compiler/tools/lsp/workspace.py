"""The clause files an editor works on: open documents (their text as typed, preferred
to the disk), which files belong together (an agreement, its amendments, the files of
tests for it), their analysis and their symbol indexes.

An agreement is analysed with its amendments as `clausec check` analyses it, so the
diagnostics of an amendment are those of the check of its agreement; the front end of
each file is incremental (incremental.py), so re-analysing after an edit re-parses only
the chunk the edit touched, and an unchanged agreement is not parsed again at all.

What is kept is bounded, whatever an editor sends: the state of an open document (its
text, front end and index) lives until it is closed; that of any other file (closed, or
read from disk as a member of a group, or asked about without being opened) is in a
least-recently-used cache of CLOSED_FILES files; the last analysis without errors, of at
most GOOD_RESULTS agreements.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import attrs

from clausec import api
from clausec.diagnostics import Diagnostic, Diagnostics
from clausec.front.incremental import FileFront
from clausec.front.parser import peek_header
from clausec.source import SourceFile, read_text
from clausec.tools.lsp import navigation

# A group's files are read again on every keystroke: those not open stay parsed, but
# only so many (each holds parse trees and IR, tens of kB for a seed contract).
CLOSED_FILES = 32
# A last good analysis holds a whole checked agreement; hover needs the open ones only.
GOOD_RESULTS = 16
# Folders looked into per search of the workspace for clause files: a workspace opened
# at / is not walked whole on every request.
WALK_LIMIT = 10_000

K = TypeVar("K")
V = TypeVar("V")


class LRU(OrderedDict[K, V]):
    """A dict of at most `size` entries: reading or writing one makes it the newest,
    and writing past `size` forgets the oldest."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


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
        self._open = _FileState()  # of the open documents
        self._closed = _FileState(CLOSED_FILES)  # of any other file
        self.good: LRU[Path, api.Result] = LRU(GOOD_RESULTS)  # the last analysis without errors

    # ------------------------------------------------------------------ texts

    def open(self, path: Path, text: str) -> None:
        if path not in self.documents:
            self._open.take(self._closed, path)
        self.documents[path] = _normalise(text)

    def close(self, path: Path) -> None:
        if self.documents.pop(path, None) is not None:
            # Still of use while its group is edited, as a file on disk.
            self._closed.take(self._open, path)

    def text(self, path: Path) -> str | None:
        """An open document's text, else the file's on disk (None if there is no file: a
        device, a folder or a file too large is none either)."""
        if path in self.documents:
            return self.documents[path]
        try:
            return read_text(path)
        except (OSError, ValueError):  # ValueError: a path with a NUL in it
            return None

    def _state(self, path: Path) -> _FileState:
        return self._open if path in self.documents else self._closed

    def source(self, path: Path) -> SourceFile:
        return SourceFile(str(path), self.text(path) or "")

    # ------------------------------------------------------------------ groups

    def clause_files(self, near: Path) -> list[Path]:
        """The clause files of the workspace, of the file's folder, and open ones."""
        found: dict[Path, None] = {}
        for file in sorted(near.parent.glob("*.clause")):
            found[file.resolve()] = None
        for root in self.roots:
            for file in _clause_files_under(root):
                found[file.resolve()] = None
        for file in self.documents:
            found[file] = None
        found[near] = None
        return list(found)

    def group(self, path: Path) -> Group:
        files = self.clause_files(path)
        headers = {f: peek_header(self.text(f) or "") for f in files}
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
        state = self._state(path)
        front = state.fronts.get(path)
        if front is None:
            front = state.fronts[path] = FileFront()
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
        cached = self._state(path).indexes.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        group = group or self.group(path)
        front = self.front(path)
        front.front(SourceFile(str(path), text), Diagnostics())
        assert front.last is not None
        agreement = str(group.agreement) if group.agreement else None
        index = navigation.index_file(str(path), front.last.trees, agreement)
        self._state(path).indexes[path] = (text, index)
        return index

    def indexes(self, group: Group) -> Iterator[navigation.FileIndex]:
        for file in group.files:
            yield self.index(file, group)


class _FileState:
    """The front ends and symbol indexes of files: of as many as there are (`size`
    None), or of the `size` most recently used."""

    def __init__(self, size: int | None = None) -> None:
        self.fronts: dict[Path, FileFront] = {} if size is None else LRU(size)
        self.indexes: dict[Path, tuple[str, navigation.FileIndex]] = (
            {} if size is None else LRU(size))

    def take(self, other: _FileState, path: Path) -> None:
        """Move what `other` has of `path` here."""
        front = other.fronts.pop(path, None)
        if front is not None:
            self.fronts[path] = front
        index = other.indexes.pop(path, None)
        if index is not None:
            self.indexes[path] = index

    def __len__(self) -> int:
        return len(self.fronts.keys() | self.indexes.keys())


def _clause_files_under(root: Path) -> list[Path]:
    """The clause files under `root`, sorted: in its folders (symbolic links to folders
    are not followed) but hidden ones and those of tools (.git, .venv, node_modules,
    __pycache__), WALK_LIMIT folders at most, in the order of their names."""
    found: list[Path] = []
    for visited, (folder, folders, files) in enumerate(os.walk(root)):
        if visited >= WALK_LIMIT:
            break
        folders[:] = sorted(f for f in folders if not f.startswith(".")
                            and f not in _NOT_SEARCHED)
        found.extend(Path(folder, name) for name in files if name.endswith(".clause"))
    return sorted(found)


_NOT_SEARCHED = frozenset({"node_modules", "__pycache__"})


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
