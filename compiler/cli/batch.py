"""`clausec batch`: an agreement's answers for every row of a table of facts (a portfolio),
run by DuckDB on this machine or by Spark, locally or on a cluster
(compiler/backends/sql/engines.py). Without -o, the first rows as a table and the counts;
with -o, every row written to a Parquet, CSV or JSON-lines file, atomically."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from clausec.cli.common import EXIT_OK, UserError, analyse
from clausec.cli.sql import report, sql_backend

# How many rows the table printed without -o shows, and how wide a cell may be (the last
# column, the error, is left whole: nothing is aligned after it).
PREVIEW_ROWS = 10
CELL_WIDTH = 40


def run(args: argparse.Namespace) -> int:
    sql_backend("batch", "sqlglot, duckdb and pyarrow")
    from clausec.backends.sql import SqlError, engines

    engine = "spark" if args.master else args.engine
    progress = sys.stderr.isatty() if args.progress is None else bool(args.progress)
    try:
        engines.require(engine)
        if args.output:
            engines.output_format(args.output)  # refused before the work, not after
        result = analyse(args.file)
        try:
            prepared = engines.prepare(result, args.facts, args.names, engine=engine,
                                       as_of=args.as_of, master=args.master,
                                       progress=progress, as_of_column=args.as_of_column)
        except SqlError as error:
            report(error, result, args.file)
        if args.output:
            counts = prepared.write(args.output)
            print(f"{args.output}: {_counted(counts.rows, counts.errors)}")
            return EXIT_OK
        columns, rows = prepared.preview(PREVIEW_ROWS)
        counts = prepared.counts()
    except engines.MissingExtraError as error:
        raise UserError(f"clausec batch{' --engine spark' * (engine == 'spark')} needs "
                        f"{error.packages}: pip install 'clausec[{error.extra}]'") from None
    except engines.BatchError as error:
        raise UserError(str(error)) from None
    print(render_table(columns, rows))
    shown = f" (the first {len(rows)} shown)" if counts.rows > len(rows) else ""
    print(f"{_counted(counts.rows, counts.errors)}{shown}")
    return EXIT_OK


def _counted(rows: int, errors: int) -> str:
    return f"{rows} row{'s' * (rows != 1)}, {errors} with errors"


def render_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as an aligned text table under their column names."""
    cells = [[_cell(c) for c in columns]] + [[_cell(v) for v in row] for row in rows]
    last = len(columns) - 1
    for line in cells:
        for k, text in enumerate(line[:last]):
            if len(text) > CELL_WIDTH:
                line[k] = text[:CELL_WIDTH - 1] + "…"
    widths = [max(len(line[k]) for line in cells) for k in range(len(columns))]
    return "\n".join("  ".join(text.ljust(widths[k]) for k, text in enumerate(line)).rstrip()
                     for line in cells)


def _cell(value: object) -> str:
    """A value as the table shows it: no value blank, amounts without trailing zeros,
    times in UTC marked Z, and no control characters (the facts' text is the user's)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
