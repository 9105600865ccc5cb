"""Business-day shifts of the runtime's Calendar against the walk day by day it replaced.

`Calendar.add_business_days` finds the n-th business day by counting whole years of
business days (built once per calendar and year) instead of testing every day. The walk
below is the algorithm it replaced, kept as the reference: every answer, and every error
with its message, must be the walk's, for every kind of calendar (weekends and holidays by
rule, extra holidays, holiday tables with the years they cover) and at the edges of the
dates Python represents. benchmarks/business_days.py times both.
"""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausec.backends.python.runtime import Calendar, us_federal_holidays
from clausec.backends.python.runtime_periods import decode_holiday_table
from clausec.passes.calendars import embedded_table

NY = ZoneInfo("America/New_York")
TABLES = ("london_banks", "new_york_banks", "nyse", "target", "us_government_securities")


# ---------------------------------------------------------------------------
# The reference: the day-by-day walk
# ---------------------------------------------------------------------------


def reference_is_business_day(calendar: Calendar, day: date) -> bool:
    """The calendar's rule for one plain date, as written before the per-year tables."""
    if calendar.table is not None:
        years, closed = calendar.table
        if day.year not in years:
            raise ValueError(f"the {calendar.holidays} calendar covers {years[0]} to "
                             f"{years[-1]}; {day.isoformat()} is outside it")
        if day in closed:
            return False
    if day.weekday() in calendar.weekend or day in calendar.extra_holidays:
        return False
    return not (calendar.holidays == "us_federal" and calendar.table is None
                and day in us_federal_holidays(day.year))


def walk_business_days(calendar: Calendar, d: date, n: int) -> date:
    """The n-th business day after ``d`` (before it if n < 0), one day at a time."""
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    day = date(d.year, d.month, d.day)
    while remaining:
        day += step  # OverflowError past date.min or date.max
        if reference_is_business_day(calendar, day):
            remaining -= 1
    if isinstance(d, datetime):
        return d.replace(year=day.year, month=day.month, day=day.day)
    return day


def outcome(shift: object, calendar: Calendar, d: date, n: int) -> str:
    """What a shift returns or raises, spelled out (type, time and zone included)."""
    try:
        return repr(shift(calendar, d, n))  # type: ignore[operator]
    except (ValueError, OverflowError) as error:
        return f"{type(error).__name__}: {error}"


def assert_same_shift(calendar: Calendar, d: date, n: int) -> None:
    expected = outcome(walk_business_days, calendar, d, n)
    assert outcome(Calendar.add_business_days, calendar, d, n) == expected, (calendar, d, n)


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------

weekends = st.sets(st.integers(0, 6), max_size=6).map(lambda s: tuple(sorted(s)))


def extra_holidays(first: int, last: int) -> st.SearchStrategy[tuple[date, ...]]:
    return st.lists(st.dates(date(first, 1, 1), date(last, 12, 31)), max_size=12).map(tuple)


rule_calendars = st.builds(Calendar, holidays=st.sampled_from(["us_federal", "none"]),
                           extra_holidays=extra_holidays(1998, 2006), weekend=weekends)


@st.composite
def table_calendars(draw: st.DrawFn, first_years: tuple[int, int] = (1998, 2004)
                    ) -> Calendar:
    """A calendar known from a table of one to four years, closing random days in them
    (weekdays mostly, as the built-in tables do, and some weekend days)."""
    first = draw(st.integers(*first_years))
    years = range(first, min(first + draw(st.integers(1, 4)), MAXYEAR + 1))
    closed = draw(st.frozensets(st.dates(date(years[0], 1, 1), date(years[-1], 12, 31)),
                                max_size=40))
    extra = draw(extra_holidays(max(years[0] - 1, MINYEAR), min(years[-1] + 1, MAXYEAR)))
    return Calendar(holidays="test_banks", extra_holidays=extra, weekend=draw(weekends),
                    table=(years, closed))


def builtin_table(name: str) -> Calendar:
    return Calendar(holidays=name, table=decode_holiday_table(embedded_table(name)))


def near(calendar: Calendar) -> st.SearchStrategy[date]:
    """Days in and around the years a calendar knows (a rule-based one: 1997 to 2007)."""
    years = calendar.years or range(1998, 2007)
    first = date(max(years[0] - 1, MINYEAR), 10, 1)
    last = date(min(years[-1] + 1, MAXYEAR), 3, 31)
    return st.dates(first, last)


def as_moment(day: date, hour: int, zone: int) -> date:
    """`day` itself, or a datetime on it (naive, UTC or New York time)."""
    if zone == 0:
        return day
    tz = (None, UTC, NY)[zone - 1]
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=tz)


moments = st.tuples(st.integers(0, 23), st.integers(0, 3))
counts = st.one_of(st.integers(-30, 30), st.integers(-900, 900))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.data(), st.one_of(rule_calendars, table_calendars()), moments, counts)
def test_shift_is_the_walk(data: st.DataObject, calendar: Calendar,
                           moment: tuple[int, int], n: int) -> None:
    day = as_moment(data.draw(near(calendar)), *moment)
    assert_same_shift(calendar, day, n)


