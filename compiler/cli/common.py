"""What every command of the command line shares: its errors and exit codes, reading its
inputs (clause files, folders of them, facts files), printing diagnostics, and saying
which optional extra a command needs when it is not installed.

Cheap to import: the pipeline (api) is imported by the functions that run it, so that
`clausec --help` and the parser of the command line cost nothing of it.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import importlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from clausec.diagnostics import Diagnostic
from clausec.source import MAX_FILE_BYTES, ReadError, SourceFile, write_atomically

if TYPE_CHECKING:
    from clausec import api

__all__ = [
    "EXIT_ERRORS", "EXIT_INTERNAL", "EXIT_OK", "MAX_FACTS_NESTING", "MAX_NUMBER_DIGITS",
    "UserError", "analyse", "groups", "iso_date", "load_facts", "positive",
    "print_diagnostics", "read", "require", "summary", "write_atomically",
]

EXIT_OK, EXIT_ERRORS, EXIT_INTERNAL = 0, 1, 2


class UserError(Exception):
    """A problem with the command's input, reported as one message."""


# ------------------------------------------------------------ argument types


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ------------------------------------------------------------------- extras

# The optional extras of the package (pyproject.toml): which modules each brings, by the
# name of the distribution that provides them.
EXTRAS = {
    "verify": {"z3": "z3-solver", "hypothesis": "hypothesis"},
    "lsp": {"pygls": "pygls", "lsprotocol": "pygls"},
}


def available(extra: str) -> bool:
    """Whether every module of an optional extra imports."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except (ImportError, OSError):  # OSError: z3 installed without its native library
            return False
    return True


def require(command: str, extra: str) -> None:
    """Refuse to run `command` without the optional extra it needs, saying how to
    install it."""
    if not available(extra):
        needs = " and ".join(dict.fromkeys(EXTRAS[extra].values()))
        raise UserError(f"clausec {command} needs {needs}: pip install 'clausec[{extra}]'")


# ------------------------------------------------------------ reading inputs


def read(path: str) -> SourceFile:
    try:
        return SourceFile.read(path)
    except ReadError as error:
        raise UserError(str(error)) from None
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a clause file") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror}") from None


def print_diagnostics(diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    for d in diagnostics:
        print(d.render(sources), file=sys.stderr)
        print(file=sys.stderr)


def summary(diagnostics: list[Diagnostic]) -> str:
    """The count of errors and warnings: "2 errors, 1 warning"."""
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def groups(paths: Sequence[str]) -> list[api.Result]:
    """Each agreement among the paths analysed with its amendments."""
    from clausec import api

    for path in paths:
        if not Path(path).exists():
            raise UserError(f"{path}: no such file or folder")
    grouped = api.group(paths)
    if not grouped:
        raise UserError(f"{', '.join(paths)}: no .clause files")
    return [api.analyse(read(str(agreement)), [read(str(a)) for a in amendments])
            for agreement, amendments in grouped]


def analyse(path: str | Sequence[str]) -> api.Result:
    """The one agreement (with its amendments) at `path` (a clause file or folder, or
    several), which must compile."""
    paths = [path] if isinstance(path, str) else list(path)
    results = groups(paths)
    where = ", ".join(paths)
    if len(results) > 1:
        names = ", ".join(r.source.name for r in results)
        raise UserError(f"{where} holds {len(results)} agreements ({names}); name one")
    result = results[0]
    if not result.ok:
        print_diagnostics(result.diagnostics, result.sources)
        raise UserError(f"{where}: {summary(result.diagnostics)}")
    return result


# ---------------------------------------------------------------- facts files

# A facts file is an object of plain values: it nests a level or two, and its numbers are
# amounts and counts. Beyond these bounds the JSON reader itself would fail (Python's
# parser recurses once per level; int() refuses more than 4,300 digits).
MAX_FACTS_NESTING = 64
MAX_NUMBER_DIGITS = 100  # as for a number in a clause file
# Strings (skipped), brackets and numbers of a JSON text.
_JSON_PARTS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]'
                         r"|-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def load_facts(paths: str | Sequence[str] | None) -> dict[str, Any]:
    """The facts of the files given (none without a file), merged: JSON objects (numbers
    as Decimal) and CSV files of the columns fact,period,value (values as text). A series
    (one value per period) may take its values from several files; any other fact, and
    any period of a series, is given once."""
    if paths is None:
        return {}
    if isinstance(paths, str):
        paths = [paths]
    merged: dict[str, Any] = {}
    # Where each fact (and each period of a series, by its name as written) was given.
    origins: dict[str, str] = {}
    periods: dict[str, dict[str, str]] = {}
    for path in paths:
        if path.lower().endswith(".csv"):
            data, where = _load_csv(path)
        else:
            data = _load_json(path)
            where = {name: path for name in data}
        for name, value in data.items():
            _merge_fact(merged, origins, periods, name, value, where[name], path)
    return merged


def _load_json(path: str) -> dict[str, Any]:
    """The facts of a JSON file, numbers as Decimal."""
    source = read(path)
    _check_json_limits(source)
    try:
        data = json.loads(source.text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise UserError(_json_problem(source, error.lineno, error.colno,
                                      f"invalid JSON: {error.msg}")) from None
    except (RecursionError, ValueError) as error:  # beyond what _check_json_limits sees
        raise UserError(f"{path}: cannot read the facts: {error}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the facts must be a JSON object {{\"fact\": value, ...}}")
    return data


def _series_rows(value: object) -> list[tuple[object, object]] | None:
    """The (period, value) pairs of a series as a facts file gives it (a mapping of
    periods to values, or a list of {"period": ..., "value": ...}); None for a value that
    is not a series."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list) and value and all(
            isinstance(row, Mapping) and set(row) == {"period", "value"} for row in value):
        return [(row["period"], row["value"]) for row in value]
    return None


