"""The SQL backend against the Python module, row by row: hypothesis-generated programs
(test_differential.py's generator) and fact tables, every answer the same from DuckDB as
from the compiled module (its value, no value, or its error's class). Decimals are
compared at the SQL backend's 10 places (quotients are rounded half up there), dates and
times in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from test_differential import Program, fact_values, programs

from clausec import api, ir
from clausec.backends.interpret import interpret
from clausec.backends.python.codegen import py_name
from clausec.backends.sql import Plan, SqlError, compile_plan, untranslated
from clausec.source import SourceFile

# How many names the run compared, and how many the SQL backend could not translate: a
# run that compares almost nothing proves nothing.
COUNTS = {"compared": 0, "untranslated": 0, "rows": 0, "refused": 0}
FACT_ROWS = 12

ARROW = {"bool": pa.bool_(), "integer": pa.int64(), "days": pa.int64(),
         "business_days": pa.int64(), "named_business_days": pa.int64(),
         "months": pa.int64(), "decimal": pa.decimal128(38, 10), "money": pa.decimal128(38, 10),
         "percent": pa.decimal128(38, 10), "date": pa.date32(),
         "datetime": pa.timestamp("us", tz="UTC"), "text": pa.string(), "party": pa.string()}
PLACES = Decimal(10) ** -10


def run(plan: Plan, table: pa.Table) -> dict[int, dict[str, Any]]:
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor.fetchall()}


def error_class(error: str | None) -> str | None:
    return None if error is None else error.split(":", 1)[0]


def python_side(thunk: Any) -> tuple[str, Any]:
    try:
        return ("value", thunk())
    except Exception as error:  # noqa: BLE001 - the error's class is the answer
        return ("error", type(error).__name__)


def same(kind: str, python: Any, sql: Any) -> bool:
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, bool) or isinstance(sql, bool):
        return python is sql
    if isinstance(python, Decimal) or kind in ("decimal", "money", "percent"):
        # Each product and quotient is rounded to 10 places in SQL (Python keeps every
        # digit of a product, 28 significant digits of a quotient): a value computed from
        # small intermediate values (0.119 ^ 4 = 0.000200533921) keeps fewer significant
        # digits: 4 at least, or the SQL backend refuses the row (README, "Conventions of the SQL backend").
        exact, got = Decimal(python), Decimal(sql)
        return exact.quantize(PLACES, ROUND_HALF_UP) == got or \
            abs(exact - got) <= max(abs(exact), Decimal(1)) * Decimal("1E-4")
    if isinstance(python, datetime):
        return python.astimezone(UTC).replace(tzinfo=None) == sql
    return bool(python == sql) and type(python) is type(sql) or (
        isinstance(python, date) and python == sql)


def translatable(result: api.Result, names: list[str]) -> list[str]:
    try:
        missing = untranslated(result, names)
    except SqlError:  # facts whose names differ only by case: no SQL table holds both
        COUNTS["untranslated"] += len(names)
        return []
    COUNTS["untranslated"] += len(missing)
    return [n for n in names if n not in missing]


def fact_table(module: Any, program: Program, rows: list[dict[str, Any]]
               ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows the module's Facts takes, as it converts them, and as Arrow columns (an
    `id`, and a column per fact of a scalar kind)."""
    converted: list[dict[str, Any]] = []
    for values in rows:
        try:
            built = module.Facts(**values)
        except module.ClauseError:
            continue  # malformed for the module: the SQL input is typed, it has no such rows
        converted.append({f.name: getattr(built, py_name(f.name)) for f in program.facts})
    columns = {"id": pa.array(range(len(converted)), pa.int64())}
    for fact in (f for f in program.facts if f.kind in ARROW):
        values = [row.get(fact.name) for row in converted]
        if fact.kind in ("decimal", "money", "percent"):
            values = [None if v is None else Decimal(v).quantize(PLACES) for v in values]
        columns[fact.name] = pa.array(values, ARROW[fact.kind])
    return converted, columns


