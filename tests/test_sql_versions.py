"""Amendments in SQL (compiler/backends/sql/versions.py): each row answered in the version
of the agreement in force for it, where an amendment takes effect on a date or upon an
event (a date fact of the row): now, as of a date, and as of each row's own date; and
`(TERM as in force on D)` with D a fact, a date computed from one, and the date of each
item of a list. Hand-worked answers, then every answer of a few hundred rows compared with
the compiled module's, value by value and error by error, and the same answers on Spark."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")
sqlglot = pytest.importorskip("sqlglot")

from test_sql_batch import python_answers
from test_sql_lists import DECIMAL
from test_sql_lists import same as same_value
from test_sql_periods import sql_outcome

from clausec import api
from clausec.backends.sql import compile_plan, engines, untranslated
from clausec.source import SourceFile

FACILITY = '''
agreement facility "Facility Agreement" {
  dated 2009-01-01
  effective 2009-01-01
  party borrower "Borrower"
  party lender "Lender"
  calendar us_federal
}

record draw "Drawing" {
  amount: money
  drawn_on: date
}

fact test_date "the date tested": date optional
fact debt "Consolidated Debt": money
fact ebitda "Consolidated EBITDA": money optional
fact draws "the drawings": list of draw

section 1 "Leverage" {
  text "The Leverage Ratio shall not exceed 4.00 to 1.00."
  define maximum_leverage "Maximum Leverage Ratio": decimal = 4.00
}

section 2 "Fees" {
  text "A fee of $10 per drawing."
  define fee(n: integer): money = $10 * n
}

section 3 "Margin" {
  text "The Margin is 2%."
  define margin: percent = 2%
}

section 4 "Tests" {
  text "The Leverage Ratio is tested on each test date against the ratio then in force."
  define leverage: decimal = debt / ebitda
  define limit_then: decimal = (maximum_leverage as in force on test_date)
  define limit_next_quarter: decimal = (maximum_leverage as in force on 90 days after test_date)
  condition within_covenant = leverage <= (maximum_leverage as in force on test_date)
  define fee_then: money = (fee(3) as in force on test_date)
  define limits_when_drawn = [(maximum_leverage as in force on d.drawn_on) for each d in draws]
  define fees_when_drawn: money = sum of [(fee(2) as in force on d.drawn_on) for each d in draws]
  obligation repay "repayment": borrower must pay debt to lender within 30 days after test_date
}
'''

# Effective on a date.
FIRST = '''
amendment first "First Amendment" amends facility {
  dated 2009-12-15
  effective 2010-01-01
}

replace section 1 {
  text "The Leverage Ratio shall not exceed 3.75 to 1.00."
  define maximum_leverage "Maximum Leverage Ratio": decimal = 3.75
}

add section 5 "Bonus" {
  text "A bonus of $100."
  define bonus: money = $100
  define bonus_then: money = (bonus as in force on test_date)
}
'''

# Effective upon an event: the satisfaction of its conditions, not before its date.
SECOND = '''
amendment second "Second Amendment" amends facility {
  dated 2010-06-01
  effective upon conditions_met_on
}

replace section 1 {
  text "The Leverage Ratio shall not exceed 3.25 to 1.00 plus the Cushion."
  fact conditions_met_on "the satisfaction of the conditions precedent": date optional
  fact cushion "the Cushion": decimal optional
  define maximum_leverage "Maximum Leverage Ratio": decimal = 3.25 + cushion
}

replace section 2 {
  text "A fee of $12 per drawing."
  define fee(n: integer): money = $12 * n
}

delete section 3
'''

# Effective on a date after the one effective upon an event: in force from its date,
# whether the event happened or not (as the module chooses: the last to take effect).
THIRD = '''
amendment third "Third Amendment" amends facility {
  dated 2010-12-01
  effective 2011-01-01
}

replace section 2 {
  text "A fee of $15 per drawing."
  define fee(n: integer): money = $15 * n
}
'''

NAMES = ["maximum_leverage", "limit_then", "limit_next_quarter", "within_covenant",
         "fee_then", "limits_when_drawn", "fees_when_drawn", "repay", "bonus", "bonus_then", "margin"]
DRAW = pa.struct([("amount", DECIMAL), ("drawn_on", pa.date32())])
TYPES = {"id": pa.int64(), "asked_on": pa.date32(), "test_date": pa.date32(),
         "debt": DECIMAL, "ebitda": DECIMAL, "draws": pa.list_(DRAW),
         # Text, as the module's Facts reads it: a date that is not one is an error.
         "conditions_met_on": pa.string(), "cushion": DECIMAL}
# The days where the versions change, and the days either side of them.
EDGES = [date(2009, 12, 31), date(2010, 1, 1), date(2010, 5, 31), date(2010, 6, 1),
         date(2010, 6, 14), date(2010, 6, 15), date(2010, 6, 16), date(2010, 12, 31),
         date(2011, 1, 1)]


class Agreement:
    def __init__(self, *amendments: str) -> None:
        self.result = api.analyse(SourceFile("facility.clause", FACILITY),
                                  [SourceFile(f"amendment_{i}.clause", text)
                                   for i, text in enumerate(amendments)])
        assert self.result.ok, [d.message for d in self.result.diagnostics]
        self.module = api.module_from_source(api.generate(self.result), "facility")


@pytest.fixture(scope="module")
def upon() -> Agreement:
    """The agreement, an amendment effective on a date, then one upon an event."""
    return Agreement(FIRST, SECOND)


@pytest.fixture(scope="module")
def superseded() -> Agreement:
    """...and a later one effective on a date."""
    return Agreement(FIRST, SECOND, THIRD)


class AsOf:
    """The module asked as of `day` (now, if None), in the version the row's facts make
    in force then: what test_sql_batch.python_answers asks."""

    def __init__(self, module: Any, day: date | None) -> None:
        self.module = module
        self.day = day

    def evaluate(self, name: str, facts: Any) -> Any:
        version = self.module if self.day is None else self.module.at(self.day, facts)
        return version.evaluate(name, facts)


def table_of(rows: list[dict[str, Any]]) -> Any:
    return pa.table({name: pa.array([row.get(name) for row in rows], type_)
                     for name, type_ in TYPES.items()})


def run(agreement: Agreement, rows: list[dict[str, Any]], names: list[str] = NAMES,
        **options: Any) -> tuple[dict[int, dict[str, Any]], list[tuple[str, str]]]:
    """Each row's answers and their errors ("NAME error"), by id, from DuckDB; and the
    outputs (name, kind)."""
    table = table_of(rows)
    plan = compile_plan(agreement.result, names, columns=table.column_names,
                        each_error=True, **options)
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    columns = [d[0] for d in cursor.description]
    got = {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}
    return got, [(o.name, o.kind) for o in plan.outputs]


def compare(agreement: Agreement, rows: list[dict[str, Any]], **options: Any) -> int:
    """Every answer of every row, and its error's class, the same from SQL as from the
    module; how many. With `as_of_column`, the row's date in "asked_on" (now where it
    is empty); otherwise `as_of` (now, if None)."""
    got, outputs = run(agreement, rows, **options)
    compared = 0
    for row in rows:
        day = row["asked_on"] if "as_of_column" in options else options.get("as_of")
        facts = {k: v for k, v in row.items() if k not in ("id", "asked_on")}
        expected, _ = python_answers(AsOf(agreement.module, day), agreement.module, facts,
                                     outputs)
        answer = got[row["id"]]
        for name, _ in outputs:
            where = (row, name, expected[name], answer)
            outcome = sql_outcome(answer, name)
            assert outcome[0] == expected[name][0], where
            if outcome[0] == "error":
                assert outcome[1] == expected[name][1], where
            else:
                assert same_value(expected[name][1], outcome[1]), where
            compared += 1
    return compared


def make_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows about the days the versions change: events before, on and after the second
    amendment's date or none, missing and ill-written facts, quotients by zero."""
    rng = random.Random(seed)

    def day() -> date | None:
        if rng.random() < 0.1:
            return None
        if rng.random() < 0.5:
            return rng.choice(EDGES)
        return date(2009, 6, 1) + timedelta(days=rng.randrange(900))

    rows = []
    for i in range(count):
        event = day()
        row: dict[str, Any] = {
            "id": i, "asked_on": day(), "test_date": day(),
            "debt": rng.choice([Decimal(100), Decimal(325), Decimal(350), Decimal(375),
                                Decimal(400), None]) if rng.random() < 0.97 else None,
            "ebitda": rng.choice([Decimal(100), Decimal(50), Decimal(0), None]),
            "draws": [{"amount": Decimal(rng.randrange(1, 50)), "drawn_on": day()}
                      for _ in range(rng.randrange(3))],
            "conditions_met_on": rng.choice(
                [None if event is None else event.isoformat(), "2010-03-01", "2010-06-01",
                 "2010-06-15", "no date"] if rng.random() < 0.5
                else [None if event is None else event.isoformat()]),
            "cushion": rng.choice([Decimal(0), Decimal("0.5"), Decimal("0.25"), None]),
        }
        for draw in row["draws"]:
            if draw["drawn_on"] is None:
                draw["drawn_on"] = date(2010, 6, 15)
        rows.append(row)
    return rows