def _period_key(period: object) -> str:
    """A period's name as written, for finding the same name given twice (labels are
    matched without regard to case or spacing)."""
    return " ".join(str(period).split()).lower()


def _merge_fact(merged: dict[str, Any], origins: dict[str, str],
                periods: dict[str, dict[str, str]], name: str, value: object,
                where: str | dict[str, str], path: str) -> None:
    """Add one fact of a file to the facts of the files before it. `where` is the file
    (or line) that gave it, or for a series from a CSV file the line of each period."""
    rows = _series_rows(value)
    if name not in merged:
        merged[name] = value
        origins[name] = where if isinstance(where, str) else path
        if rows is not None:
            periods[name] = {_period_key(p): (where.get(_period_key(p), path)
                                              if isinstance(where, dict) else where)
                             for p, _ in rows}
        return
    before = _series_rows(merged[name])
    if rows is None or before is None:
        again = where if isinstance(where, str) else path
        raise UserError(f"fact {name!r} is given twice: in {origins[name]} and in {again}")
    seen = periods[name]
    for period, _ in rows:
        key = _period_key(period)
        here = where.get(key, path) if isinstance(where, dict) else where
        if key in seen:
            raise UserError(f"fact {name!r} has two values for the period {period!r}: in "
                            f"{seen[key]} and in {here}")
        seen[key] = here
    merged[name] = [{"period": p, "value": v} for p, v in before + rows]


# A CSV facts file, in long form: one row per value, the period empty for a fact that is
# not a series.
CSV_COLUMNS = ("fact", "period", "value")


