"""Tests of compiler/backends/python/runtime_periods.py: contract time arithmetic.

Expected values were worked out by hand from a calendar (and from the seed
contracts in /work/shared/contracts), not by running the code.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausec.backends.python.runtime_periods import (
    ROLL_RULES,
    Frequency,
    Period,
    add_months,
    add_years,
    days_in_month,
    decode_holiday_years,
    decode_holidays,
    first_business_day,
    is_month_end,
    last_business_day,
    month_end,
    month_start,
    overlap_days,
    roll,
)

BACKEND = Path(__file__).resolve().parents[1] / "compiler" / "backends" / "python"
PERIODS_PATH = BACKEND / "runtime_periods.py"
D = date
SETTINGS = settings(derandomize=True, max_examples=150, deadline=None)


def weekdays(day: date) -> bool:
    return day.weekday() < 5


# ---------------------------------------------------------------------------
# The module as part of the prelude
# ---------------------------------------------------------------------------


def _top_level_names(path: Path) -> tuple[set[str], set[str]]:
    """(names the module defines, names it imports) at its top level."""
    defined: set[str] = set()
    imported: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return defined, imported


def test_uses_only_the_standard_library_and_imports_at_the_top() -> None:
    tree = ast.parse(PERIODS_PATH.read_text(encoding="utf-8"))
    first = tree.body[1]
    assert isinstance(first, ast.ImportFrom) and first.module == "__future__"
    top_level = {id(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports in the prelude"
            roots = [(node.module or "").split(".")[0]]
        else:
            continue
        assert id(node) in top_level, "imports only at the top"
        for root in roots:
            assert root in sys.stdlib_module_names or root == "__future__", root


def test_defines_no_name_of_the_rest_of_the_prelude() -> None:
    # The three files are pasted into one module: a shared name would silently
    # replace the runtime's definition.
    mine, my_imports = _top_level_names(PERIODS_PATH)
    for other in ("runtime.py", "runtime_eval.py"):
        theirs, their_imports = _top_level_names(BACKEND / other)
        assert not mine & (theirs | their_imports), other
        assert not my_imports & theirs, other


def test_no_function_calls_itself() -> None:
    tree = ast.parse(PERIODS_PATH.read_text(encoding="utf-8"))
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef):
            called = {n.func.id for n in ast.walk(func)
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            called |= {n.func.attr for n in ast.walk(func)
                       if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                       and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"}
            assert func.name not in called, func.name


def test_source_runs_on_its_own_as_a_generated_module() -> None:
    spec = importlib.util.spec_from_file_location("generated_periods", PERIODS_PATH)
    assert spec is not None and spec.loader is not None
    module = ModuleType("generated_periods")
    sys.modules["generated_periods"] = module  # dataclasses look the module up
    try:
        exec(compile(PERIODS_PATH.read_text(encoding="utf-8"), "generated_periods.py",  # noqa: S102
                     "exec"), module.__dict__)
        quarters = module.Frequency.calendar("quarter")
        assert str(quarters.containing(D(2025, 8, 1))) == "2025-Q3"
    finally:
        del sys.modules["generated_periods"]


# ---------------------------------------------------------------------------
# Months and years
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "n", "expected"), [
    (D(2025, 1, 31), 1, D(2025, 2, 28)),  # end-of-month rule
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
    (D(2025, 3, 31), -1, D(2025, 2, 28)),
    (D(2025, 3, 31), 1, D(2025, 4, 30)),
    (D(2025, 1, 15), 1, D(2025, 2, 15)),
    (D(2025, 11, 30), 3, D(2026, 2, 28)),
    (D(2025, 1, 1), -1, D(2024, 12, 1)),
    (D(2025, 5, 20), 0, D(2025, 5, 20)),
    (D(2000, 2, 29), 12 * 100, D(2100, 2, 28)),  # 2100 is not a leap year
    (D(1996, 1, 1), 12, D(1997, 1, 1)),
])
def test_add_months(day: date, n: int, expected: date) -> None:
    assert add_months(day, n) == expected


def test_add_years_on_february_29() -> None:
    assert add_years(D(2024, 2, 29), 1) == D(2025, 2, 28)
    assert add_years(D(2024, 2, 29), 4) == D(2028, 2, 29)
    assert add_years(D(2024, 2, 29), -1) == D(2023, 2, 28)
    assert add_years(D(2025, 2, 28), 3, keep_month_end=True) == D(2028, 2, 29)


def test_keep_month_end_is_the_isda_end_of_month_convention() -> None:
    assert add_months(D(2025, 2, 28), 1) == D(2025, 3, 28)
    assert add_months(D(2025, 2, 28), 1, keep_month_end=True) == D(2025, 3, 31)
    assert add_months(D(2025, 4, 30), 1, keep_month_end=True) == D(2025, 5, 31)
    assert add_months(D(2025, 4, 29), 1, keep_month_end=True) == D(2025, 5, 29)


def test_datetimes_keep_their_time_and_zone() -> None:
    tz = timezone(timedelta(hours=-5))
    moment = datetime(2025, 1, 31, 17, 0, tzinfo=tz)
    assert add_months(moment, 1) == datetime(2025, 2, 28, 17, 0, tzinfo=tz)
    assert add_years(moment, 1).tzinfo is tz
    assert month_end(datetime(2024, 2, 3, 9, 30)) == datetime(2024, 2, 29, 9, 30)
    assert month_start(datetime(2024, 2, 3, 9, 30)) == datetime(2024, 2, 1, 9, 30)
    assert roll(datetime(2025, 5, 31, 12, 0, tzinfo=tz), weekdays, "following") == (
        datetime(2025, 6, 2, 12, 0, tzinfo=tz))


def test_month_helpers() -> None:
    assert month_start(D(2024, 2, 17)) == D(2024, 2, 1)
    assert month_end(D(2024, 2, 17)) == D(2024, 2, 29)
    assert month_end(D(1900, 2, 1)) == D(1900, 2, 28)
    assert is_month_end(D(2025, 6, 30)) and not is_month_end(D(2025, 6, 29))
    assert [days_in_month(2024, m) for m in range(1, 13)] == [
        31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_out_of_range_and_wrong_types() -> None:
    with pytest.raises(ValueError, match="outside the supported dates"):
        add_months(D(9999, 12, 1), 1)
    with pytest.raises(ValueError, match="outside the supported dates"):
        add_years(D(1, 6, 1), -1)
    with pytest.raises(TypeError, match="whole number"):
        add_months(D(2025, 1, 1), 1.0)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="whole number"):
        add_months(D(2025, 1, 1), True)
    with pytest.raises(TypeError, match="must be a date"):
        add_months("2025-01-01", 1)  # type: ignore[call-overload]
    assert add_months(D(9999, 11, 30), 1) == D(9999, 12, 30)


dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
months = st.integers(min_value=-1200, max_value=1200)


@SETTINGS
@given(dates, months)
def test_add_months_round_trip_loses_only_clamped_days(day: date, n: int) -> None:
    there = add_months(day, n)
    back = add_months(there, -n)
    assert (there.year * 12 + there.month) - (day.year * 12 + day.month) == n
    if there.day == day.day:
        assert back == day
    else:  # clamped to a shorter month's last day
        assert there.day < day.day and is_month_end(there)
        assert back < day and (back.year, back.month) == (day.year, day.month)


@SETTINGS
@given(dates, months)
def test_month_end_alignment(day: date, n: int) -> None:
    end = month_end(day)
    assert is_month_end(add_months(end, n, keep_month_end=True))
    assert add_months(end, n, keep_month_end=True) == month_end(add_months(end, n))
    if not is_month_end(day):
        assert add_months(day, n, keep_month_end=True) == add_months(day, n)


# ---------------------------------------------------------------------------
# Periods from the seed contracts and the primer
# ---------------------------------------------------------------------------


def test_calendar_periods_and_labels() -> None:
    day = D(2025, 8, 14)
    assert str(Frequency.calendar("month").containing(day)) == "2025-08"
    quarter = Frequency.calendar("quarter").containing(day)
    assert (quarter.start, quarter.end, quarter.label) == (D(2025, 7, 1), D(2025, 9, 30), "2025-Q3")
    assert (quarter.number, quarter.year, quarter.days) == (3, 2025, 92)
    half = Frequency.calendar("half_year").containing(day)
    assert (half.start, half.end, half.label) == (D(2025, 7, 1), D(2025, 12, 31), "2025-H2")
    year = Frequency.calendar("year").containing(day)
    assert (year.start, year.end, year.label, year.number, year.days) == (
        D(2025, 1, 1), D(2025, 12, 31), "2025", 2025, 365)
    assert year.index == 2025 and not year.is_stub


def test_fiscal_year_beginning_april_1() -> None:
    # Neon/Peregrine First Amendment: "Licensee's fiscal year beginning April 1".
    quarters = Frequency.fiscal("quarter", first_month=4)
    q = quarters.containing(D(2025, 5, 15))
    assert (q.start, q.end, q.label, q.number, q.year) == (
        D(2025, 4, 1), D(2025, 6, 30), "FY2026 Q1", 1, 2026)
    assert str(quarters.containing(D(2026, 3, 31))) == "FY2026 Q4"
    years = Frequency.fiscal("year", first_month=4)
    fy = years.containing(D(1999, 4, 1))
    assert (fy.start, fy.end, fy.label) == (D(1999, 4, 1), D(2000, 3, 31), "FY2000")
    assert Frequency.fiscal("year", first_month=1, named_by="start") == Frequency.fiscal(
        "year", first_month=1)
    by_start = Frequency.fiscal("year", first_month=4, named_by="start")
    assert str(by_start.containing(D(1999, 4, 1))) == "FY1999"
    assert str(Frequency.fiscal("half_year", first_month=4).containing(D(2025, 11, 1))) == (
        "FY2026 H2")
    # A fiscal year beginning in February: quarters straddle calendar quarters.
    retail = Frequency.fiscal("quarter", first_month=2).containing(D(2025, 1, 15))
    assert (retail.start, retail.end, retail.label) == (D(2024, 11, 1), D(2025, 1, 31), "FY2025 Q4")


def test_four_consecutive_fiscal_quarters_ending_on_a_date() -> None:
    quarters = Frequency.fiscal("quarter", first_month=4)
    test_period = quarters.ending(4, D(2025, 12, 31))
    assert [str(p) for p in test_period] == ["FY2025 Q4", "FY2026 Q1", "FY2026 Q2", "FY2026 Q3"]
    assert test_period[0].start == D(2025, 1, 1) and test_period[-1].end == D(2025, 12, 31)
    with pytest.raises(ValueError, match="not the last day .* FY2026 Q3 ends on 2025-12-31"):
        quarters.ending(4, D(2025, 11, 30))
    # The most recently ended four: from a day inside a quarter.
    assert quarters.last_ended(4, D(2026, 2, 15)) == test_period
    assert quarters.last_ended(4, D(2025, 12, 31)) == test_period
    assert quarters.ending(0, D(2025, 12, 31)) == ()
    with pytest.raises(ValueError, match="0 or more"):
        quarters.ending(-1, D(2025, 12, 31))


def test_contract_years_from_the_commencement_date() -> None:
    # IntriCon/Dynamic Hearing: payment year 1 starts at the commencement date.
    years = Frequency.contract("year", commencement=D(2008, 10, 1))
    first = years.first()
    assert (first.start, first.end, first.label, first.number) == (
        D(2008, 10, 1), D(2009, 9, 30), "contract year 1", 1)
    assert str(years.containing(D(2010, 9, 30))) == "contract year 2"
    assert str(years.containing(D(2010, 10, 1))) == "contract year 3"
    assert first.year is None and not first.is_stub
    with pytest.raises(ValueError, match="before the first period"):
        years.containing(D(2008, 9, 30))
    with pytest.raises(ValueError, match="is the first"):
        first.previous()


def test_contract_months_count_from_the_commencement_date() -> None:
    # Neon/Peregrine 3.2: "the first day of the thirteenth (13th) month through and
    # including the last day of the eighteenth (18th) month of the term".
    term_months = Frequency.contract("month", commencement=D(1996, 1, 1))
    assert term_months.period(13).start == D(1997, 1, 1)
    assert term_months.period(18).end == D(1997, 6, 30)


def test_contract_periods_from_the_end_of_a_month() -> None:
    # Each start is computed from the commencement date: no drift to the 28th.
    months = Frequency.contract("month", commencement=D(2025, 1, 31))
    assert [(p.start, p.end) for p in months.between(D(2025, 1, 1), D(2025, 5, 1))] == [
        (D(2025, 1, 31), D(2025, 2, 27)),
        (D(2025, 2, 28), D(2025, 3, 30)),
        (D(2025, 3, 31), D(2025, 4, 29)),
        (D(2025, 4, 30), D(2025, 5, 30)),
    ]
    leap = Frequency.contract("year", commencement=D(2024, 2, 29))
    assert (leap.first().start, leap.first().end) == (D(2024, 2, 29), D(2025, 2, 27))
    assert leap.period(2).start == D(2025, 2, 28)
    assert leap.period(5).start == D(2028, 2, 29)
    assert str(leap.containing(D(2025, 2, 27))) == "contract year 1"
    assert str(leap.containing(D(2025, 2, 28))) == "contract year 2"


def test_royalty_quarters_start_with_a_stub() -> None:
    royalty = Frequency.calendar("quarter", commencement=D(2025, 2, 10))
    first = royalty.first()
    assert (first.start, first.end, first.index, first.number) == (
        D(2025, 2, 10), D(2025, 3, 31), 1, 1)
    assert first.is_stub and first.label == "2025-Q1 (from 2025-02-10)"
    second = first.next()
    assert (second.start, second.end, second.label, second.index) == (
        D(2025, 4, 1), D(2025, 6, 30), "2025-Q2", 2)
    assert not second.is_stub and second.previous() == first
    assert royalty.containing(D(2025, 3, 1)) == first
    # IntriCon 4.7: commencement on the first day of a quarter: no stub.
    intricon = Frequency.calendar("quarter", commencement=D(2008, 10, 1)).first()
    assert (intricon.start, intricon.end, intricon.is_stub) == (D(2008, 10, 1), D(2008, 12, 31), False)
    # A fiscal family with a commencement date: Neon's stub quarter of January 1 to
    # March 31, 1999 is a whole fiscal quarter.
    neon = Frequency.fiscal("quarter", first_month=4, commencement=D(1999, 1, 1)).first()
    assert (neon.start, neon.end, neon.label) == (D(1999, 1, 1), D(1999, 3, 31), "FY1999 Q4")


def test_between_returns_the_overlapping_periods() -> None:
    quarters = Frequency.calendar("quarter")
    assert [str(p) for p in quarters.between(D(2025, 2, 10), D(2025, 8, 1))] == [
        "2025-Q1", "2025-Q2", "2025-Q3"]
    assert quarters.between(D(2025, 8, 1), D(2025, 2, 10)) == ()
    royalty = Frequency.calendar("quarter", commencement=D(2025, 2, 10))
    assert [str(p) for p in royalty.between(D(2024, 1, 1), D(2025, 4, 1))] == [
        "2025-Q1 (from 2025-02-10)", "2025-Q2"]
    assert royalty.between(D(2024, 1, 1), D(2025, 2, 9)) == ()


def test_last_ended_with_a_commencement_date() -> None:
    years = Frequency.contract("year", commencement=D(2024, 1, 1))
    assert years.last_ended(0, D(2023, 1, 1)) == ()
    assert [str(p) for p in years.last_ended(2, D(2026, 6, 1))] == [
        "contract year 1", "contract year 2"]
    with pytest.raises(ValueError, match="only 2 of the contract years"):
        years.last_ended(3, D(2026, 6, 1))
    with pytest.raises(ValueError, match="only 0 of the contract years"):
        years.last_ended(1, D(2024, 6, 1))


def test_periods_are_values() -> None:
    quarters = Frequency.calendar("quarter")
    a = quarters.containing(D(2025, 1, 5))
    b = quarters.containing(D(2025, 3, 31))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    later = a.next()
    assert a < later and later > a and a <= b and sorted([later, a]) == [a, later]
    assert repr(a) == "<Period 2025-Q1: 2025-01-01 to 2025-03-31>"
    assert a.contains(datetime(2025, 2, 1, 23, 59)) and not a.contains(D(2025, 4, 1))
    with pytest.raises(ValueError, match="is not period"):
        Period(quarters, a.index, D(2025, 1, 2), a.end)
    with pytest.raises(AttributeError):
        a.start = D(2025, 1, 2)  # type: ignore[misc]
    assert Frequency.calendar("quarter") == quarters
    assert hash(Frequency.contract("year", commencement=datetime(2024, 1, 1, 9))) == hash(
        Frequency.contract("year", commencement=D(2024, 1, 1)))


def test_descriptions() -> None:
    assert str(Frequency.calendar("quarter")) == "calendar quarters"
    assert Frequency.contract("year", commencement=D(2025, 2, 10)).description == (
        "contract years from 2025-02-10")
    assert Frequency.fiscal("quarter", first_month=4).description == (
        "fiscal quarters (fiscal years beginning April 1, named by the year in which they end)")
    assert Frequency.calendar("quarter", commencement=D(2025, 2, 10)).description == (
        "calendar quarters from 2025-02-10")


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Frequency.calendar("week"), "unknown period unit"),
    (lambda: Frequency("quarter", "lunar"), "unknown period basis"),
    (lambda: Frequency.fiscal("quarter", first_month=13), "1 to 12"),
    (lambda: Frequency.fiscal("month", first_month=4), "fiscal months are calendar months"),
    (lambda: Frequency.fiscal("year", first_month=4, named_by="middle"), "'end' or 'start'"),
    (lambda: Frequency("quarter", "calendar", first_month=4), "fiscal periods only"),
    (lambda: Frequency("year", "contract"), "need a commencement date"),
    (lambda: Frequency.calendar("quarter").first(), "no commencement date"),
    (lambda: Frequency.contract("year", commencement=D(2024, 1, 1)).period(0), "start with period 1"),
    (lambda: Frequency.calendar("year").period(10000), "outside the supported dates"),
    (lambda: Frequency.fiscal("year", first_month=4).containing(D(1, 1, 1)), "outside"),
])
def test_invalid_frequencies_and_periods(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_overlap_days_for_proration() -> None:
    q = Frequency.calendar("quarter").containing(D(2025, 2, 1))  # 90 days
    assert overlap_days(q, D(2025, 2, 10), D(2025, 12, 31)) == 50
    assert overlap_days(q, D(2024, 1, 1), D(2025, 12, 31)) == q.days == 90
    assert overlap_days(q, D(2025, 4, 1), D(2025, 12, 31)) == 0
    assert overlap_days(q, D(2025, 3, 1), D(2025, 2, 1)) == 0
    assert overlap_days(q, D(2025, 3, 31), D(2025, 3, 31)) == 1


# ---------------------------------------------------------------------------
# Properties of period families
# ---------------------------------------------------------------------------

units = st.sampled_from(["month", "quarter", "half_year", "year"])
near_dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31))


@st.composite
def frequencies(draw: st.DrawFn) -> Frequency:
    unit = draw(units)
    commencement = draw(st.none() | near_dates)
    basis = draw(st.sampled_from(["calendar", "fiscal", "contract"]))
    if basis == "contract" or (basis == "fiscal" and unit == "month"):
        return Frequency.contract(unit, commencement=commencement or D(2000, 1, 31))
    if basis == "fiscal":
        return Frequency.fiscal(unit, first_month=draw(st.integers(1, 12)),
                                commencement=commencement,
                                named_by=draw(st.sampled_from(["end", "start"])))
    return Frequency.calendar(unit, commencement=commencement)


def _not_before(frequency: Frequency, day: date) -> date:
    c = frequency.commencement
    return max(day, c) if c is not None else day


@SETTINGS
@given(frequencies(), near_dates)
def test_periods_tile_time(frequency: Frequency, day: date) -> None:
    day = _not_before(frequency, day)
    period = frequency.containing(day)
    assert period.contains(day) and period.start <= day <= period.end
    following = period.next()
    assert following.start == period.end + timedelta(days=1)
    assert following.index == period.index + 1 and following.previous() == period
    assert frequency.containing(following.start) == following
    assert frequency.containing(period.end) == period
    if frequency.commencement is None or period.index > 1:
        assert period.previous().end == period.start - timedelta(days=1)
    else:
        assert period.start == frequency.commencement
    assert 1 <= period.days <= 366 and not following.is_stub
    if not period.is_stub:
        whole = frequency.months
        assert 28 * whole <= period.days <= 31 * whole + (1 if whole == 12 else 0)
    assert frequency.period(period.index) == period


@SETTINGS
@given(frequencies(), near_dates, st.integers(min_value=0, max_value=800))
def test_between_covers_the_range(frequency: Frequency, start: date, length: int) -> None:
    start = _not_before(frequency, start)
    end = start + timedelta(days=length)
    periods = frequency.between(start, end)
    assert periods[0].contains(start) and periods[-1].contains(end)
    for a, b in pairwise(periods):
        assert b.start == a.end + timedelta(days=1)
    assert sum(overlap_days(p, start, end) for p in periods) == length + 1
    assert all(overlap_days(p, start, end) > 0 for p in periods)


@SETTINGS
@given(frequencies(), near_dates, st.integers(min_value=1, max_value=6))
def test_ending_returns_consecutive_periods(frequency: Frequency, day: date, n: int) -> None:
    last = frequency.containing(_not_before(frequency, day))
    if frequency.commencement is not None and last.index < n:
        with pytest.raises(ValueError, match="only"):
            frequency.ending(n, last.end)
        return
    run = frequency.ending(n, last.end)
    assert len(run) == n and run[-1] == last
    assert [p.index for p in run] == list(range(last.index - n + 1, last.index + 1))
    assert frequency.last_ended(n, last.end) == run
    assert frequency.last_ended(n, last.next().end - timedelta(days=1)) == run


# ---------------------------------------------------------------------------
# Business-day adjustment
# ---------------------------------------------------------------------------


def test_modified_following_at_a_month_end() -> None:
    saturday = D(2025, 5, 31)
    assert roll(saturday, weekdays, "modified following") == D(2025, 5, 30)
    assert roll(saturday, weekdays, "following") == D(2025, 6, 2)
    assert roll(saturday, weekdays, "preceding") == D(2025, 5, 30)
    assert roll(saturday, weekdays, "none") == saturday
    assert roll(D(2025, 6, 1), weekdays, "modified preceding") == D(2025, 6, 2)
    assert roll(D(2025, 6, 1), weekdays, "preceding") == D(2025, 5, 30)
    assert roll(D(2025, 6, 3), weekdays, "modified following") == D(2025, 6, 3)
    assert roll(saturday, weekdays, "Modified_Following") == D(2025, 5, 30)


def test_roll_errors() -> None:
    with pytest.raises(ValueError, match="unknown business-day rule"):
        roll(D(2025, 5, 31), weekdays, "nearest")
    with pytest.raises(ValueError, match="no business day within 366 days"):
        roll(D(2025, 5, 31), lambda d: False, "following")
    with pytest.raises(ValueError, match="no business day"):
        roll(D(9999, 12, 31), lambda d: d.year < 9999, "following")
    with pytest.raises(ValueError, match="2025-02 has no business day"):
        last_business_day(D(2025, 2, 1), lambda d: d.month != 2)


def test_last_and_first_business_day() -> None:
    march = Frequency.calendar("quarter").containing(D(2024, 2, 1))
    assert last_business_day(march, weekdays) == D(2024, 3, 29)
    assert last_business_day(D(2024, 3, 5), weekdays) == D(2024, 3, 29)
    assert last_business_day(D(2025, 5, 5), weekdays) == D(2025, 5, 30)
    assert first_business_day(D(2025, 6, 30), weekdays) == D(2025, 6, 2)
    assert first_business_day(march, weekdays) == D(2024, 1, 1)


@st.composite
def business_calendars(draw: st.DrawFn) -> tuple[Callable[[date], bool], frozenset[date]]:
    working = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    closed = frozenset(draw(st.sets(near_dates, max_size=30)))
    return (lambda d: d.weekday() in working and d not in closed), closed


@SETTINGS
@given(business_calendars(), near_dates, st.sampled_from(ROLL_RULES))
def test_roll_lands_on_a_business_day_within_bounds(
    calendar: tuple[Callable[[date], bool], frozenset[date]], day: date, rule: str,
) -> None:
    is_business_day, _ = calendar
    rolled = roll(day, is_business_day, rule)
    if rule == "none" or is_business_day(day):
        assert rolled == day
        return
    assert is_business_day(rolled)
    step = 1 if rolled > day else -1
    between = [day + timedelta(days=step * i) for i in range(1, abs((rolled - day).days))]
    assert not any(is_business_day(d) for d in between), "the nearest business day"
    if rule == "following":
        assert rolled > day
    elif rule == "preceding":
        assert rolled < day
    else:
        same_month = [d for d in (month_start(day) + timedelta(days=i) for i in range(31))
                      if d.month == day.month and is_business_day(d)]
        if same_month:  # modified rules never leave a month that has a business day
            assert (rolled.year, rolled.month) == (day.year, day.month)


# ---------------------------------------------------------------------------
# Embedded holiday tables
# ---------------------------------------------------------------------------


def test_decode_holidays() -> None:
    text = "2024:0101,0115,0219;2025:0101;2026:"
    assert decode_holidays(text) == {D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19),
                                     D(2025, 1, 1)}
    assert decode_holiday_years(text) == range(2024, 2027)


@pytest.mark.parametrize("text", [
    "", "2024", "2024:101", "2024:0230", "2024:0115,0101", "2024:0101;2026:",
    "24:0101", "2024:0101,", "0000:", "2024:0101,0101",
])
def test_decode_rejects_malformed_tables(text: str) -> None:
    with pytest.raises(ValueError):
        decode_holidays(text)
