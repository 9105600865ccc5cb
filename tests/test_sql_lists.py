"""Lists, records and tables in SQL: list facts as arrays of structs, lists built from
others, counts, sums, firsts and extremes, three-valued `any of` / `all of` / `none of`
over items, tables as constant arrays, in-order allocations; from Arrow tables, JSON lines
and Spark; each answer the same as the compiled module's (its value, no value, or its
error's class), and what has no translation (pro rata, present values, other dialects)
refused with its reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")

from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from test_differential import Program, _compile, fact_values, outcome, programs
from test_interpret_lists import FACTS, PROGRAM

from clausec import api
from clausec.backends.interpret import interpret
from clausec.backends.python.codegen import py_name
from clausec.backends.sql import SqlError, compile_plan, engines, untranslated
from clausec.source import SourceFile

PLACES = Decimal(10) ** -10
DECIMAL = pa.decimal128(38, 10)
LENDER = pa.struct([("name", pa.string()), ("principal", DECIMAL), ("declined", pa.bool_()),
                    ("kind", pa.string())])
INSTALLMENT = pa.struct([("amount", DECIMAL), ("due", pa.date32())])
SCALARS = {"bool": pa.bool_(), "integer": pa.int64(), "days": pa.int64(),
           "business_days": pa.int64(), "named_business_days": pa.int64(),
           "months": pa.int64(), "decimal": DECIMAL, "money": DECIMAL, "percent": DECIMAL,
           "date": pa.date32(), "text": pa.string(), "party": pa.string(),
           "choice": pa.string()}

# What SQL does not translate in PROGRAM, and why (README, "What SQL does not translate").
PRO_RATA = "allocations pro rata"
NOT_IN_SQL = {"shares": PRO_RATA, "by_weight": PRO_RATA, "weights_of_shares": PRO_RATA,
              "declined_proceeds": PRO_RATA, "present": "present values",
              "present_annual": "present values"}


# ------------------------------------------------------------------ helpers


def same(python: Any, sql: Any) -> bool:
    """A module's answer and SQL's: lists item by item, records field by field, decimals
    at SQL's 10 places."""
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, (tuple, list)):
        return isinstance(sql, list) and len(python) == len(sql) and \
            all(same(p, s) for p, s in zip(python, sql))
    if isinstance(python, dict):
        return isinstance(sql, dict) and set(python) == set(sql) and \
            all(same(python[k], sql[k]) for k in python)
    if isinstance(python, bool) or isinstance(sql, bool):
        return python is sql
    if isinstance(python, Decimal) or isinstance(sql, Decimal):
        return Decimal(python).quantize(PLACES, ROUND_HALF_UP) == Decimal(sql)
    if isinstance(python, datetime):  # SQL's timestamps are in UTC, without a zone
        return python.astimezone(UTC).replace(tzinfo=None) == sql
    return bool(python == sql)


def arrow_value(value: Any, type_: Any) -> Any:
    """A module's converted value as pyarrow takes it for `type_` (decimals at 10 places)."""
    if value is None:
        return None
    if pa.types.is_list(type_):
        return [arrow_value(v, type_.value_type) for v in value]
    if pa.types.is_struct(type_):
        return {type_.field(i).name: arrow_value(value.get(type_.field(i).name),
                                                   type_.field(i).type)
                for i in range(type_.num_fields)}
    if pa.types.is_decimal(type_):
        return Decimal(value).quantize(PLACES)
    return value


def answers(result: api.Result, names: list[str], table: Any) -> dict[int, dict[str, Any]]:
    """Each row's answers and their errors ("NAME error"), by the row's `id`."""
    plan = compile_plan(result, names, columns=table.column_names, each_error=True)
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    columns = [d[0] for d in cursor.description]
    got = [dict(zip(columns, values)) for values in cursor.fetchall()]
    return {row["id"]: row for row in got}


