"""Periods in SQL (compiler/backends/sql/periods.py): `FAMILY containing D`, `first
FAMILY`, `start of`, `end of`, `next`, `previous`, `number of`, the first and last
business day of a period, sums and conditions over ranges of periods, and series facts
(a column of (period, value) structs); for calendar, fiscal and contract families and
families from a date with a first stub. Hand-worked answers, then every answer of many
rows compared with the compiled module's (its value, no value, or its error's class), in
DuckDB and in Spark."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pa = pytest.importorskip("pyarrow")

from test_sql_lists import same

from clausec import api
from clausec.backends.interpret import interpret
from clausec.backends.python.runtime_periods import Frequency
from clausec.backends.sql import SqlError, compile_plan, engines, untranslated
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """
agreement deal "Deal" {
  dated 2008-01-01
  party licensee "Licensee"
  party licensor "Licensor"
  calendar us_federal
}
section 1 "Periods" {
  text "The periods of the deal."
  fact commencement: date
  fact as_of: date
  fact notice_on: date optional
  fact stamped: datetime optional
  fact launched_on: date optional
  periods launch_month "launch month" = calendar months from launched_on
  periods royalty_quarter "royalty quarter" = calendar quarters from commencement
  periods fiscal_quarter "fiscal quarter" = fiscal quarters beginning April 1
  periods fiscal_half "fiscal half year" = fiscal half years beginning July 1
  periods fiscal_year "fiscal year" = fiscal years beginning April 1
  periods contract_year "contract year" = contract years from commencement
  periods contract_month "contract month" = contract months from commencement
  periods stub_year "stub year" = fiscal years beginning October 1 from commencement
  periods odd_quarter "odd quarter" = fiscal quarters beginning February 1
  periods november_year "November year" = fiscal years beginning November 1 from commencement
  periods half_from "half year" = calendar half years from commencement
  periods contract_quarter "contract quarter" = contract quarters from commencement
  periods month_from "month" = calendar months from commencement

  define current: royalty_quarter = royalty_quarter containing as_of
  define opening: royalty_quarter = first royalty_quarter
  define current_start: date = start of current
  define current_end: date = end of current
  define following: royalty_quarter = next current
  define preceding: royalty_quarter = previous current
  define quarter_number: integer = number of current
  define quarter_of_year: integer = number of (calendar_quarter containing as_of)
  define month_of_year: integer = number of (calendar_month containing as_of)
  define half_start: date = start of (calendar_half_year containing as_of)
  define year_end: date = end of (calendar_year containing as_of)
  define fiscal: fiscal_year = fiscal_year containing as_of
  define fiscal_number: integer = number of fiscal
  define fiscal_quarter_now: fiscal_quarter = fiscal_quarter containing as_of
  define fiscal_quarter_number: integer = number of fiscal_quarter_now
  define fiscal_half_now: fiscal_half = fiscal_half containing as_of
  define fiscal_half_end: date = end of fiscal_half_now
  define contract_number: integer = number of (contract_year containing as_of)
  define contract_month_now: contract_month = contract_month containing as_of
  define contract_month_start: date = start of contract_month_now
  define contract_month_end: date = end of contract_month_now
  define next_contract_year_end: date = end of next (contract_year containing as_of)
  define stub: stub_year = first stub_year
  define stub_end: date = end of stub
  define stub_now: stub_year = stub_year containing as_of
  define last_day: date = last business day of current
  define first_day: date =
    first business day of (fiscal_quarter containing as_of) in us_federal
  define notice_quarter: royalty_quarter = royalty_quarter containing notice_on
  define notice_quarter_end: date = end of (royalty_quarter containing notice_on)
  define first_end: date = end of first royalty_quarter
  define second_start: date = start of next first royalty_quarter
  condition later = current is after opening
  condition same = current == (royalty_quarter containing current_start)
  condition notice_in_current = notice_quarter == current

  define quarters_so_far: integer =
    sum of [1 for each royalty_quarter q from commencement through as_of]
  define numbers_until: integer =
    sum of [number of q for each calendar_quarter q from commencement until as_of]
  define months_in_last_four: integer =
    sum of [number of m for each contract_month m in the 4 ending with as_of]
  define quarters_this_year: integer =
    sum of [1 for each calendar_quarter p from start of (calendar_year containing as_of)
            through (calendar_quarter containing as_of)]
  condition any_q4 =
    any of [number of q == 4 for each fiscal_quarter q from commencement through as_of]
  condition all_after =
    all of [q is on or after opening for each royalty_quarter q from opening through current]
  define odd_now: odd_quarter = odd_quarter containing as_of
  define odd_number: integer = number of odd_now
  define odd_end: date = end of odd_now
  define november_now: november_year = november_year containing as_of
  define november_start: date = start of november_now
  define november_number: integer = number of november_now
  define half_now: half_from = half_from containing as_of
  define half_before_end: date = end of previous half_now
  define contract_quarter_end: date = end of (contract_quarter containing as_of)
  define month_now: month_from = month_from containing as_of
  define month_first: month_from = first month_from
  define odd_numbers: integer =
    sum of [number of q for each odd_quarter q in the 5 ending with as_of]
  define november_years: integer =
    sum of [1 for each november_year y from commencement until as_of]
  define launch_month_now: launch_month = launch_month containing as_of
  define months_since_launch: integer = number of (launch_month containing notice_on)
  condition launched_before_notice =
    (launch_month containing notice_on) is given and notice_on is after launched_on
  define earliest_start: date =
    earliest of [start of y for each contract_year y from commencement through as_of]
}
section 2 "Values per period" {
  text "What is reported for each period."
  fact sales: money per royalty_quarter
  fact units: integer per calendar_quarter optional
  fact fees: money per contract_year default $0
  fact paid_on: date per fiscal_quarter optional
  define quarter_sales(q: royalty_quarter): money = sales(q)
  define year_units(q: calendar_quarter): integer =
    sum of [units(p) for each calendar_quarter p from start of (calendar_year containing start of q)
            through q when units(p) is given]
  define current_sales: money = quarter_sales(royalty_quarter containing as_of)
  define current_units: integer = units(calendar_quarter containing as_of)
  condition has_units = units(calendar_quarter containing as_of) is given
  define units_this_year: integer = year_units(calendar_quarter containing as_of)
  define current_fee: money = fees(contract_year containing as_of)
  define paid: date = paid_on(fiscal_quarter containing as_of)
  define to_date: money =
    sum of [sales(q) for each royalty_quarter q from commencement through as_of]
  define trailing: money = sum of [sales(q) for each royalty_quarter q in the 2 ending with as_of]
  define fees_to_date: money =
    sum of [fees(y) for each contract_year y from commencement through as_of]
  condition a_good_quarter =
    any of [sales(q) > $100 for each royalty_quarter q from commencement through as_of]
  define best: money =
    greatest of [sales(q) for each royalty_quarter q in the 3 ending with as_of]
  define first_paid: date =
    earliest of [paid_on(q) for each fiscal_quarter q from commencement through as_of
                 when paid_on(q) is given]
  fact capped: integer per calendar_year where capped >= 0
  define capped_now: integer = capped(calendar_year containing as_of)
  # Defined through themselves: a credit carried forward from quarter to quarter, and a
  # term that runs from year to year until a notice.
  define credit(q: royalty_quarter): money =
    if q is after first royalty_quarter
      then greater of [$0, credit(previous q) + $100 - sales(q)]
      else greater of [$0, $100 - sales(q)]
  define credit_now: money = credit(royalty_quarter containing as_of)
  condition running(y: fiscal_year) =
    if y is after fiscal_year containing commencement
      then running(previous y) and (notice_on is not given or notice_on is after start of y)
      else true
  condition running_now = running(fiscal_year containing as_of)
  define credit_in_range: money =
    sum of [credit(q) for each royalty_quarter q in the 2 ending with as_of]
}
section 3 "Not in SQL" {
  text "What the SQL backend does not translate."
  define stamped_quarter: calendar_quarter = calendar_quarter containing stamped
}
"""

NOT_IN_SQL = {"stamped_quarter": "date and time"}
DECIMAL = pa.decimal128(38, 10)
SERIES = {"sales": DECIMAL, "units": pa.int64(), "fees": DECIMAL, "paid_on": pa.date32(),
          "capped": pa.int64()}
TYPES = {"commencement": pa.date32(), "as_of": pa.date32(), "notice_on": pa.date32(),
         "launched_on": pa.date32(),
         **{name: pa.list_(pa.struct([("period", pa.string()), ("value", value)]))
            for name, value in SERIES.items()}}


# Plans compiled once for the module (a plan of this program takes seconds to compile).
PLANS: dict[tuple[object, ...], Any] = {}


@pytest.fixture(scope="module")
def deal() -> tuple[Any, Any, list[str]]:
    """The program's module, its analysis, and the names SQL answers."""
    result = api.analyse(SourceFile("deal.clause", PROGRAM))
    assert result.ok, [d.message for d in result.diagnostics]
    module = api.module_from_source(api.generate(result), "deal.clause")
    (version,) = interpret(result).versions
    missing = untranslated(result, list(version.names))
    names = [n for n in version.names if n not in missing]
    return module, result, names


