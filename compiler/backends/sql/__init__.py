"""The SQL backend: the agreement's logic as one query over a table of facts, one row per
case, run embedded in DuckDB or on Spark (engines.py).

`plan.compile_plan` builds the query as a sqlglot syntax tree (never by pasting strings:
every name is an identifier node and every text a string literal, which sqlglot quotes
for the dialect), from the same checked IR the other backends read. `translate.py` reads
each expression as two SQL expressions, its value and its error (NULL where there is
none), in stages of columns so that no subexpression is written twice; a term with no
value is NULL with no error, as None is in the Python module. What has no translation yet
is a compile error naming the construct (`UntranslatableError`).
"""

from __future__ import annotations

from clausec.backends.sql.plan import (
    CALENDAR_YEARS,
    DECIMAL_PLACES,
    CalendarTable,
    FactColumn,
    Output,
    Plan,
    SqlError,
    compile_plan,
    untranslated,
)

__all__ = ["CALENDAR_YEARS", "DECIMAL_PLACES", "CalendarTable", "FactColumn", "Output", "Plan",
           "SqlError", "compile_plan", "untranslated"]