ROWS = make_rows(300, seed=20100601)


# ------------------------------------------------------------------ by hand


def row(i: int, **facts: Any) -> dict[str, Any]:
    given: dict[str, Any] = {"debt": Decimal(350), "ebitda": Decimal(100), "draws": []}
    return {"id": i, **given, **facts}


def test_a_term_as_in_force_on_a_fact_and_on_a_computed_date(upon: Agreement) -> None:
    rows = [row(0, test_date=date(2009, 12, 31)),
            row(1, test_date=date(2010, 1, 1)),
            row(2, test_date=date(2009, 10, 3))]
    got, _ = run(upon, rows)
    assert [got[i]["limit_then"] for i in range(3)] == [Decimal(4), Decimal("3.75"),
                                                         Decimal(4)]
    # 90 days after October 3, 2009 is January 1, 2010: the First Amendment's day.
    assert got[2]["limit_next_quarter"] == Decimal("3.75")
    assert got[0]["limit_next_quarter"] == Decimal("3.75")
    assert [got[i]["within_covenant"] for i in range(3)] == [True, True, True]
    assert got[0]["fee_then"] == Decimal(30)
    # Bonus was added by the First Amendment: not in force as signed.
    assert got[0]["bonus_then error"].startswith("NotInForceError: 'bonus' is not in force "
                                                 "in the original agreement")
    assert got[1]["bonus_then"] == Decimal(100)