def table_of(rows: list[dict[str, Any]]) -> Any:
    """The rows as an Arrow table: a series as a list of (period, value) structs."""
    columns = {"id": pa.array(range(len(rows)), pa.int64())}
    for name, type_ in TYPES.items():
        columns[name] = pa.array([row.get(name) for row in rows], type_)
    return pa.table(columns)


def answers(result: Any, names: list[str], rows: list[dict[str, Any]],
            dialect: str = "duckdb", **options: Any) -> dict[int, dict[str, Any]]:
    """Each row's answers and their errors ("NAME error"), by the row's id, from DuckDB."""
    table = table_of(rows)
    key = (id(result), tuple(names), dialect, repr(options))
    plan = PLANS.get(key)
    if plan is None:
        plan = PLANS[key] = compile_plan(result, names, columns=table.column_names,
                                         each_error=True, dialect=dialect, **options)
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    columns = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(columns, row)) for row in cursor.fetchall()}


def module_outcome(module: Any, name: str, facts: Any, *args: Any) -> tuple[Any, ...]:
    """The module's answer as SQL gives it: a value (a period by its label), or the
    error's class."""
    try:
        value = module.evaluate(name, facts, *args)
    except Exception as error:  # noqa: BLE001 - the error's class is the answer
        return ("error", type(error).__name__)
    if type(value).__name__ == "Period":
        value = str(value)
    return ("value", value)