def compare(module: Any, result: api.Result, names: list[str],
            rows: list[dict[str, Any]], table: Any) -> int:
    """Every answer of every row the same from SQL as from the module; how many."""
    sql = answers(result, names, table)
    compared = 0
    for row_id, values in enumerate(rows):
        try:
            facts = module.Facts(**values)
        except Exception as error:  # noqa: BLE001 - the error's class is the answer
            for name in names:
                assert (sql[row_id][f"{name} error"] or "").startswith(
                    type(error).__name__ + ":"), (values, name, sql[row_id])
            continue
        for name in names:
            expected = outcome(lambda n=name, f=facts: module.evaluate(n, f))
            error = sql[row_id][f"{name} error"]
            where = f"row {values}\n{name}: python {expected}, sql {sql[row_id]}"
            if expected[0] == "error":
                assert error is not None and error.split(":")[0] == expected[1], where
            else:
                assert error is None, where
                assert same(module.evaluate(name, facts), sql[row_id][name]), where
            compared += 1
    return compared


@pytest.fixture(scope="module")
def credit() -> tuple[Any, api.Result, list[str]]:
    """PROGRAM (test_interpret_lists.py): its module, its analysis, the names SQL answers."""
    module, _ = _compile(PROGRAM, "credit.clause")
    result = api.analyse(SourceFile("credit.clause", PROGRAM))
    (version,) = interpret(result).versions
    names = [n for n in version.names if n not in NOT_IN_SQL]
    return module, result, names


def credit_table(module: Any, rows: list[dict[str, Any]]) -> Any:
    """The rows as an Arrow table of typed columns (lists of structs for the lists), from
    the values the module's Facts converts them to; a row the module refuses keeps only
    what converts."""
    types = {"loan_kind": pa.string(), "other_kind": pa.string(),
             "lenders": pa.list_(LENDER), "installments": pa.list_(INSTALLMENT),
             "prepayment": DECIMAL, "cap": DECIMAL, "a": pa.bool_(), "b": pa.bool_(),
             "c": pa.bool_(), "test_date": pa.date32(),
             "sales": pa.list_(pa.struct([("period", pa.string()), ("value", DECIMAL)]))}
    columns: dict[str, list[Any]] = {"id": list(range(len(rows)))}
    for name, type_ in types.items():
        columns[name] = []
        for values in rows:
            value = values.get(name)
            if name == "sales" and isinstance(value, dict):  # a series: (period, value)s
                columns[name].append([{"period": k, "value": Decimal(v).quantize(PLACES)}
                                      for k, v in value.items()])
                continue
            try:
                value = getattr(module.Facts(**{name: value}, **_others(values, name)),
                                name) if value is not None else None
            except Exception:  # noqa: BLE001 - given to SQL as it is, to refuse alike
                value = _raw(value)
            columns[name].append(arrow_value(value, type_))
    return pa.table({"id": pa.array(columns.pop("id"), pa.int64()),
                     **{n: pa.array(v, types[n]) for n, v in columns.items()}})


def _others(values: dict[str, Any], name: str) -> dict[str, Any]:
    """The required facts other than `name`, so that Facts converts `name` alone."""
    return {k: v for k, v in FACTS.items() if k != name}


def _raw(value: Any) -> Any:
    """A value the module refuses, as a typed column carries it (a list's items with
    their fields, given or not)."""
    if isinstance(value, list):
        return [dict(v) for v in value]
    return value


CASES: list[dict[str, Any]] = [
    {},
    {"a": True, "b": False, "c": True, "cap": "$600,000"},
    {"a": False, "b": None, "c": True, "cap": "$2,000,000", "loan_kind": "term_benchmark"},
    {"lenders": [], "installments": [], "prepayment": "$0"},
    {"lenders": [{"name": "D", "principal": 5, "declined": False, "kind": "daily_simple"}],
     "test_date": date(2026, 1, 1), "other_kind": "base_rate"},
    {"installments": [{"amount": "$10", "due": "2024-03-01"},
                      {"amount": "$5", "due": "2024-02-01"},
                      {"amount": "$1", "due": "2024-01-01"}], "prepayment": "$12"},
    {"prepayment": "$2,000", "a": True, "b": True},
    {"lenders": [{"name": "E", "principal": 1, "declined": True, "kind": "base_rate"},
                 {"name": "F", "principal": 2, "declined": True, "kind": "base_rate"}],
     "cap": "$1"},
]


