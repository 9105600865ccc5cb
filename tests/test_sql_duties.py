"""Obligations and powers in SQL (compiler/backends/sql/duties.py): one instance per period of
a recurring obligation or power (in its range, then its condition), its fields (`.due`,
`.amount`, `.performed_on`, `.active`), and `X is late on D` / `X is in default on D` over
ranges of periods; with conditions, ranges until, through, open and ending with a date,
deadlines `within N days after`, performance dates and cure periods. Hand-worked answers,
then every answer of a few hundred rows compared with the compiled module's: its value, or
its error word for word (class, place and message)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")

from test_sql_lists import DECIMAL, answers, same

from clausec import api
from clausec.backends.interpret import interpret
from clausec.backends.python.runtime_periods import Frequency
from clausec.backends.sql import compile_plan, engines, untranslated
from clausec.source import SourceFile

PROGRAM = """
agreement dues "Dues" {
  dated 2008-01-01
  party licensee "Licensee"
  party licensor "Licensor"
  calendar us_federal
}
section 1 "Fees" {
  text "The fees of the deal."
  fact commencement: date
  fact as_of: date
  fact term_end: date optional
  fact fee_amount: money optional
  fact waived: bool optional
  fact paid_on: date per royalty_quarter optional
  fact notice_on: date per royalty_quarter optional
  fact royalties: money per royalty_quarter optional
  fact reported_on: date per royalty_quarter optional
  fact start_on: date optional
  fact stop_on: date optional
  fact grace: integer optional
  fact deposit_paid_on: date optional
  fact deposit_notice_on: date optional
  periods royalty_quarter "royalty quarter" = calendar quarters from commencement
  periods contract_year "contract year" = contract years from commencement

  obligation fee "the quarterly fee"
      for each royalty_quarter q from commencement until term_end:
    licensee must pay fee_amount to licensor by start of q
      performed on paid_on(q)
      cure within 30 days after notice_on(q)
      when not waived
  obligation royalty "the royalties"
      for each royalty_quarter q from commencement:
    licensee must pay royalties(q) to licensor within 30 days after end of q
      performed on paid_on(q)
      when royalties(q) is given
  obligation report "the reports"
      for each royalty_quarter q in the 4 ending with term_end:
    licensor must deliver "a report" to licensee by end of q
      performed on reported_on(q)
  obligation filing "the filings"
      for each calendar_quarter c from start_on through filing_ends:
    licensee must file "a filing" to licensor within grace days after end of c
      performed on reported_on(royalty_quarter containing end of c)
  # An end computed in a later stage of the query than the start.
  define filing_ends: date = 400 days after term_end
  obligation deposit "the deposit":
    licensee must pay $100 to licensor within grace days after commencement
      performed on deposit_paid_on
      cure within 10 days after deposit_notice_on
  power yearly_termination "termination for a year of no fees"
      for each contract_year y from commencement:
    licensor may terminate within 6 months after end of y
      when fee(royalty_quarter containing end of y) is late on end of y

  condition fee_late =
    any of [fee(q) is late on as_of for each royalty_quarter q from commencement through as_of]
  condition fee_default =
    any of [fee(q) is in default on as_of
            for each royalty_quarter q from commencement through as_of]
  define late_count: integer =
    sum of [1 for each royalty_quarter q from commencement through as_of
            when fee(q) is late on as_of]
  condition all_reported =
    all of [not (report(q) is late on as_of)
            for each royalty_quarter q from commencement through as_of]
  condition royalty_late =
    any of [royalty(q) is in default on as_of
            for each royalty_quarter q from commencement through as_of]
  condition filing_late =
    any of [filing(c) is late on as_of for each calendar_quarter c in the 6 ending with as_of]
  define current_due: date = fee(royalty_quarter containing as_of).due
  define current_amount: money = fee(royalty_quarter containing as_of).amount
  condition current_active = fee(royalty_quarter containing as_of).active
  define current_paid: date = fee(royalty_quarter containing as_of).performed_on
  define next_royalty_due: date = royalty(next (royalty_quarter containing as_of)).due
  condition deposit_late = deposit is late on as_of
  condition deposit_default = deposit is in default on as_of
  define deposit_due: date = deposit.due
  condition deposit_active = deposit.active
  define earliest_late: date =
    earliest of [fee(q).due for each royalty_quarter q from commencement through as_of
                 when fee(q) is late on as_of]
}
"""

SERIES = {"paid_on": pa.date32(), "notice_on": pa.date32(), "royalties": DECIMAL,
          "reported_on": pa.date32()}
TYPES = {"commencement": pa.date32(), "as_of": pa.date32(), "term_end": pa.date32(),
         "fee_amount": DECIMAL, "waived": pa.bool_(), "start_on": pa.date32(),
         "stop_on": pa.date32(), "grace": pa.int64(), "deposit_paid_on": pa.date32(),
         "deposit_notice_on": pa.date32(),
         **{name: pa.list_(pa.struct([("period", pa.string()), ("value", value)]))
            for name, value in SERIES.items()}}
# The recurring provisions, asked for one instance: the period given as a date in it.
INSTANCES = ("fee", "royalty", "report", "filing", "yearly_termination")


@pytest.fixture(scope="module")
def dues() -> tuple[Any, api.Result, list[str]]:
    """The program's module, its analysis, and the names SQL answers for every row."""
    result = api.analyse(SourceFile("dues.clause", PROGRAM))
    assert result.ok, [d.message for d in result.diagnostics]
    module = api.module_from_source(api.generate(result), "dues.clause")
    (version,) = interpret(result).versions
    names = [n for n in version.names if n not in INSTANCES and
             not isinstance(version.decls.get(n), type(version.decls["royalty_quarter"]))]
    return module, result, names