def sql_outcome(row: dict[str, Any], name: str) -> tuple[Any, ...]:
    error = row[f"{name} error"]
    if error is not None:
        return ("error", error.split(":")[0])
    return ("value", row[name])


def compare(module: Any, result: Any, names: list[str], rows: list[dict[str, Any]]) -> int:
    """Every answer of every row the same from SQL as from the module; how many."""
    got = answers(result, names, rows)
    compared = 0
    for row_id, row in enumerate(rows):
        given = {k: v for k, v in row.items() if v is not None}
        try:
            facts = module.Facts(**given)
        except Exception as error:  # noqa: BLE001 - the row's error is every answer's
            for name in names:
                assert sql_outcome(got[row_id], name) == ("error", type(error).__name__)
            continue
        for name in names:
            expected = module_outcome(module, name, facts)
            if _outside_calendar(got[row_id], name):
                continue  # README: business days from 1900 to 2199 only
            assert sql_outcome(got[row_id], name) == expected, (row, name, got[row_id])
            compared += 1
    return compared


def _outside_calendar(row: dict[str, Any], name: str) -> bool:
    return "outside the years of the SQL calendar table" in (row[f"{name} error"] or "")


# ------------------------------------------------------------------ by hand

SALES = [{"period": "2009-Q1", "value": Decimal(10)},
         {"period": "2009-06-30", "value": Decimal(200)},
         {"period": " 2009-q3  ", "value": Decimal(1)}]