# ------------------------------------------------------------------ the answers


def test_every_translated_answer_as_the_module(credit: Any) -> None:
    module, result, names = credit
    rows = [{**FACTS, **case} for case in CASES]
    rows = [{k: v for k, v in row.items() if v is not None} for row in rows]
    assert compare(module, result, names, rows, credit_table(module, rows)) >= 250


def test_the_answers_the_agreement_gives(credit: Any) -> None:
    """The values worked out by hand from FACTS: three lenders (A $1,000,000; B $500,000
    and C $250,000, who declined), two installments ($110 and $40,000), a prepayment of
    $100,000.01, tested on June 30, 2024."""
    module, result, names = credit
    row = answers(result, names, credit_table(module, [FACTS]))[0]
    # The facts left out (other_kind, a, b, c, cap) leave these with an error.
    assert {n for n in names if row[f"{n} error"] is not None} == {
        "other_rate", "capped", "capped_or_zero", "any_abc", "all_abc", "none_abc",
        "guarded_any", "a_or_b", "a_and_b", "a_unless_b", "not_a", "anyone_over_cap",
        "everyone_under_cap", "maybe_written"}
    assert row["other_rate error"].startswith("MissingFactError: ")
    assert "fact 'other_kind' is not given" in row["other_rate error"]
    assert row["declining"] == 2
    assert row["lender_count"] == 3
    assert row["largest"] == Decimal(1_000_000)
    assert row["smallest"] == Decimal(1_000_000)  # the least of those who did not decline
    assert row["first_declining"] == "B"
    assert row["names"] == ["A", "B", "C"]
    assert row["first_lender_principal"] == Decimal(1_000_000)
    assert row["kind_of_first"] == "base_rate"
    assert row["maximum_ratio"] == Decimal("4.25")  # the first step ending on or after
    assert row["base_rate_steps"] == 2
    # In order: the first installment in full, then the second: $40,110 of $100,000.01.
    assert [s["amount"] for s in row["waterfall"]] == [Decimal(110), Decimal(40_000)]
    assert row["waterfall"][1]["item"] == {"amount": Decimal(40_000), "due": date(2025, 1, 1)}
    assert row["applied"] == Decimal(40_110)
    assert row["anyone_declined"] is True
    assert row["everyone_declined"] is False
    assert row["nobody_declined"] is False
    assert row["written"] == [Decimal(1), Decimal("2.5"), Decimal(3)]
    assert row["bonus"] == Decimal("100000.01")
    assert row["nada"] is None


def test_three_valued_conditions_over_items_and_lists(credit: Any) -> None:
    """`any of` with one true item is true though another is unknown; `all of` with one
    false item is false; an unknown decides only when nothing else does."""
    module, result, names = credit
    rows = [{**FACTS, "a": True}, {**FACTS, "b": False}, {**FACTS, "cap": "$300,000"}]
    got = answers(result, names, credit_table(module, rows))
    assert got[0]["any_abc"] is True and got[0]["any_abc error"] is None
    assert got[0]["all_abc"] is None and got[0]["all_abc error"].startswith("MissingFactError")
    assert got[1]["all_abc"] is False and got[1]["all_abc error"] is None
    # $1,000,000 > $300,000: someone is over the cap; A did not decline and is not under.
    assert got[2]["anyone_over_cap"] is True
    assert got[2]["everyone_under_cap"] is False