def _load_csv(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The facts of a CSV file with the columns fact,period,value, read a line at a time:
    the facts (a series as a mapping of periods to values, every value as text) and
    where each was given (`file:line`, for a series by period)."""
    facts: dict[str, Any] = {}
    where: dict[str, Any] = {}
    lines: dict[str, int] = {}  # the line of each plain fact
    series_lines: dict[str, dict[str, tuple[str, int]]] = {}  # fact -> period -> line
    with _open_bounded(path) as handle:
        reader = csv.reader(_decoded_lines(path, handle), strict=True)
        header: list[str] | None = None
        last = 0
        try:
            for row in reader:
                line, last = last + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                cells = [cell.strip() for cell in row]
                if header is None:
                    header = [cell.lower() for cell in cells]
                    if sorted(header) != sorted(CSV_COLUMNS):
                        raise UserError(f"{path}:{line}: the header must name the columns "
                                        f"fact,period,value, not {','.join(cells)!r}")
                    continue
                if len(cells) != 3:
                    few = "missing" if len(cells) < 3 else "extra"
                    raise UserError(f"{path}:{line}: {len(cells)} column(s) where the header "
                                    f"has 3 ({','.join(header)}): a column is {few}")
                record = dict(zip(header, cells))
                name, period, value = record["fact"], record["period"], record["value"]
                if not name:
                    raise UserError(f"{path}:{line}: no fact named in the column 'fact'")
                if not period:
                    if name in series_lines:
                        first = next(iter(series_lines[name].values()))[1]
                        raise UserError(f"{path}:{line}: fact {name!r} is given without a "
                                        f"period, but line {first} gives it one value per "
                                        "period")
                    if name in lines:
                        raise UserError(f"{path}:{line}: fact {name!r} is given twice "
                                        f"(lines {lines[name]} and {line})")
                    lines[name] = line
                    facts[name] = value
                    where[name] = f"{path}:{line}"
                    continue
                if name in lines:
                    raise UserError(f"{path}:{line}: fact {name!r} is given for the period "
                                    f"{period!r}, but line {lines[name]} gives it without "
                                    "a period")
                seen = series_lines.setdefault(name, {})
                key = _period_key(period)
                if key in seen:
                    raise UserError(f"{path}:{line}: fact {name!r} has a second value for "
                                    f"the period {period!r} (lines {seen[key][1]} and "
                                    f"{line})")
                seen[key] = (period, line)
                facts.setdefault(name, {})[period] = value
                where.setdefault(name, {})[key] = f"{path}:{line}"
        except csv.Error as error:
            raise UserError(f"{path}:{reader.line_num}: not a valid CSV line: "
                            f"{error}") from None
    if header is None:
        raise UserError(f"{path}: no header: a CSV facts file starts with the line "
                        "fact,period,value")
    return facts, where


class _open_bounded:  # a context manager, named like open()
    """A regular file of at most MAX_FILE_BYTES, opened for reading in binary (as
    source.read_bytes checks its inputs, but read as a stream)."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                         | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a directory, not a facts file") from None
        except OSError as error:
            raise UserError(f"{path}: cannot read: {error.strerror}") from None
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise UserError(f"{path}: is a directory, not a facts file")
            if not stat.S_ISREG(info.st_mode):
                raise ReadError(path, "is not a regular file; clausec reads regular files "
                                "only", "not_regular")
            if info.st_size > MAX_FILE_BYTES:
                raise ReadError(path, _too_large(info.st_size), "too_large")
        except BaseException:
            os.close(fd)
            raise
        self.handle = os.fdopen(fd, "rb")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for raw in self.handle:
            size += len(raw)
            if size > MAX_FILE_BYTES:  # it grew after fstat
                raise ReadError(self.path, _too_large(None), "too_large")
            yield raw


def _too_large(size: int | None) -> str:
    """What source.read_bytes says of a file too large to read."""
    size_text = f" ({size:,} bytes)" if size is not None else ""
    return (f"is too large{size_text}: clausec reads at most {MAX_FILE_BYTES:,} bytes "
            f"({MAX_FILE_BYTES / (1024 * 1024):g} MiB) from one file")


def _decoded_lines(path: str, lines: Iterator[bytes] | _open_bounded) -> Iterator[str]:
    """The lines of a file as UTF-8 text (a byte order mark at its start dropped), with
    their line ends, as the csv module reads them; an error names the line and column."""
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            column = len(raw[:error.start].decode("utf-8", errors="replace")) + 1
            raise UserError(f"{path}:{number}:{column}: not UTF-8 text (byte "
                            f"0x{raw[error.start]:02x}); save the file as UTF-8 (\"CSV "
                            "UTF-8\" in a spreadsheet)") from None


def _check_json_limits(source: SourceFile) -> None:
    """Refuse, with where, JSON nested deeper than MAX_FACTS_NESTING or with a whole
    number of more than MAX_NUMBER_DIGITS digits, before the JSON reader meets them."""
    text = source.text
    depth = 0
    for match in _JSON_PARTS.finditer(text):
        at = match.start()
        first = text[at]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_FACTS_NESTING:
                problem = f"the facts nest more than {MAX_FACTS_NESTING} levels deep"
                hint = "give each fact a plain value: true, 42, \"$1,800,000\", \"2004-03-31\""
            else:
                continue
        elif first in "]}":
            depth = max(0, depth - 1)
            continue
        else:
            number = match.group()
            digits = len(number.lstrip("-"))
            if any(c in number for c in ".eE") or digits <= MAX_NUMBER_DIGITS:
                continue
            problem = f"a number of {digits} digits is too long"
            hint = f"numbers may have at most {MAX_NUMBER_DIGITS} digits"
        line = text.count("\n", 0, at) + 1
        column = at - text.rfind("\n", 0, at)
        raise UserError(_json_problem(source, line, column, problem, hint))


def _json_problem(source: SourceFile, line: int, column: int, problem: str,
                  hint: str | None = None) -> str:
    """`file:line:col: problem`, the line (a window of it, when long) with a caret."""
    text = source.line_text(line)
    start = max(0, column - 1 - 60)
    shown = text[start:start + 120]
    prefix = "..." if start else ""
    suffix = "..." if start + 120 < len(text) else ""
    caret = " " * (len(prefix) + column - 1 - start) + "^"
    out = f"{source.name}:{line}:{column}: {problem}\n  {prefix}{shown}{suffix}\n  {caret}"
    return out + (f"\n  hint: {hint}" if hint else "")