FEES = [{"period": "contract year 1", "value": Decimal(5)}]
STUB = {"commencement": date(2009, 2, 10)}
# The rows worked out by hand, answered in one query.
HAND: dict[str, dict[str, Any]] = {
    "may": {"commencement": date(2024, 1, 1), "as_of": date(2024, 5, 20)},
    "stub": {**STUB, "as_of": date(2009, 12, 31)},
    "month_end": {"commencement": date(2009, 1, 31), "as_of": date(2009, 3, 30)},
    "july": {"commencement": date(2024, 1, 1), "as_of": date(2024, 7, 1)},
    "before": {"commencement": date(2024, 3, 1), "as_of": date(2024, 2, 1)},
    "first": {"commencement": date(2024, 3, 1), "as_of": date(2024, 3, 5)},
    "far": {"commencement": date(2024, 3, 1), "as_of": date(9999, 5, 1)},
    "no_start": {"as_of": date(2024, 3, 5)},
    "series": {**STUB, "as_of": date(2009, 6, 1), "sales": SALES, "fees": FEES,
               "paid_on": [{"period": "FY2010 Q1", "value": date(2009, 7, 15)}]},
    # The third quarter is not a stub: "... (from ...)" names no period.
    "wrong": {**STUB, "as_of": date(2009, 8, 1), "sales": [
        *SALES[:2], {"period": "2009-Q3 (from 2009-07-01)", "value": Decimal(1)}]},
    "missing": {**STUB, "as_of": date(2010, 5, 1), "sales": SALES[:2], "fees": FEES},
    "credit": {**STUB, "as_of": date(2009, 8, 1), "sales": SALES},
    "notice": {**STUB, "as_of": date(2009, 8, 1), "sales": SALES,
               "notice_on": date(2009, 3, 1)},
    "twice": {**STUB, "as_of": date(2009, 6, 1),
              "sales": [*SALES, {"period": "2009-05-01", "value": Decimal(1)}]},
}


@pytest.fixture(scope="module")
def hand(deal: tuple[Any, Any, list[str]]) -> dict[str, dict[str, Any]]:
    _, result, names = deal
    got = answers(result, names, list(HAND.values()))
    return {case: got[i] for i, case in enumerate(HAND)}


def test_calendar_and_fiscal_periods_of_a_date(hand: Any) -> None:
    row = hand["may"]
    # The quarter containing May 20, 2024 is April 1 to June 30, its second.
    assert row["current"] == "2024-Q2"
    assert (row["current_start"], row["current_end"]) == (date(2024, 4, 1), date(2024, 6, 30))
    assert row["quarter_number"] == 2 and row["quarter_of_year"] == 2
    assert row["month_of_year"] == 5
    assert row["half_start"] == date(2024, 1, 1) and row["year_end"] == date(2024, 12, 31)
    assert (row["following"], row["preceding"]) == ("2024-Q3", "2024-Q1")
    # Fiscal years beginning April 1 are named by the year they end in.
    assert row["fiscal"] == "FY2025" and row["fiscal_number"] == 2025
    assert row["fiscal_quarter_now"] == "FY2025 Q1" and row["fiscal_quarter_number"] == 1
    # Fiscal half years beginning July 1: January to June 2024 is the second of FY2024.
    assert row["fiscal_half_now"] == "FY2024 H2"
    assert row["fiscal_half_end"] == date(2024, 6, 30)
    # June 30, 2024 is a Sunday: the last business day of the quarter is Friday June 28.
    assert row["last_day"] == date(2024, 6, 28)
    assert row["first_day"] == date(2024, 4, 1)


