"""What every command of the command line shares: its errors and exit codes, reading its
inputs (clause files, folders of them, facts files), printing diagnostics, and saying
which optional extra a command needs when it is not installed.

Cheap to import: the pipeline (api) is imported by the functions that run it, so that
`clausec --help` and the parser of the command line cost nothing of it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clausec.diagnostics import Diagnostic
from clausec.source import ReadError, SourceFile, write_atomically

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


def analyse(path: str) -> api.Result:
    """The one agreement (with its amendments) at `path`, which must compile."""
    results = groups([path])
    if len(results) > 1:
        names = ", ".join(r.source.name for r in results)
        raise UserError(f"{path} holds {len(results)} agreements ({names}); name one")
    result = results[0]
    if not result.ok:
        print_diagnostics(result.diagnostics, result.sources)
        raise UserError(f"{path}: {summary(result.diagnostics)}")
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


def load_facts(path: str | None) -> dict[str, Any]:
    """The facts of a JSON file (none without a file), numbers as Decimal."""
    if path is None:
        return {}
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