@settings(max_examples=60)
@given(st.data(), st.sampled_from(TABLES), st.integers(-800, 800))
def test_shift_is_the_walk_on_the_built_in_tables(data: st.DataObject, name: str,
                                                  n: int) -> None:
    calendar = builtin_table(name)
    years = calendar.years
    assert years is not None
    # Around either end of the table: where the count may step outside it.
    end = data.draw(st.sampled_from([date(years[0], 1, 1), date(years[-1], 12, 31)]))
    day = end + timedelta(days=data.draw(st.integers(-400, 400)))
    assert_same_shift(calendar, day, n)


@settings(max_examples=100)
@given(st.data(), st.one_of(rule_calendars, table_calendars((MAXYEAR - 3, MAXYEAR))),
       st.integers(-900, 900))
def test_shift_is_the_walk_near_the_last_date(data: st.DataObject, calendar: Calendar,
                                              n: int) -> None:
    day = date.max - timedelta(days=data.draw(st.integers(0, 600)))
    assert_same_shift(calendar, day, n)


@settings(max_examples=100)
@given(st.data(), st.one_of(rule_calendars, table_calendars((MINYEAR, MINYEAR + 2))),
       st.integers(-900, 900))
def test_shift_is_the_walk_near_the_first_date(data: st.DataObject, calendar: Calendar,
                                               n: int) -> None:
    day = date.min + timedelta(days=data.draw(st.integers(0, 600)))
    assert_same_shift(calendar, day, n)


@settings(max_examples=40)
@given(rule_calendars, st.dates(date(1990, 1, 1), date(2020, 12, 31)),
       st.integers(-6000, 6000))
def test_shift_across_many_years(calendar: Calendar, day: date, n: int) -> None:
    assert_same_shift(calendar, day, n)


@settings(max_examples=200)
@given(st.data(), st.one_of(rule_calendars, table_calendars()))
def test_is_business_day_is_the_rule(data: st.DataObject, calendar: Calendar) -> None:
    day = data.draw(near(calendar))
    assert outcome(lambda c, d, _: c.is_business_day(d), calendar, day, 0) == \
        outcome(lambda c, d, _: reference_is_business_day(c, d), calendar, day, 0)


# ---------------------------------------------------------------------------
# Examples (worked out by hand from a calendar)
# ---------------------------------------------------------------------------


def test_tenth_business_day_over_thanksgiving() -> None:
    # Friday November 21, 2003: ten business days skip two weekends and Thanksgiving.
    assert Calendar().add_business_days(date(2003, 11, 21), 10) == date(2003, 12, 8)
    assert Calendar().add_business_days(date(2003, 12, 8), -10) == date(2003, 11, 21)


def test_zero_is_the_day_itself_even_outside_a_table() -> None:
    nyse = builtin_table("nyse")
    years = nyse.years
    assert years is not None
    outside = date(years[-1] + 1, 6, 1)
    assert nyse.add_business_days(outside, 0) == outside
    moment = datetime(2004, 1, 3, 17, 0, tzinfo=NY)
    same = Calendar().add_business_days(moment, 0)
    assert same == moment and same.tzinfo is NY


def test_counting_out_of_a_table_names_the_first_day_it_does_not_know() -> None:
    nyse = builtin_table("nyse")
    years = nyse.years
    assert years is not None
    last = date(years[-1], 12, 31)
    message = (f"the nyse calendar covers {years[0]} to {years[-1]}; "
               f"{years[-1] + 1}-01-01 is outside it")
    with pytest.raises(ValueError, match=message):
        nyse.add_business_days(last - timedelta(days=20), 40)
    with pytest.raises(ValueError, match=message):
        nyse.add_business_days(last, 10**18)
    before = f"{years[0] - 1}-12-31 is outside it"
    with pytest.raises(ValueError, match=before):
        nyse.add_business_days(date(years[0], 1, 20), -40)
    # From a day far outside, the first day counted is the one it names.
    with pytest.raises(ValueError, match="1950-06-02 is outside it"):
        nyse.add_business_days(date(1950, 6, 1), 1)


@pytest.mark.parametrize("calendar", [Calendar(), Calendar(holidays="none", weekend=(6,))])
def test_huge_counts_overflow_as_the_walk_did(calendar: Calendar) -> None:
    # The walk stepped past date.max (or before date.min) and raised OverflowError; now
    # the count is known to be out of reach without walking there.
    with pytest.raises(OverflowError, match="date value out of range"):
        calendar.add_business_days(date(2004, 1, 1), 10**18)
    with pytest.raises(OverflowError, match="date value out of range"):
        calendar.add_business_days(datetime(2004, 1, 1, 9, 0, tzinfo=NY), -10**18)
    with pytest.raises(OverflowError, match="date value out of range"):
        calendar.add_business_days(date.max, 1)


def test_the_last_business_days_python_can_represent() -> None:
    us = Calendar()
    # December 31, 9999 is a Friday; New Year's Day 10000 (a Saturday) is not a date.
    assert us.add_business_days(date(9999, 12, 30), 1) == date(9999, 12, 31)
    assert us.add_business_days(date.min, 1) == date(1, 1, 2)  # January 1, 1 is a Monday
    with pytest.raises(OverflowError):
        us.add_business_days(date(9999, 12, 31), 1)
    with pytest.raises(OverflowError):
        us.add_business_days(date(1, 1, 2), -2)