def test_an_amendment_effective_upon_an_event(upon: Agreement) -> None:
    met = {"conditions_met_on": "2010-06-15", "cushion": Decimal("0.25")}
    rows = [row(0, test_date=date(2010, 6, 14), **met),
            row(1, test_date=date(2010, 6, 15), **met),
            row(2, test_date=date(2010, 6, 15)),  # the event has not happened
            # Its conditions met before its date: effective on its date.
            row(3, test_date=date(2010, 5, 31), conditions_met_on="2010-03-01"),
            row(4, test_date=date(2010, 6, 1), conditions_met_on="2010-03-01"),
            row(5, test_date=date(2010, 6, 1), conditions_met_on="2010-03-01",
                cushion=Decimal(0))]
    got, _ = run(upon, rows)
    assert got[0]["limit_then"] == Decimal("3.75")
    assert got[1]["limit_then"] == Decimal("3.5")
    assert got[1]["fee_then"] == Decimal(36)
    assert got[1]["within_covenant"] is True  # 3.50 <= 3.50
    assert got[2]["limit_then"] == Decimal("3.75")
    assert got[2]["fee_then"] == Decimal(30)
    assert got[3]["limit_then"] == Decimal("3.75")
    # In force, its term needs the Cushion, which row 4 does not give.
    assert got[4]["limit_then error"].startswith("MissingFactError: ")
    assert "fact 'cushion' is not given" in got[4]["limit_then error"]
    assert got[5]["limit_then"] == Decimal("3.25")
    # Now: the Second Amendment where the event happened, which deletes the Margin.
    assert got[1]["margin error"].startswith("NotInForceError: 'margin' is not in force")
    assert got[2]["margin"] == Decimal("0.02")
    assert got[1]["maximum_leverage"] == Decimal("3.5")
    assert got[2]["maximum_leverage"] == Decimal("3.75")


def test_the_date_of_each_item_of_a_list(upon: Agreement) -> None:
    draws = [{"amount": Decimal(1), "drawn_on": day}
             for day in (date(2009, 12, 31), date(2010, 1, 1), date(2010, 7, 1))]
    rows = [row(0, draws=draws, conditions_met_on="2010-06-15", cushion=Decimal(0)),
            row(1, draws=draws)]
    got, _ = run(upon, rows)
    assert got[0]["limits_when_drawn"] == [Decimal(4), Decimal("3.75"), Decimal("3.25")]
    assert got[1]["limits_when_drawn"] == [Decimal(4), Decimal("3.75"), Decimal("3.75")]
    assert [got[i]["fees_when_drawn"] for i in range(2)] == [Decimal(20 + 20 + 24),
                                                             Decimal(20 + 20 + 20)]