def test_a_first_period_that_is_a_stub(hand: Any) -> None:
    row = hand["stub"]
    assert row["opening"] == "2009-Q1 (from 2009-02-10)"
    assert row["first_end"] == date(2009, 3, 31)
    assert row["second_start"] == date(2009, 4, 1)
    assert row["current"] == "2009-Q4" and row["quarter_number"] == 4
    assert row["later"] is True and row["same"] is True
    # The stub, the second, third and fourth quarters.
    assert row["quarters_so_far"] == 4
    # Fiscal years beginning October 1, the first from February 10, 2009 to September 30.
    assert row["stub"] == "FY2009 (from 2009-02-10)"
    assert row["stub_end"] == date(2009, 9, 30)
    assert row["stub_now"] == "FY2010"
    assert row["all_after"] is True


def test_contract_periods_keep_the_end_of_month_rule(hand: Any) -> None:
    # Contract months from January 31: the second starts February 28, the third March 31.
    row = hand["month_end"]
    assert row["contract_month_now"] == "contract month 2"
    assert row["contract_month_start"] == date(2009, 2, 28)
    assert row["contract_month_end"] == date(2009, 3, 30)
    assert row["contract_number"] == 1
    assert row["next_contract_year_end"] == date(2011, 1, 30)
    # Months 1 and 2 end by March 30, 2009: "the 4 ending with" it are those two.
    assert row["months_in_last_four"] == 3
    assert row["earliest_start"] == date(2009, 1, 31)


def test_ranges_until_and_through(hand: Any) -> None:
    row = hand["july"]
    # Until July 1: the quarters that start before it, Q1 and Q2 (1 + 2).
    assert row["numbers_until"] == 3
    assert row["quarters_this_year"] == 3
    # Fiscal quarters from January 1, 2024 through July 1: FY2024 Q4, FY2025 Q1 and Q2.
    assert row["any_q4"] is True


def test_errors_of_periods_are_the_modules(hand: Any) -> None:
    # A date before the family's first period; the period before the first.
    row = hand["before"]
    assert row["current error"].startswith("ClauseRuntimeError: deal.clause:")
    assert row["quarters_so_far"] == 0  # a range ending before the first has none
    row = hand["first"]
    assert row["preceding error"].startswith("ClauseRuntimeError")
    # A fiscal year ending after 9999.
    row = hand["far"]
    assert row["fiscal error"].startswith("ClauseRuntimeError")
    # The family's start not given: every period of it is the fact's error.
    row = hand["no_start"]
    assert row["error"].startswith("FactError: fact 'commencement'")


def test_series_values_by_label_and_by_date(hand: Any) -> None:
    row = hand["series"]
    # "2009-Q1" names the stub; June 30 is in the second quarter.
    assert row["current_sales"] == Decimal(200)
    assert row["to_date"] == Decimal(210) and row["a_good_quarter"] is True
    assert row["trailing"] == Decimal(210) and row["best"] == Decimal(200)
    assert row["current_fee"] == Decimal(5) and row["fees_to_date"] == Decimal(5)
    assert row["paid"] == date(2009, 7, 15)
    assert row["current_units"] is None and row["has_units"] is False
    assert row["units_this_year"] == 0
    # The third quarter is not a stub: "... (from ...)" names no period.
    row = hand["wrong"]
    assert row["current_sales error"].startswith("FactError: fact 'sales'")
    # A quarter with no value is missing, named with its label; a default stands in.
    row = hand["missing"]
    assert row["current_sales error"].startswith("MissingFactError: deal.clause:")
    assert "fact 'sales[2010-Q2]' is not given, but Section 2 needs it" in \
        row["current_sales error"]
    assert row["current_fee"] == Decimal(0) and row["fees_to_date"] == Decimal(5)
    # Two names of one period.
    row = hand["twice"]
    assert row["to_date error"].startswith("FactError: fact 'sales'")