def check(program: Program, rows: list[dict[str, Any]]) -> None:
    result = api.analyse(SourceFile("gen.clause", program.text))
    assert result.ok, program.text
    module = api.module_from_source(api.generate(result), "gen.clause")
    (interpreter,) = interpret(result).versions
    callables = {c.name for c in program.callables}
    names = translatable(result, [n for n in interpreter.names if n not in callables])
    if not names:
        return
    converted, columns = fact_table(module, program, rows)
    if not converted:
        return
    plan = compile_plan(result, names, columns=list(columns), each_error=True)
    answers = run(plan, pa.table(columns))
    outputs = {o.name: o for o in plan.outputs}
    for row_id, values in enumerate(converted):
        facts_object = module.Facts(**{py_name(k): v for k, v in values.items()
                                       if v is not None})
        sql_row = answers[row_id]
        for name in names:
            python = python_side(lambda n=name, f=facts_object: module.evaluate(n, f))
            decl = interpreter.decls[name]
            if isinstance(decl, ir.Obligation):
                fields = {"active": "active", "due": "due", "amount": "object"}
                pairs = [(f"{name}.{f}", attr) for f, attr in fields.items()
                         if f"{name}.{f}" in outputs]
            elif isinstance(decl, ir.Power):
                pairs = [(f"{name}.available", "available")]
            else:
                pairs = [(name, None)]
            for column, attr in pairs:
                expected: tuple[str, Any] = python
                if python[0] == "value" and attr is not None:
                    expected = ("value", getattr(python[1], attr))
                message = sql_row[f"{column} error"]
                if message is not None and "SQL backend" in message:
                    # Beyond the SQL backend's range or precision (README): it refuses the
                    # row rather than answer otherwise than the module.
                    COUNTS["refused"] += 1
                    continue
                sql_error = error_class(message)
                where = (f"{program.text}\nrow: {values}\n{column}: python {expected}, "
                         f"sql {sql_row[column]!r} / {sql_row[f'{column} error']!r}")
                if expected[0] == "error":
                    assert sql_error == expected[1], where
                else:
                    assert sql_error is None, where
                    assert same(outputs[column].kind, expected[1], sql_row[column]), where
                COUNTS["compared"] += 1
    COUNTS["rows"] += len(converted)


@settings(max_examples=120, deadline=None, derandomize=True,
          phases=(Phase.explicit, Phase.generate))  # a failure is reported as found
@given(programs(), st.data())
def test_duckdb_answers_as_the_python_module(program: Program, data: st.DataObject) -> None:
    rows = [data.draw(fact_values(program), label="facts") for _ in range(FACT_ROWS)]
    check(program, rows)


def test_the_run_compared_enough() -> None:
    """The generated programs mostly translate, and many answers were compared (this test
    runs after the property above, in file order)."""
    if COUNTS["rows"] == 0:
        pytest.skip("the property test did not run in this session")
    assert COUNTS["compared"] >= 500, COUNTS
    assert COUNTS["compared"] >= 3 * COUNTS["untranslated"], COUNTS
    assert COUNTS["refused"] * 20 <= COUNTS["compared"], COUNTS


SPARK_COUNTS = {"compared": 0, "programs": 0}


@pytest.mark.spark
@settings(max_examples=12, deadline=None, derandomize=True,
          phases=(Phase.explicit, Phase.generate))
@given(programs(), st.data())
def test_spark_answers_as_duckdb(spark_session: Any, program: Program,
                                 data: st.DataObject) -> None:
    """A sample of the generated programs on Spark (its dialect of the query, its
    decimals, dates and timestamps): every answer and error class as DuckDB gives it."""
    from clausec.backends.sql import engines

    result = api.analyse(SourceFile("gen.clause", program.text))
    module = api.module_from_source(api.generate(result), "gen.clause")
    (interpreter,) = interpret(result).versions
    callables = {c.name for c in program.callables}
    names = translatable(result, [n for n in interpreter.names if n not in callables])
    rows = [data.draw(fact_values(program), label="facts") for _ in range(FACT_ROWS)]
    converted, columns = fact_table(module, program, rows)
    if not names or not converted:
        return
    table = pa.table(columns)
    duck = {r["id"]: r for r in engines.batch(result, table, names).to_pylist()}
    frame = engines.batch(result, table, names, spark=spark_session)
    spark = {r["id"]: r.asDict() for r in frame.collect()}
    assert set(spark) == set(duck)
    for row_id, expected in duck.items():
        got = spark[row_id]
        if any("SQL backend" in (r["error"] or "") for r in (expected, got)):
            continue  # beyond an engine's range or precision: refused, not answered
        assert error_class(got["error"]) == error_class(expected["error"]), \
            (program.text, expected, got)
        for column, value in expected.items():
            if column in ("id", "error"):
                continue
            other = got[column]
            if isinstance(other, datetime) and other.tzinfo is None:
                other = other.astimezone(UTC).replace(tzinfo=None)  # local, as PySpark gives it
            # Compared as the module's answers are with DuckDB's (both engines round
            # each product and quotient at its 10th place).
            assert same("", value, other), (program.text, column, value, other)
            SPARK_COUNTS["compared"] += 1
    SPARK_COUNTS["programs"] += 1


@pytest.mark.spark
def test_spark_compared_enough() -> None:
    if SPARK_COUNTS["programs"] == 0:
        pytest.skip("the Spark sample did not run in this session")
    assert SPARK_COUNTS["programs"] >= 5, SPARK_COUNTS
    assert SPARK_COUNTS["compared"] >= 200, SPARK_COUNTS
