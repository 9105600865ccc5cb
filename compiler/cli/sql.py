"""`clausec sql`: the SQL query that answers an agreement's terms, conditions, obligations
and powers for every row of a table of facts, in DuckDB's, Spark's or another dialect
(the SQL backend, compiler/backends/sql). What has no SQL translation is reported as
`clausec check` reports errors: where, with a caret.

Also what `clausec batch` shares with it: the backend imported only if its extra is
installed, and its compile errors reported."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from clausec import api
from clausec.cli.common import (
    EXIT_OK,
    UserError,
    analyse,
    print_diagnostics,
    summary,
    write_atomically,
)
from clausec.diagnostics import CompileError

# The modules of the `sql` extra that the backend itself imports.
SQL_MODULES = ("sqlglot",)


def run(args: argparse.Namespace) -> int:
    backend = sql_backend("sql", "sqlglot")
    dialect = _dialect(args.dialect)
    columns = _columns(args.columns) if args.columns is not None else None
    result = analyse(args.file)
    try:
        plan = backend.compile_plan(result, args.names, dialect=dialect, as_of=args.as_of,
                                    columns=columns)
    except backend.SqlError as error:
        report(error, result, args.file)
    # A statement, ended as a SQL file or a client wants it.
    text = plan.sql(pretty=True) + ";\n"
    if args.output:
        try:
            write_atomically(Path(args.output), text)
        except OSError as error:
            raise UserError(f"{args.output}: cannot write: "
                            f"{error.strerror or error}") from None
    else:
        sys.stdout.write(text)
    return EXIT_OK


def sql_backend(command: str, packages: str) -> ModuleType:
    """The SQL backend (clausec.backends.sql), or a UserError saying that `command` needs
    the `sql` extra: it builds its queries with sqlglot."""
    try:
        from clausec.backends import sql
    except ImportError as error:
        if error.name not in SQL_MODULES:
            raise
        raise UserError(f"clausec {command} needs {packages}: pip install "
                        "'clausec[sql]'") from None
    return sql


def report(error: CompileError, result: api.Result, path: str) -> NoReturn:
    """What has no SQL translation (or a name the agreement does not have), printed as
    `clausec check` prints diagnostics, then the count as the error."""
    print_diagnostics(error.diagnostics, {**result.sources, **error.sources})
    raise UserError(f"{path}: no SQL translation: {summary(error.diagnostics)}")


def _dialect(name: str) -> str:
    """A dialect sqlglot knows, by its name (any case)."""
    from sqlglot.dialects.dialect import Dialect, Dialects

    known = sorted(d.value for d in Dialects if d.value)
    if name.lower() not in known or Dialect.get(name.lower()) is None:
        raise UserError(f"unknown SQL dialect {name!r}: use one of {', '.join(known)}")
    return name.lower()


def _columns(text: str) -> list[str]:
    """The facts table's columns, as --columns gives them: COL,COL,..."""
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        raise UserError("--columns: give the facts table's columns, separated by commas")
    repeated = _repeated(columns)
    if repeated:
        raise UserError(f"--columns: {', '.join(map(repr, repeated))} given twice")
    return columns


def _repeated(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    again: list[str] = []
    for name in names:
        if name in seen:
            again.append(name)
        seen.add(name)
    return again