def test_terms_defined_through_themselves(hand: Any) -> None:
    """A credit carried forward: $100 a quarter less the quarter's sales, never below
    nothing. 2009-Q1 (from February 10): $100 - $10 = $90; Q2: $90 + $100 - $200 is
    below nothing, so $0; Q3: $0 + $100 - $1 = $99."""
    assert hand["series"]["credit_now"] == 0  # as of June 1: the second quarter's
    assert hand["credit"]["credit_now"] == Decimal(99)
    assert hand["credit"]["credit_in_range"] == Decimal(99)  # Q2's $0 and Q3's $99
    # Each fiscal year (from April 1) after the first runs while no notice came before
    # it: a notice of March 1, 2009 ends the term with the fiscal year it falls in.
    assert hand["credit"]["running_now"] is True
    assert hand["notice"]["running_now"] is False
    # The steps back meet 2009-Q3, whose sales are not given: the module's error.
    error = hand["missing"]["credit_now error"]
    assert error.startswith("MissingFactError: deal.clause:")
    assert "fact 'sales[2009-Q3]' is not given" in error


def test_series_from_a_long_table_joined_on_the_case_key(deal: Any) -> None:
    """A series kept as a long table (case, fact, period, value: the CSV form of the
    facts files) is the column the query reads once its rows are grouped by case."""
    _, result, _ = deal
    cases = pa.table({"id": [1, 2], "commencement": [date(2009, 2, 10)] * 2,
                      "as_of": [date(2009, 6, 1), date(2009, 12, 31)]})
    long = pa.table({"id": [1, 1, 2, 2, 2], "fact": ["sales"] * 5,
                     "period": ["2009-Q1", "2009-Q2", "2009-03-31", "2009-Q2", "2009-Q3"],
                     "value": ["10", "$200", "1", "2", "3"]})
    plan = compile_plan(result, ["to_date"], columns=["id", "commencement", "as_of", "sales"],
                        each_error=True)
    connection = duckdb.connect()
    connection.register("cases", cases)
    connection.register("long", long)
    connection.execute(
        "CREATE VIEW facts AS SELECT c.*, s.sales FROM cases AS c LEFT JOIN ("
        "SELECT id, LIST({'period': period, 'value': value}) AS sales FROM long"
        " WHERE fact = 'sales' GROUP BY id) AS s ON c.id = s.id")
    got = {row[0]: row[1:] for row in connection.execute(plan.sql(pretty=False)).fetchall()}
    # Case 2 has no value for the fourth quarter, which its range reaches.
    assert got[1] == (Decimal(210), None, None)
    assert got[2][0] is None and got[2][1].startswith("MissingFactError")


def test_a_period_argument_and_answers_that_are_periods(deal: Any) -> None:
    _, result, _ = deal
    rows = [{"commencement": date(2009, 2, 10), "as_of": date(2009, 6, 1),
             "units": [{"period": "2009-Q1", "value": 3}, {"period": "20090401", "value": 4}]}]
    by_label = answers(result, ["year_units"], rows, arguments={"year_units": ("2009-Q2",)})
    by_date = answers(result, ["year_units"], rows,
                      arguments={"year_units": (date(2009, 5, 5),)})
    assert by_label[0]["year_units"] == by_date[0]["year_units"] == 7
    got = answers(result, ["quarter_sales"], rows,
                  arguments={"quarter_sales": (date(2009, 2, 1),)})
    assert got[0]["quarter_sales error"].startswith("ClauseRuntimeError")  # before the first
    with pytest.raises(SqlError, match="a period argument other than a date"):
        compile_plan(result, ["quarter_sales"], arguments={"quarter_sales": ("2009-Q2",)})


def test_what_sql_does_not_translate_is_named(deal: Any) -> None:
    _, result, _ = deal
    (version,) = interpret(result).versions
    missing = {k: v for k, v in untranslated(result, list(version.names)).items()
               if v != "no such name"}
    assert {k for k in missing if k in NOT_IN_SQL} == set(NOT_IN_SQL)
    for name, reason in NOT_IN_SQL.items():
        assert reason in missing[name], (name, missing[name])
    # The rest: the terms with a parameter (a batch answers terms without arguments).
    assert set(missing) - set(NOT_IN_SQL) == {"quarter_sales", "year_units", "credit",
                                              "running"}