def test_in_order_allocation_fills_each_in_turn(credit: Any) -> None:
    module, result, names = credit
    rows = [{**FACTS, "prepayment": "$12",
             "installments": [{"amount": "$10", "due": "2024-03-01"},
                              {"amount": "$5", "due": "2024-02-01"},
                              {"amount": "$1", "due": "2024-01-01"}]}]
    row = answers(result, names, credit_table(module, rows))[0]
    assert [s["amount"] for s in row["waterfall"]] == [Decimal(10), Decimal(2), Decimal(0)]
    assert row["applied"] == Decimal(12)


def test_a_list_fact_that_breaks_its_where_is_an_error_of_its_row(credit: Any) -> None:
    module, result, names = credit
    rows = [{**FACTS, "installments": [{"amount": Decimal(-1), "due": date(2024, 1, 1)}]},
            FACTS]
    got = answers(result, names, credit_table(module, rows))
    assert got[0]["applied error"].startswith("FactError: ")
    assert got[1]["applied error"] is None


# ------------------------------------------------------------------ JSON lines


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """JSON lines whose decimals are JSON numbers, written with all their digits."""
    lines = []
    for row in rows:
        text = json.dumps(_jsonable(row), default=lambda d: f"@@{d}@@")
        lines.append(text.replace('"@@', "").replace('@@"', ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def json_facts(module: Any, row_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """A row as its writer would put it in JSON: the module's converted values."""
    facts = module.Facts(**values)
    return {"id": row_id, **{name: getattr(facts, py_name(name)) for name in values
                             if name not in ("sales",)}}


def test_list_facts_from_json_lines(credit: Any, tmp_path: Path) -> None:
    """Lists of records read from JSON lines, their numbers exact; an item with a field
    missing, or with a member that is not one of its choice's, is a FactError of its row
    (as the module's Facts says), and the other rows go on."""
    module, result, _ = credit
    big = {**FACTS, "lenders": [{"name": "G", "principal": Decimal("123456789012345.67"),
                                 "declined": False, "kind": "base_rate"}]}
    rows = [json_facts(module, 0, FACTS), json_facts(module, 1, big)]
    rows.append({**rows[0], "id": 2, "lenders": [{"name": "H", "principal": 1,
                                                  "kind": "base_rate"}]})
    rows.append({**rows[0], "id": 3, "lenders": [{"name": "I", "principal": 1,
                                                  "declined": False, "kind": "base rate"}]})
    path = write_jsonl(tmp_path / "book.jsonl", rows)
    got = {r["id"]: r for r in engines.batch(result, path, ["largest", "declining",
                                                            "names"]).to_pylist()}
    assert got[0]["largest"] == Decimal(1_000_000) and got[0]["declining"] == 2
    assert got[0]["error"] is None
    assert got[1]["largest"] == Decimal("123456789012345.67")
    # The module names the item by its index ('lenders[0]'); SQL does not.
    assert got[2]["error"] == "FactError: fact 'lenders[…]': field 'declined' is not given"
    assert got[3]["error"].startswith("FactError: fact 'lenders[…].kind': base rate is not "
                                      "one of term_benchmark, base_rate, daily_simple")
    with pytest.raises(Exception, match="declined"):
        module.Facts(**{**FACTS, "lenders": [{"name": "H", "principal": 1,
                                               "kind": "base_rate"}]})


# ------------------------------------------------------------------ refusals


def test_what_sql_does_not_translate_is_named_with_its_reason(credit: Any) -> None:
    _, result, _ = credit
    (version,) = interpret(result).versions
    missing = untranslated(result, list(version.names))
    assert missing.keys() == NOT_IN_SQL.keys()
    for name, reason in NOT_IN_SQL.items():
        assert reason in missing[name], (name, missing[name])
    with pytest.raises(SqlError) as error:
        compile_plan(result, ["declined_proceeds"])
    message = str(error.value)
    assert "credit.clause:" in message and "pro rata" in message


def test_lists_need_a_dialect_with_lambdas(credit: Any) -> None:
    _, result, _ = credit
    for dialect in ("duckdb", "spark", "databricks"):
        assert compile_plan(result, ["names"], dialect=dialect).sql()
    with pytest.raises(SqlError, match="lists in the postgres dialect"):
        compile_plan(result, ["names"], dialect="postgres")
    # Every query checks the facts' `where`, and installments' reads its items: no
    # query of this agreement is Postgres's.
    with pytest.raises(SqlError, match="a fact's 'where' uses lists in the postgres"):
        compile_plan(result, ["applicable_rate"], dialect="postgres")


# ------------------------------------------------------------------ generated programs

COUNTS = {"compared": 0, "programs": 0}


def item_type(program: Program) -> Any:
    weight = pa.int64() if program.weight == "integer" else DECIMAL
    return pa.struct([("name", pa.string()), ("amount", DECIMAL), ("weight", weight),
                      ("due", pa.date32()), ("flag", pa.bool_()), ("kind", pa.string())])


@settings(max_examples=40, deadline=None, derandomize=True,
          phases=(Phase.explicit, Phase.generate))
@given(programs(lists=True), st.data())
def test_generated_programs_with_lists_as_the_module(program: Program,
                                                     data: st.DataObject) -> None:
    """test_differential.py's programs with lists (a choice, records, lists of records as
    facts, a table, lists built from others, allocations) and their facts: every answer
    SQL gives, the module's."""
    result = api.analyse(SourceFile("gen.clause", program.text))
    assert result.ok, program.text
    module = api.module_from_source(api.generate(result), "gen.clause")
    (version,) = interpret(result).versions
    callables = {c.name for c in program.callables}
    candidates = [n for n in version.names if n not in callables]
    try:
        missing = untranslated(result, candidates)
    except SqlError:  # facts whose names differ only by case: no SQL table holds both
        return
    names = [n for n in candidates if n not in missing
             and version.decls[n].__class__.__name__ not in ("Obligation", "Power")]
    if not names:
        return
    types = {f.name: (pa.list_(item_type(program)) if f.kind == "list" else SCALARS[f.kind])
             for f in program.facts if f.kind == "list" or f.kind in SCALARS}
    rows: list[dict[str, Any]] = []
    for _ in range(8):
        values = data.draw(fact_values(program), label="facts")
        try:
            built = module.Facts(**values)
        except Exception:  # noqa: BLE001, S112 - refused alike: the hand tests show it
            continue
        rows.append({f: getattr(built, py_name(f)) for f in types})
    if not rows:
        return
    table = pa.table({"id": pa.array(range(len(rows)), pa.int64()),
                      **{f: pa.array([arrow_value(r[f], t) for r in rows], t)
                         for f, t in types.items()}})
    COUNTS["compared"] += compare(module, result, names, rows, table)
    COUNTS["programs"] += 1


def test_the_generated_programs_compared_enough() -> None:
    if COUNTS["programs"] == 0:
        pytest.skip("the property test did not run in this session")
    assert COUNTS["programs"] >= 10, COUNTS
    assert COUNTS["compared"] >= 150, COUNTS


# ------------------------------------------------------------------ Spark


@pytest.mark.spark
def test_lists_on_spark_as_on_duckdb(spark_session: Any, credit: Any) -> None:
    """The same answers from Spark's higher-order functions as from DuckDB's lambdas."""
    module, result, names = credit
    rows = [{k: v for k, v in {**FACTS, **case}.items() if v is not None} for case in CASES]
    table = credit_table(module, rows)
    duck = {r["id"]: r for r in engines.batch(result, table, names).to_pylist()}
    frame = engines.batch(result, table, names, spark=spark_session)
    spark = {r["id"]: r.asDict(recursive=True) for r in frame.collect()}
    assert set(spark) == set(duck)
    for row_id, expected in duck.items():
        got = spark[row_id]
        assert (got["error"] or "").split(":")[0] == (expected["error"] or "").split(":")[0]
        for name in names:
            assert same(expected[name], got[name]), (row_id, name, expected[name], got[name])