def table_of(rows: list[dict[str, Any]]) -> Any:
    """The rows as an Arrow table, a series as a list of (period, value) structs."""
    columns = {"id": pa.array(range(len(rows)), pa.int64())}
    for name, type_ in TYPES.items():
        columns[name] = pa.array([_decimals(row.get(name)) for row in rows], type_)
    return pa.table(columns)


def _decimals(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [{**v, "value": _decimals(v["value"])} for v in value]
    return Decimal(value).quantize(Decimal(10) ** -10) if isinstance(value, Decimal) \
        else value


def module_answer(module: Any, name: str, facts: Any, *args: Any) -> tuple[str, Any]:
    """The module's answer as SQL gives it: its value (an obligation's or a power's field),
    or its error as the SQL error column words it."""
    base, _, part = name.partition(".")
    try:
        value = module.evaluate(base, facts, *args)
    except Exception as error:  # noqa: BLE001 - the error is the answer
        return ("error", f"{type(error).__name__}: {error}")
    if part:
        value = getattr(value, {"amount": "object"}.get(part, part))
    return ("value", value)


def check(module: Any, got: dict[str, Any], name: str, facts: Any, *args: Any) -> None:
    expected = module_answer(module, name, facts, *args)
    error = got[f"{name} error"]
    where = f"{name}: the module's {expected}, SQL's {got}"
    if expected[0] == "value":
        assert error is None and same(expected[1], got[name]), where
    elif expected[1].startswith("ClauseRuntimeError: ") and error != expected[1]:
        # The runtime's errors of periods (a date before the first period) are worded
        # by periods.py, and placed at the period's expression rather than at the
        # declaration around it: their class is the module's.
        assert error is not None and error.startswith("ClauseRuntimeError: "), where
        assert "before the first" in error or "outside the supported" in error, where
    else:
        assert error == expected[1], where


def outputs(row: dict[str, Any]) -> list[str]:
    """The answers of a row of the query (an obligation's are its fields)."""
    return [k for k in row if k not in ("id", "error") and not k.endswith(" error")]


def compare(module: Any, result: api.Result, names: list[str],
            rows: list[dict[str, Any]]) -> int:
    """Every answer of every row the same from SQL as from the module; how many."""
    got = answers(result, names, table_of(rows))
    compared = 0
    for row_id, row in enumerate(rows):
        facts = module.Facts(**{k: v for k, v in row.items() if v is not None})
        for name in outputs(got[row_id]):
            check(module, got[row_id], name, facts)
            compared += 1
    return compared


def instance_answers(result: api.Result, name: str, on: date,
                     rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The instance of a recurring obligation or power for the period containing `on`."""
    table = table_of(rows)
    plan = compile_plan(result, [name], columns=table.column_names, each_error=True,
                        arguments={name: (on,)})
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    columns = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}


# ------------------------------------------------------------------ by hand

START = {"commencement": date(2009, 2, 10), "fee_amount": Decimal(100), "waived": False}
HAND: dict[str, dict[str, Any]] = {
    # Quarters: 2009-Q1 (from Feb 10), Q2, Q3, Q4. The fee is due on the first day of each.
    "paid": {**START, "as_of": date(2009, 12, 1), "term_end": date(2010, 1, 1),
             "paid_on": [{"period": "2009-Q1", "value": date(2009, 2, 10)},
                         {"period": "2009-Q2", "value": date(2009, 4, 1)},
                         {"period": "2009-Q3", "value": date(2009, 7, 1)},
                         {"period": "2009-Q4", "value": date(2009, 10, 1)}]},
    # Q2 paid late (April 2), Q3 unpaid; notice of Q3 on July 5: cure by August 4.
    "late": {**START, "as_of": date(2009, 9, 1), "term_end": date(2010, 1, 1),
             "paid_on": [{"period": "2009-Q1", "value": date(2009, 2, 10)},
                         {"period": "2009-Q2", "value": date(2009, 4, 2)}],
             "notice_on": [{"period": "2009-Q3", "value": date(2009, 7, 5)}]},
    # The same on August 4, the last day of the cure period: late, not yet in default.
    "curing": {**START, "as_of": date(2009, 8, 4), "term_end": date(2010, 1, 1),
               "paid_on": [{"period": "2009-Q1", "value": date(2009, 2, 10)},
                           {"period": "2009-Q2", "value": date(2009, 4, 1)}],
               "notice_on": [{"period": "2009-Q3", "value": date(2009, 7, 5)}]},
    # The term ends on July 1: Q3 starts on it, so the fee stops after Q2 ("until").
    "ended": {**START, "as_of": date(2009, 9, 1), "term_end": date(2009, 7, 1),
              "paid_on": [{"period": "2009-Q1", "value": date(2009, 2, 10)},
                          {"period": "2009-Q2", "value": date(2009, 4, 1)}]},
    # Waived is not given: every instance in range is the fact's error.
    "unknown": {"commencement": date(2009, 2, 10), "as_of": date(2009, 9, 1),
                "fee_amount": Decimal(100)},
    # No amount: the fee is still late (its amount is unknown, not an error).
    "no_amount": {"commencement": date(2009, 2, 10), "as_of": date(2009, 5, 1),
                  "waived": False},
    # The deposit: due 5 days after February 10, paid on the 20th; notice on the 16th,
    # cured by the 26th.
    "deposit": {**START, "as_of": date(2009, 3, 1), "grace": 5,
                "deposit_paid_on": date(2009, 2, 20), "deposit_notice_on": date(2009, 2, 16)},
}


@pytest.fixture(scope="module")
def hand(dues: tuple[Any, api.Result, list[str]]) -> dict[str, dict[str, Any]]:
    _, result, names = dues
    got = answers(result, names, table_of(list(HAND.values())))
    return {case: got[i] for i, case in enumerate(HAND)}


def test_late_and_in_default_over_the_quarters(hand: Any) -> None:
    row = hand["paid"]
    assert (row["fee_late"], row["fee_default"], row["late_count"]) == (False, False, 0)
    assert row["current_due"] == date(2009, 10, 1) and row["current_amount"] == Decimal(100)
    assert row["current_paid"] == date(2009, 10, 1) and row["current_active"] is True
    row = hand["late"]
    # Q2 was paid a day late, Q3 not at all: two late; Q3's cure period ended August 4.
    assert (row["fee_late"], row["late_count"], row["fee_default"]) == (True, 2, True)
    assert row["earliest_late"] == date(2009, 4, 1)
    # Not performed: no date of performance (the module's None, not an error).
    assert row["current_paid"] is None and row["current_paid error"] is None
    row = hand["curing"]
    assert (row["fee_late"], row["late_count"], row["fee_default"]) == (True, 1, False)


def test_an_instance_outside_its_range_is_not_in_effect(hand: Any) -> None:
    row = hand["ended"]
    assert row["current_active"] is False and row["fee_late"] is False
    # Out of range, its due date is still described.
    assert row["current_due"] == date(2009, 7, 1)


def test_errors_of_an_instance_are_every_fields(hand: Any) -> None:
    row = hand["unknown"]
    for name in ("fee_late", "late_count", "current_due", "current_active"):
        assert row[f"{name} error"] == ("MissingFactError: dues.clause:32:16 (Section 1): "
                                        "fact 'waived' is not given, but Section 1 needs it")
    row = hand["no_amount"]
    assert row["fee_late"] is True and row["current_amount"] is None


def test_an_obligation_that_does_not_recur(hand: Any) -> None:
    row = hand["deposit"]
    assert row["deposit_due"] == date(2009, 2, 15) and row["deposit_active"] is True
    assert (row["deposit_late"], row["deposit_default"]) == (True, False)


def test_one_instance_asked_for_by_a_date_in_its_period(dues: Any) -> None:
    module, result, _ = dues
    rows = list(HAND.values())
    on = date(2009, 8, 15)
    for name in INSTANCES:
        got = instance_answers(result, name, on, rows)
        for row_id, row in enumerate(rows):
            facts = module.Facts(**row)
            assert outputs(got[row_id]), got[row_id]
            for output in outputs(got[row_id]):
                check(module, got[row_id], output, facts, on)
    got = instance_answers(result, "fee", on, rows)
    assert got[list(HAND).index("late")]["fee.due"] == date(2009, 7, 1)


def test_what_sql_does_not_translate_is_now_only_an_instance_without_its_period(
        dues: Any) -> None:
    _, result, _ = dues
    (version,) = interpret(result).versions
    missing = {k: v for k, v in untranslated(result, list(version.names)).items()
               if v != "no such name"}
    assert set(missing) == set(INSTANCES)
    assert all("without the period of their instance" in v for v in missing.values())


# ------------------------------------------------------------------ row by row


def random_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows around 2009 to 2012, facts given or not, series of some quarters (named by
    labels or dates inside them), dates near the due dates and the ends of cure periods."""
    rnd = random.Random(seed)

    def day(around: date, spread: int = 900) -> date:
        return around + timedelta(days=rnd.randrange(-spread // 4, spread))

    def maybe(value: Any, chance: float = 0.8) -> Any:
        return value if rnd.random() < chance else None

    rows = []
    for _ in range(count):
        commencement = date(2008, 6, 1) + timedelta(days=rnd.randrange(900))
        quarters = Frequency.calendar("quarter", commencement=commencement)
        row: dict[str, Any] = {
            "commencement": commencement, "as_of": day(commencement),
            "term_end": maybe(day(commencement)), "fee_amount": maybe(Decimal(rnd.randrange(500))),
            "waived": maybe(rnd.random() < 0.2, 0.85), "start_on": maybe(day(commencement)),
            "stop_on": maybe(day(commencement)), "grace": maybe(rnd.randrange(-10, 60)),
            "deposit_paid_on": maybe(day(commencement, 120), 0.5),
            "deposit_notice_on": maybe(day(commencement, 120), 0.5)}
        for name in SERIES:
            if rnd.random() < 0.8:
                row[name] = _series(rnd, quarters, commencement, name)
        rows.append(row)
    return rows


def _series(rnd: random.Random, quarters: Frequency, commencement: date,
            name: str) -> list[dict[str, Any]]:
    entries = []
    for index in rnd.sample(range(1, 14), rnd.randrange(10)):
        period = quarters.period(index)
        key = period.label if rnd.random() < 0.6 else period.end.isoformat()
        if name == "royalties":
            value: Any = Decimal(rnd.randrange(1000)) / 4
        else:
            # Around the start of the period (a fee's due date) and after its end.
            value = rnd.choice([period.start, period.end]) + timedelta(
                days=rnd.randrange(-5, 45))
        entries.append({"period": key, "value": value})
    return entries


def test_every_answer_of_many_rows_as_the_module(dues: Any) -> None:
    module, result, names = dues
    rows = random_rows(300, seed=7)
    assert compare(module, result, names, rows) >= 300 * len(names)


def test_every_instance_of_many_rows_as_the_module(dues: Any) -> None:
    module, result, _ = dues
    rows = random_rows(120, seed=11)
    rnd = random.Random(3)
    for name in INSTANCES:
        on = date(2008, 6, 1) + timedelta(days=rnd.randrange(1500))
        got = instance_answers(result, name, on, rows)
        for row_id, row in enumerate(rows):
            facts = module.Facts(**{k: v for k, v in row.items() if v is not None})
            for output in outputs(got[row_id]):
                check(module, got[row_id], output, facts, on)


def test_duties_on_spark_as_on_duckdb(spark_session: Any, dues: Any) -> None:
    """The same answers and errors from Spark as from DuckDB."""
    _, result, names = dues
    table = table_of([*HAND.values(), *random_rows(40, seed=5)])
    duck = {r["id"]: r for r in engines.batch(result, table, names).to_pylist()}
    frame = engines.batch(result, table, names, spark=spark_session)
    spark = {r["id"]: r.asDict(recursive=True) for r in frame.collect()}
    assert spark == duck
