"""pytest plugin: the scenario tests of clause files, collected as pytest tests.

Installed with clausec (entry point `pytest11`), so it is loaded in every pytest run of
every project: it must cost nothing and break nothing where there are no clause tests.
It only looks at `*.clause` files, and only at those that contain a `test "..."` block
(a regular expression on the bytes, before anything is parsed); clausec itself is imported
only then. Each `test` block is one item, named by its description. An agreement is
compiled once per run, however many files of tests it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HAS_TESTS = re.compile(rb'^[ \t]*test[ \t]+"', re.MULTILINE)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".clause":
        return None
    from clausec.source import ReadError, read_bytes

    try:
        data = read_bytes(file_path)
    except ReadError as error:
        if error.kind == "not_regular":
            return None  # a pipe or a device holds no tests to collect
        data = b""  # too large: collected, so that the reason is reported
    except OSError:
        return None
    else:
        if not _HAS_TESTS.search(data):
            return None
    file: ClauseFile = ClauseFile.from_parent(parent, path=file_path)
    return file


class ClauseCollectError(Exception):
    """The clause files of an agreement, or its tests, have errors (the text says which)."""


class ClauseTestFailure(Exception):
    """A clause test whose expectations did not all hold (carries the testing result)."""

    def __init__(self, result: Any):
        super().__init__(result.test.description)
        self.result = result


# Compiled agreements of this run, by their files: (analysis, module).
_COMPILED: dict[tuple[Path, tuple[Path, ...]], tuple[Any, Any]] = {}


class ClauseFile(pytest.File):
    """A clause file with `test` blocks: collects one item per test."""

    def collect(self) -> Iterator[pytest.Item]:
        from clausec.source import ReadError, read_bytes
        from clausec.tools import testing  # here: unrelated projects never import clausec

        try:
            read_bytes(self.path)  # one too large to read says so, not "no tests"
            # The file's folder, for its agreement and that agreement's amendments.
            siblings = sorted(self.path.parent.glob("*.clause"))
            found = testing.discover(siblings)
        except ReadError as error:
            raise ClauseCollectError(str(error)) from None
        own = [d for d in found.diagnostics if Path(d.span.file) == self.path]
        if own:
            raise ClauseCollectError(_render(own, found.sources))
        suite = next((s for s in found.suites if self.path in s.test_files), None)
        if suite is None:
            return
        suite = testing.Suite(suite.agreement, suite.amendments, (self.path,))
        key = (suite.agreement, suite.amendments)
        result, module = _COMPILED.get(key, (None, None))
        try:
            prepared = testing.prepare(suite, result, module=module)
        except ReadError as error:
            raise ClauseCollectError(str(error)) from None
        if prepared.result is not None and prepared.module is not None:
            _COMPILED[key] = (prepared.result, prepared.module)
        if not prepared.ok:
            errors = [d for d in prepared.diagnostics if d.severity == "error"]
            raise ClauseCollectError(_render(errors, prepared.sources))
        for located in prepared.tests:
            item: ClauseTestItem = ClauseTestItem.from_parent(
                self, name=located.test.description, prepared=prepared, located=located)
            yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, ClauseCollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ClauseTestItem(pytest.Item):
    """One `test "..." { ... }` block."""

    def __init__(self, *, prepared: Any, located: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.prepared = prepared
        self.located = located
        # Other plugins' hooks (pytest-lsp's) look for fixtures' values on every item.
        self.funcargs: dict[str, Any] = {}

    def runtest(self) -> None:
        from clausec.tools import testing

        result = testing.run_test(self.prepared, self.located)
        if not result.passed:
            raise ClauseTestFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, ClauseTestFailure):
            from clausec.tools import testing

            return testing.render_failure(excinfo.value.result)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.located.test.span.line - 1, f'test "{self.name}"'


def _render(diagnostics: list[Any], sources: dict[str, Any]) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    text = "\n\n".join(d.render(sources) for d in diagnostics)
    return f"{text}\n\n{errors} error{'s' * (errors != 1)} in clause files"