def test_as_of_a_date_and_as_of_each_rows_date(upon: Agreement) -> None:
    met = {"conditions_met_on": "2010-06-15", "cushion": Decimal("0.5")}
    rows = [row(0, asked_on=date(2010, 6, 14), **met),
            row(1, asked_on=date(2010, 6, 15), **met),
            row(2, asked_on=None, **met),
            row(3, asked_on=None),
            row(4, asked_on=date(2009, 1, 1), **met)]
    by_row, _ = run(upon, rows, ["maximum_leverage", "margin"], as_of_column="asked_on")
    assert [by_row[i]["maximum_leverage"] for i in range(5)] == [
        Decimal("3.75"), Decimal("3.75"), Decimal("3.75"), Decimal("3.75"), Decimal(4)]
    assert [by_row[i]["margin"] is None for i in range(5)] == [False, True, True, False,
                                                                False]
    as_of, _ = run(upon, rows, ["maximum_leverage"], as_of=date(2010, 6, 14))
    assert {r["maximum_leverage"] for r in as_of.values()} == {Decimal("3.75")}
    as_of, _ = run(upon, rows, ["maximum_leverage"], as_of=date(2010, 6, 15))
    assert [as_of[i]["maximum_leverage"] for i in range(5)] == [Decimal("3.75")] * 3 + [
        Decimal("3.75"), Decimal("3.75")]


def test_a_later_dated_amendment_is_in_force_whether_or_not_the_event_happened(
        superseded: Agreement) -> None:
    rows = [row(0, test_date=date(2011, 1, 1)),
            row(1, test_date=date(2010, 12, 31)),
            row(2, test_date=date(2010, 12, 31), conditions_met_on="2010-07-01")]
    got, _ = run(superseded, rows, ["fee_then"])
    assert [got[i]["fee_then"] for i in range(3)] == [Decimal(45), Decimal(30), Decimal(36)]


def test_an_ill_written_date_of_the_event_is_an_error_of_its_row(upon: Agreement) -> None:
    got, _ = run(upon, [row(0, test_date=date(2010, 7, 1), conditions_met_on="no date")])
    assert got[0]["error"].startswith("FactError: fact 'conditions_met_on': no date is not "
                                      "a date")
    assert got[0]["limit_then"] is None


def test_every_name_translates(upon: Agreement, superseded: Agreement) -> None:
    assert untranslated(upon.result) == {}
    assert untranslated(superseded.result, as_of=date(2010, 6, 1)) == {}


# ------------------------------------------------------------------ as the module


@pytest.mark.parametrize("as_of", [None, date(2009, 12, 31), date(2010, 6, 1),
                                   date(2010, 6, 15), date(2012, 1, 1)])
def test_every_answer_as_the_module(upon: Agreement, superseded: Agreement,
                                    as_of: date | None) -> None:
    assert compare(upon, ROWS, as_of=as_of) >= 3000
    assert compare(superseded, ROWS, as_of=as_of) >= 3000


def test_every_answer_as_of_each_rows_date_as_the_module(upon: Agreement,
                                                         superseded: Agreement) -> None:
    assert compare(upon, ROWS, as_of_column="asked_on") >= 3000
    assert compare(superseded, ROWS, as_of_column="asked_on") >= 3000


def test_the_rows_reach_every_version(upon: Agreement) -> None:
    """The rows are answered in each version, now and as of their dates (so that the
    comparisons above compare each)."""
    module = upon.module
    seen_now, seen_then = set(), set()
    for given in ROWS:
        facts = {k: v for k, v in given.items() if k not in ("id", "asked_on") and v is not None}
        try:
            checked = module.Facts(**facts)
        except module.ClauseError:
            continue
        seen_now.add(module.current(checked).label)
        if given["test_date"] is not None:
            seen_then.add(module.at(given["test_date"], checked).label)
    assert seen_then == {v.label for v in module.VERSIONS}
    assert len(seen_now) == 2


# ------------------------------------------------------------------ Spark


def test_the_query_is_spark_sql(upon: Agreement) -> None:
    plan = compile_plan(upon.result, NAMES, dialect="spark", as_of_column="asked_on",
                        columns=list(TYPES))
    assert sqlglot.parse_one(plan.sql(), read="spark") is not None


@pytest.mark.spark
def test_on_spark_as_on_duckdb(spark_session: Any, upon: Agreement) -> None:
    table = table_of(ROWS[:60])
    duck = {r["id"]: r for r in engines.batch(upon.result, table, NAMES,
                                              as_of_column="asked_on").to_pylist()}
    frame = engines.batch(upon.result, table, NAMES, as_of_column="asked_on",
                          spark=spark_session)
    spark = {r["id"]: r.asDict(recursive=True) for r in frame.collect()}
    assert set(spark) == set(duck)
    for row_id, expected in duck.items():
        got = spark[row_id]
        assert (got["error"] or "").split(":")[0] == (expected["error"] or "").split(":")[0]
        for name, value in expected.items():
            assert same_value(value, got[name]), (row_id, name, value, got[name])