def test_the_seed_contracts_translate_their_periods() -> None:
    """Of the IntriCon licence and the NEON agreement, what remains untranslated uses no
    period construct, nor recursion, nor a series with a `where`."""
    from clausec.cli.common import analyse

    for agreement in ("intricon_license", "neon_distributor"):
        result = analyse(str(ROOT / "clauses" / agreement))
        reasons = set(untranslated(result).values())
        assert not any("periods (their" in r or "range of periods" in r or
                       r == "values per period (series facts)" or "itself" in r or
                       "`where`" in r for r in reasons), reasons
    result = analyse(str(ROOT / "clauses" / "intricon_license"))
    assert "first_royalty_quarter_ends" not in untranslated(result)
    assert len(untranslated(result)) <= 6


def _leaves_as_text(value: Any) -> Any:
    """A fact's value from a facts file as a table of text holds it (as CSV gives it): a
    series as a list of (period, value) structs."""
    if isinstance(value, dict):
        return {k: _leaves_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


@pytest.mark.parametrize(("agreement", "examples"), [
    ("neon_distributor", ["neon_1999.json", "neon_2001_option.json"]),
    ("intricon_license", ["intricon_2009.json", "intricon_royalties_2009.json"])])
def test_the_seed_contracts_examples_as_the_module(agreement: str, examples: list[str]) -> None:
    """Every answer SQL gives for the seed contracts' example facts (series given as
    lists of (period, value)), as the module's: its value, no value, or its error's
    class."""
    import json

    from clausec.cli.common import analyse

    result = analyse(str(ROOT / "clauses" / agreement))
    module = api.module_from_source(api.generate(result), agreement)
    version = interpret(result).versions[-1]
    missing = untranslated(result, list(version.names))
    names = [n for n in version.names if n not in missing]
    series = {name for name, fact in version.fact_decls.items() if fact.per is not None}
    given = [json.loads((ROOT / "clauses" / "examples" / name).read_text()) for name in examples]
    columns: dict[str, list[Any]] = {"case": list(range(len(given)))}
    for facts in given:
        for name in facts:
            columns.setdefault(name, [])
    for name in list(columns)[1:]:
        for facts in given:
            value = facts.get(name)
            if name in series and isinstance(value, dict):
                value = [{"period": k, "value": v} for k, v in value.items()]
            columns[name].append(_leaves_as_text(value))
    table = pa.table({name: pa.array(values) for name, values in columns.items()})
    plan = compile_plan(result, names, columns=table.column_names, each_error=True)
    connection = duckdb.connect()
    for calendar in plan.calendars:
        connection.register(calendar.name, pa.table(calendar.rows()))
    connection.register("facts", table)
    cursor = connection.execute(plan.sql(pretty=False))
    got = {row[0]: dict(zip([d[0] for d in cursor.description], row))
           for row in cursor.fetchall()}
    compared = 0
    for case, facts in enumerate(given):
        checked = module.Facts(**facts)
        for output in plan.outputs:
            base, _, part = output.name.partition(".")
            expected = module_outcome(module, base, checked)
            if expected[0] == "value" and part:
                expected = ("value", getattr(expected[1], {"amount": "object"}.get(part, part)))
            actual = sql_outcome(got[case], output.name)
            if expected[0] == "error":
                assert actual == expected, (case, output.name, got[case])
            else:
                assert actual[0] == "value" and same(expected[1], actual[1]), \
                    (case, output.name, expected, actual)
            compared += 1
    assert compared > 100


# ------------------------------------------------------------------ row by row


def random_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Rows of dates from 2005 to 2011 (and a few at the ends of the supported years),
    with series that name their periods by labels (a stub's with and without its first
    day, in any case), by dates inside them, and by names of no period."""
    rnd = random.Random(seed)

    def day() -> date:
        return date(2005, 1, 1) + timedelta(days=rnd.randrange(365 * 7))

    def keys(frequency: Frequency, around: date) -> list[str]:
        found = []
        for _ in range(rnd.randrange(6)):
            try:
                period = frequency.containing(around - timedelta(days=rnd.randrange(-60, 500)))
            except (ValueError, OverflowError):
                found.append("2001-Q1")
                continue
            r = rnd.random()
            if r < 0.45:
                found.append(period.label)
            elif r < 0.55:
                found.append(period.label.split(" (from")[0].lower() + "  ")
            elif r < 0.7:
                found.append(period.end.isoformat())
            elif r < 0.75:
                found.append(period.start.strftime("%Y%m%d"))
            elif r < 0.8:
                found.append(rnd.choice(["bogus", "2009-Q5", "FY 2009", "contract year 0"]))
            else:
                found.append((period.start + timedelta(days=rnd.randrange(20))).isoformat())
        return found

    rows = []
    for _ in range(count):
        commencement, as_of = day(), day()
        if rnd.random() < 0.75:  # mostly on or after the start of the families from it
            as_of = commencement + timedelta(days=rnd.randrange(1500))
        if rnd.random() < 0.05:
            as_of = rnd.choice([date(1, 1, 5), date(1, 3, 31), date(9999, 12, 20),
                                date(9999, 4, 2)])
        if rnd.random() < 0.03:
            commencement = rnd.choice([date(1, 1, 1), date(9999, 1, 31)])
        row: dict[str, Any] = {"commencement": commencement, "as_of": as_of}
        if rnd.random() < 0.5:
            row["notice_on"] = day()
        if rnd.random() < 0.5:
            row["launched_on"] = day()
        families = {"sales": Frequency.calendar("quarter", commencement=commencement),
                    "units": Frequency.calendar("quarter"),
                    "fees": Frequency.contract("year", commencement=commencement),
                    "paid_on": Frequency.fiscal("quarter", first_month=4),
                    "capped": Frequency.calendar("year")}
        for name, frequency in families.items():
            if rnd.random() < 0.8:
                row[name] = [{"period": k, "value": _value(name, rnd, day)}
                             for k in keys(frequency, as_of)]
        rows.append(row)
    return rows


def _value(name: str, rnd: random.Random, day: Any) -> Any:
    if name == "paid_on":
        return day()
    if name == "units":
        return rnd.randrange(50)
    if name == "capped":
        return rnd.randrange(-3, 50)  # below 0: its `where` fails
    return Decimal(rnd.randrange(500))


def test_every_answer_as_the_module(deal: Any) -> None:
    module, result, names = deal
    assert len(names) > 50
    assert compare(module, result, names, random_rows(400, 7)) > 20_000


def test_periods_on_spark_as_on_duckdb_sql(deal: Any) -> None:
    """The Spark dialect's query compiles (its functions: MAKE_DATE, LAST_DAY, SEQUENCE,
    ADD_MONTHS, REGEXP_EXTRACT, ARRAY_DISTINCT)."""
    _, result, names = deal
    sql = compile_plan(result, names, dialect="spark").sql()
    for function in ("MAKE_DATE", "LAST_DAY", "SEQUENCE", "ADD_MONTHS", "ARRAY_DISTINCT"):
        assert function in sql


# The terms defined through themselves: Spark holds every period of a fold in memory, so
# rows whose steps back cover thousands of years need more than a test's Spark has.
FOLDED = ("credit_now", "running_now", "credit_in_range")


@pytest.mark.spark
@pytest.mark.parametrize("folded", [False, True])
def test_periods_on_spark_as_on_duckdb(spark_session: Any, deal: Any, folded: bool) -> None:
    _, result, names = deal
    rows = random_rows(120, 11)
    if folded:
        names = list(FOLDED)
        rows = [r for r in rows if 1900 < r["commencement"].year and r["as_of"].year < 2100]
    else:
        names = [n for n in names if n not in FOLDED]
    table = table_of(rows)
    duck = {r["id"]: r for r in engines.batch(result, table, names).to_pylist()}
    frame = engines.batch(result, table, names, spark=spark_session)
    spark = {r["id"]: r.asDict(recursive=True) for r in frame.collect()}
    assert set(spark) == set(duck)
    for row_id, expected in duck.items():
        got = spark[row_id]
        assert (got["error"] or "").split(":")[0] == (expected["error"] or "").split(":")[0]
        for name in names:
            assert got[name] == expected[name], (rows[row_id], name, expected[name], got[name])
