"""Tests of compiler/backends/python/runtime.py, the prelude pasted into every generated module.

The module is loaded by path so the tests run without installing clausec.
Expected values below were worked out by hand from a calendar, not by
running the code.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
RUNTIME_PATH = Path(__file__).parents[1] / "compiler" / "backends" / "python" / "runtime.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clause_runtime", RUNTIME_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before executing so dataclasses can resolve the module.
    sys.modules["clause_runtime"] = module
    spec.loader.exec_module(module)
    return module


rt = _load()
NY = ZoneInfo("America/New_York")
D = Decimal


# ---------------------------------------------------------------------------
# The module as a prelude
# ---------------------------------------------------------------------------


def test_prelude_uses_only_the_standard_library() -> None:
    tree = ast.parse(RUNTIME_PATH.read_text(encoding="utf-8"))
    body = tree.body
    assert isinstance(body[0], ast.Expr)  # module docstring
    first = body[1]
    assert isinstance(first, ast.ImportFrom)
    assert first.module == "__future__"
    assert [a.name for a in first.names] == ["annotations"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports in the prelude"
            roots = [(node.module or "").split(".")[0]]
        else:
            continue
        for root in roots:
            assert root in sys.stdlib_module_names or root == "__future__", root
    # Imports only at the top: every import is a top-level statement.
    top_level = {id(n) for n in body if isinstance(n, (ast.Import, ast.ImportFrom))}
    all_imports = {id(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))}
    assert all_imports == top_level


def test_prelude_source_runs_when_pasted_into_a_module() -> None:
    # The compiler pastes the text into a generated file; emulate that.
    source = (
        RUNTIME_PATH.read_text(encoding="utf-8")
        + "\nRESULT = Calendar().add_days(date(2004, 1, 1), 1)\n"
    )
    module = ModuleType("generated_example")
    sys.modules["generated_example"] = module
    try:
        exec(compile(source, "generated_example.py", "exec"), module.__dict__)  # noqa: S102
    finally:
        del sys.modules["generated_example"]
    assert module.RESULT == date(2004, 1, 2)


def test_decimal_context_is_neither_used_nor_changed() -> None:
    before = D(1) / D(3)
    with localcontext() as ctx:
        ctx.prec = 3  # would round anything that consulted the context
        assert rt.format_money(D("13354691.40625")) == "$13,354,691.40625"
        assert rt._as_percent("p", "12.3456789%") == D("0.123456789")
        assert rt._as_money("m", "$1,234,567.891") == D("1234567.891")
        assert rt.format_percent(D("0.123456789")) == "12.3456789%"
        assert rt.format_value(D("123456.789"), "decimal") == "123456.789"
    assert D(1) / D(3) == before


# ---------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------


def test_exception_hierarchy() -> None:
    assert issubclass(rt.FactError, rt.ClauseError)
    assert issubclass(rt.FactError, ValueError)
    assert issubclass(rt.ClauseRuntimeError, rt.ClauseError)
    assert issubclass(rt.MissingFactError, rt.ClauseRuntimeError)
    assert issubclass(rt.ConflictError, rt.ClauseRuntimeError)
    assert not issubclass(rt.ClauseRuntimeError, ValueError)


def test_fact_error_message() -> None:
    with pytest.raises(rt.FactError) as info:
        rt._as_money("deposit_received", 1.5)
    assert info.value.fact == "deposit_received"
    assert str(info.value) == (
        "fact 'deposit_received': expected money (a Decimal, int or string such as "
        '"1,800,000.00"), got float 1.5 — floats are not exact; pass a string or Decimal'
    )


def test_clause_runtime_error_position() -> None:
    err = rt.ClauseRuntimeError(
        "division by zero", file="patent_purchase.clause", line=40, column=5, section="3.4"
    )
    assert str(err) == "patent_purchase.clause:40:5 (Section 3.4): division by zero"
    assert (err.message, err.file, err.line, err.column, err.section) == (
        "division by zero",
        "patent_purchase.clause",
        40,
        5,
        "3.4",
    )
    no_section = rt.ClauseRuntimeError("boom", file="a.clause", line=1, column=2, section=None)
    assert str(no_section) == "a.clause:1:2: boom"
    # A section that already names its kind is not prefixed again.
    article = rt.ClauseRuntimeError("boom", file="a.clause", line=1, column=2, section="Article IV")
    assert str(article) == "a.clause:1:2 (Article IV): boom"


def test_missing_fact_error() -> None:
    err = rt.MissingFactError("x", file="patent_purchase.clause", line=40, column=5, section="3.4")
    assert err.fact == "x"
    assert err.message == "fact 'x' is not given, but Section 3.4 needs it"
    assert str(err) == (
        "patent_purchase.clause:40:5 (Section 3.4): fact 'x' is not given, but Section 3.4 needs it"
    )
    bare = rt.MissingFactError("x", file="a.clause", line=3, column=1, section=None)
    assert str(bare) == "a.clause:3:1: fact 'x' is not given, but this rule needs it"
    assert isinstance(bare, rt.ClauseError)


def test_conflict_error_names_both_positions() -> None:
    other = rt._position("p.clause", 52, 3, "3.6")
    assert other == "p.clause:52:3 (Section 3.6)"
    err = rt.ConflictError(
        "two rules decide 'price'", file="p.clause", line=40, column=5, section="3.4", other=other
    )
    assert err.other == other
    assert str(err) == (
        "p.clause:40:5 (Section 3.4): two rules decide 'price'; "
        "the other rule is at p.clause:52:3 (Section 3.6)"
    )


# ---------------------------------------------------------------------------
# Holidays
# ---------------------------------------------------------------------------


def test_holidays_2004() -> None:
    assert rt.us_federal_holidays(2004) == {
        date(2004, 1, 1),
        date(2004, 1, 19),  # MLK: third Monday
        date(2004, 2, 16),
        date(2004, 5, 31),
        date(2004, 7, 5),  # July 4 was a Sunday
        date(2004, 9, 6),
        date(2004, 10, 11),
        date(2004, 11, 11),
        date(2004, 11, 25),
        date(2004, 12, 24),  # Christmas was a Saturday
        date(2004, 12, 31),  # January 1, 2005 was a Saturday
    }


def test_holidays_2011_new_year_observed_in_previous_year() -> None:
    assert date(2010, 12, 31) in rt.us_federal_holidays(2010)
    h2011 = rt.us_federal_holidays(2011)
    assert date(2010, 12, 31) not in h2011
    assert date(2011, 1, 1) not in h2011  # a Saturday: not a day off
    assert h2011 == {
        date(2011, 1, 17),
        date(2011, 2, 21),
        date(2011, 5, 30),
        date(2011, 7, 4),
        date(2011, 9, 5),
        date(2011, 10, 10),
        date(2011, 11, 11),
        date(2011, 11, 24),
        date(2011, 12, 26),  # Christmas was a Sunday
    }


def test_juneteenth_from_2021() -> None:
    assert date(2021, 6, 18) in rt.us_federal_holidays(2021)  # June 19 was a Saturday
    assert date(2022, 6, 20) in rt.us_federal_holidays(2022)  # a Sunday
    assert date(2023, 6, 19) in rt.us_federal_holidays(2023)
    assert not any(d.month == 6 for d in rt.us_federal_holidays(2020))


def test_mlk_day_from_1986_and_veterans_day_in_october_until_1977() -> None:
    assert date(1986, 1, 20) in rt.us_federal_holidays(1986)
    assert not any(d.month == 1 and d.day > 1 for d in rt.us_federal_holidays(1985))
    h1975 = rt.us_federal_holidays(1975)
    assert date(1975, 10, 27) in h1975  # fourth Monday of October
    assert date(1975, 11, 11) not in h1975
    assert date(1978, 11, 10) in rt.us_federal_holidays(1978)  # Nov 11 was a Saturday


def test_holidays_before_1971_follow_the_1971_rules() -> None:
    # Counting business days backwards from early 1971 needs 1970's holidays.
    assert date(1970, 12, 25) in rt.us_federal_holidays(1970)
    assert date(1970, 1, 19) not in rt.us_federal_holidays(1970)  # no MLK Day before 1986
    assert rt.us_federal_holidays(1) == frozenset()


def test_holidays_are_cached_frozensets() -> None:
    assert isinstance(rt.us_federal_holidays(2030), frozenset)
    assert rt.us_federal_holidays(2030) is rt.us_federal_holidays(2030)
    assert hasattr(rt.us_federal_holidays, "cache_info")


def test_holidays_match_the_holidays_package() -> None:
    holidays = pytest.importorskip("holidays")
    for year in range(1971, 2036):
        reference = holidays.US(years=year, observed=True)
        # The package lists each holiday on its nominal date and, when that is
        # a weekend day, again on the weekday it is observed ("... (observed)").
        # Only the days off are federal non-workdays, so drop weekend dates.
        # It files New Year's Day observed on December 31 under the earlier
        # year, as we do. Inauguration Day is not a nationwide legal public
        # holiday; drop it should a future version list it.
        expected = {
            d
            for d, name in reference.items()
            if d.weekday() < 5 and "Inauguration" not in name and d.year == year
        }
        assert rt.us_federal_holidays(year) == expected, year


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------

US = rt.Calendar()
NO_HOLIDAYS = rt.Calendar(holidays="none")


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2004, 1, 2), 2, date(2004, 1, 6)),  # Friday -> Tuesday
        (date(2003, 12, 30), 2, date(2004, 1, 2)),  # skips January 1
        (date(2004, 11, 22), 10, date(2004, 12, 7)),  # spans Thanksgiving
        (date(2004, 7, 2), 1, date(2004, 7, 6)),  # weekend + observed July 4
        (date(2010, 12, 30), 1, date(2011, 1, 3)),  # Dec 31, 2010 observed
        (date(2004, 1, 3), 1, date(2004, 1, 5)),  # from a Saturday
        (date(2004, 1, 3), 0, date(2004, 1, 3)),  # zero: the day itself
        (date(2004, 1, 6), -2, date(2004, 1, 2)),
        (date(2004, 1, 5), -2, date(2003, 12, 31)),  # skips January 1
        (date(2004, 12, 1), -5, date(2004, 11, 23)),  # skips Thanksgiving
    ],
)
def test_add_business_days(start: date, n: int, expected: date) -> None:
    assert US.add_business_days(start, n) == expected


def test_calendar_without_holidays_counts_only_weekends() -> None:
    assert NO_HOLIDAYS.add_business_days(date(2004, 7, 2), 1) == date(2004, 7, 5)
    assert NO_HOLIDAYS.is_business_day(date(2004, 1, 1))
    assert not US.is_business_day(date(2004, 1, 1))


def test_calendar_extra_holidays_and_weekend() -> None:
    cal = rt.Calendar(extra_holidays=(date(2004, 1, 5),))
    assert cal.add_business_days(date(2004, 1, 2), 1) == date(2004, 1, 6)
    gulf = rt.Calendar(holidays="none", weekend=(4, 5))  # Friday and Saturday
    assert gulf.add_business_days(date(2024, 1, 4), 1) == date(2024, 1, 7)  # Thu -> Sun
    assert gulf.is_business_day(date(2024, 1, 7))


def test_calendar_normalises_and_is_hashable() -> None:
    cal = rt.Calendar(extra_holidays=[datetime(2004, 1, 5, 9, 0)], weekend=[5, 6])
    assert cal.extra_holidays == (date(2004, 1, 5),)
    assert type(cal.extra_holidays[0]) is date
    assert cal == rt.Calendar(extra_holidays=(date(2004, 1, 5),))
    assert hash(cal) == hash(rt.Calendar(extra_holidays=(date(2004, 1, 5),)))


def test_calendar_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="unknown holiday calendar 'uk'"):
        rt.Calendar(holidays="uk")
    with pytest.raises(ValueError, match="at least one"):
        rt.Calendar(weekend=(0, 1, 2, 3, 4, 5, 6))
    with pytest.raises(ValueError):
        rt.Calendar(weekend=(7,))
    with pytest.raises(TypeError):
        rt.Calendar(extra_holidays=("2004-01-05",))


def test_datetimes_keep_time_and_zone() -> None:
    start = datetime(2004, 1, 2, 17, 0, tzinfo=NY)
    later = US.add_business_days(start, 2)
    assert later == datetime(2004, 1, 6, 17, 0, tzinfo=NY)
    assert later.tzinfo is NY
    assert US.is_business_day(datetime(2004, 1, 2, 23, 59))
    assert not US.is_business_day(datetime(2004, 1, 1, 9, 0))
    # Across the DST change the wall-clock time stays 5 P.M.
    spring = US.add_days(datetime(2011, 3, 12, 17, 0, tzinfo=NY), 1)
    assert spring == datetime(2011, 3, 13, 21, 0, tzinfo=UTC)
    assert spring.utcoffset() == timedelta(hours=-4)


def test_add_days() -> None:
    assert US.add_days(date(2004, 2, 28), 2) == date(2004, 3, 1)  # leap year
    assert US.add_days(date(2004, 3, 1), -1) == date(2004, 2, 29)
    assert US.add_days(date(2004, 1, 1), 0) == date(2004, 1, 1)


def test_close_of_business() -> None:
    cob = rt.close_of_business(date(2011, 6, 14), "17:00", "America/New_York")
    assert cob == datetime(2011, 6, 14, 21, 0, tzinfo=UTC)  # EDT is UTC-4
    assert isinstance(cob.tzinfo, ZoneInfo)
    assert cob.tzinfo.key == "America/New_York"
    winter = rt.close_of_business(date(2011, 1, 14), "17:30:15", "America/New_York")
    assert winter == datetime(2011, 1, 14, 22, 30, 15, tzinfo=UTC)  # EST is UTC-5
    assert rt._zone("Europe/London") is rt._zone("Europe/London")
    with pytest.raises(ValueError, match="HH:MM"):
        rt.close_of_business(date(2011, 6, 14), "5pm", "America/New_York")
    with pytest.raises(ValueError, match="unknown time zone"):
        rt.close_of_business(date(2011, 6, 14), "17:00", "Mars/Olympus_Mons")


# ---------------------------------------------------------------------------
# Calendar properties
# ---------------------------------------------------------------------------

DATES = st.dates(min_value=date(1972, 1, 1), max_value=date(2100, 12, 31))
CALENDARS = st.builds(
    rt.Calendar,
    holidays=st.sampled_from(["us_federal", "none"]),
    extra_holidays=st.lists(DATES, max_size=20).map(tuple),
    weekend=st.sets(st.integers(0, 6), max_size=6).map(lambda s: tuple(sorted(s))),
)


def _business_days_between(cal: Any, start: date, end: date) -> int:
    """Brute force: business days d with start < d <= end."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += cal.is_business_day(day)
    return count


def _on_or_before(cal: Any, d: date) -> date:
    while not cal.is_business_day(d):
        d -= timedelta(days=1)
    return d


def _on_or_after(cal: Any, d: date) -> date:
    while not cal.is_business_day(d):
        d += timedelta(days=1)
    return d


@given(cal=CALENDARS, d=DATES, n=st.integers(1, 300))
def test_prop_result_is_the_nth_business_day(cal: Any, d: date, n: int) -> None:
    result = cal.add_business_days(d, n)
    assert result > d
    assert cal.is_business_day(result)
    assert _business_days_between(cal, d, result) == n
    back = cal.add_business_days(d, -n)
    assert back < d
    assert cal.is_business_day(back)
    assert _business_days_between(cal, back, d - timedelta(days=1)) == n - 1


@given(cal=CALENDARS, d=DATES, m=st.integers(-200, 200), k=st.integers(1, 100))
def test_prop_monotonic_in_n(cal: Any, d: date, m: int, k: int) -> None:
    assert cal.add_business_days(d, m) < cal.add_business_days(d, m + k)


@given(cal=CALENDARS, d=DATES, n=st.integers(1, 300))
def test_prop_round_trip(cal: Any, d: date, n: int) -> None:
    # Going n forward and n back lands on the last business day on or
    # before d (d itself when it is a business day); the mirror image too.
    there = cal.add_business_days(d, n)
    assert cal.add_business_days(there, -n) == _on_or_before(cal, d)
    back = cal.add_business_days(d, -n)
    assert cal.add_business_days(back, n) == _on_or_after(cal, d)


@given(d=DATES, n=st.integers(-500, 500))
def test_prop_add_days_is_calendar_arithmetic(d: date, n: int) -> None:
    assert US.add_days(d, n) == d + timedelta(days=n)


@given(year=st.integers(1971, 2200))
def test_prop_holidays_are_weekdays_in_their_year(year: int) -> None:
    days = rt.us_federal_holidays(year)
    expected = 11 if year >= 2021 else 10 if year >= 1986 else 9
    # A Saturday January 1 moves to the year before; the next one may move in.
    jan1_moved_out = date(year, 1, 1).weekday() == 5
    dec31_moved_in = date(year + 1, 1, 1).weekday() == 5
    assert len(days) == expected - jan1_moved_out + dec31_moved_in
    assert all(d.year == year and d.weekday() < 5 for d in days)


# ---------------------------------------------------------------------------
# Converters
# ---------------------------------------------------------------------------

PARTIES = ("Seller", "Purchaser")


@pytest.mark.parametrize(
    ("converter", "value", "expected"),
    [
        (rt._as_bool, True, True),
        (rt._as_bool, False, False),
        (rt._as_integer, 42, 42),
        (rt._as_integer, "42", 42),
        (rt._as_integer, " -7 ", -7),
        (rt._as_integer, "1,000", 1000),
        (rt._as_decimal, D("2.50"), D("2.50")),
        (rt._as_decimal, 3, D(3)),
        (rt._as_decimal, "2.5", D("2.5")),
        (rt._as_decimal, "-1,234.5", D("-1234.5")),
        (rt._as_decimal, ".5", D("0.5")),
        (rt._as_decimal, "1e3", D(1000)),
        (rt._as_money, D("1800000.00"), D("1800000.00")),
        (rt._as_money, 100, D(100)),
        (rt._as_money, "1,800,000.00", D("1800000.00")),
        (rt._as_money, "$1,800,000.00", D("1800000.00")),
        (rt._as_money, "USD 1,000", D(1000)),
        (rt._as_money, "USD $1,000", D(1000)),
        (rt._as_money, "1,000.5 USD", D("1000.5")),
        (rt._as_money, "-$100.00", D("-100.00")),
        (rt._as_money, "$-100", D(-100)),
        (rt._as_money, "13354691.40625", D("13354691.40625")),
        (rt._as_percent, "15%", D("0.15")),
        (rt._as_percent, "7.5 %", D("0.075")),
        (rt._as_percent, "100%", D(1)),
        (rt._as_percent, D("0.15"), D("0.15")),
        (rt._as_percent, 1, D(1)),
        (rt._as_date, date(2004, 3, 30), date(2004, 3, 30)),
        (rt._as_date, "2004-03-30", date(2004, 3, 30)),
        (
            rt._as_datetime,
            "2011-06-14T17:00:00-04:00",
            datetime(2011, 6, 14, 21, tzinfo=UTC),
        ),
        (rt._as_datetime, "2011-06-14T21:00:00Z", datetime(2011, 6, 14, 21, tzinfo=UTC)),
        (
            rt._as_datetime,
            datetime(2011, 6, 14, 17, tzinfo=NY),
            datetime(2011, 6, 14, 17, tzinfo=NY),
        ),
        (rt._as_days, 10, 10),
        (rt._as_days, 0, 0),
        (rt._as_days, "10", 10),
        (rt._as_text, "hello", "hello"),
    ],
)
def test_converters_accept(converter: Any, value: object, expected: object) -> None:
    result = converter("f", value)
    assert result == expected
    assert type(result) is type(expected)


def test_money_in_another_currency() -> None:
    assert rt._as_money("m", "EUR 1,800.00", "EUR") == D("1800.00")
    assert rt._as_money("m", "1,800.00", "EUR") == D("1800.00")
    with pytest.raises(rt.FactError, match="in EUR, not USD"):
        rt._as_money("m", "EUR 100")
    with pytest.raises(rt.FactError, match=r"'\$' means USD"):
        rt._as_money("m", "$100", "EUR")


def test_party() -> None:
    assert rt._as_party("p", "Seller", PARTIES) == "Seller"
    with pytest.raises(rt.FactError) as info:
        rt._as_party("breaching_party", "seller", PARTIES)
    assert str(info.value) == (
        "fact 'breaching_party': expected one of the parties 'Seller', 'Purchaser', "
        "got str 'seller' — did you mean 'Seller'?"
    )
    with pytest.raises(rt.FactError, match="did you mean 'Purchaser'"):
        rt._as_party("p", "Purchasr", PARTIES)
    with pytest.raises(rt.FactError) as info:
        rt._as_party("p", "Landlord", PARTIES)
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    ("converter", "value", "fragment"),
    [
        (rt._as_bool, 1, "got int 1"),
        (rt._as_bool, "true", "got str 'true'"),
        (rt._as_bool, None, "got nothing (None); this fact is required"),
        (rt._as_integer, True, "got bool True"),
        (rt._as_integer, 1.0, "floats are not exact"),
        (rt._as_integer, "1.5", "whole number"),
        (rt._as_integer, "١٢", "whole number"),  # non-ASCII digits
        (rt._as_integer, "9" * 5000, "whole number"),  # longer than int() reads
        (rt._as_decimal, 1.5, "floats are not exact"),
        (rt._as_decimal, float("nan"), "floats are not exact"),
        (rt._as_decimal, True, "got bool True"),
        (rt._as_decimal, D("NaN"), "got Decimal('NaN') — not a finite number"),
        (rt._as_decimal, D("-Infinity"), "not a finite number"),
        (rt._as_decimal, "NaN", "expected a number"),
        (rt._as_decimal, "1,23", "expected a number"),
        (rt._as_decimal, D("1E+5000"), "out of range"),
        (rt._as_decimal, "1e999999", "out of range"),
        (rt._as_money, "$1.2.3", "expected money"),
        (rt._as_money, "-$-5", "expected money"),
        (rt._as_money, "USD 5 EUR", "expected money"),
        (rt._as_money, "1,80,000", "expected money"),
        (rt._as_money, False, "got bool False"),
        (rt._as_percent, 0.15, "floats are not exact"),
        (rt._as_percent, "15", 'with a % sign, such as "15%"'),
        (rt._as_percent, "abc%", "expected a percentage"),
        (rt._as_date, datetime(2004, 3, 30, 12, 0), "not a datetime"),
        (rt._as_date, "2004-02-30", "no such date"),
        (rt._as_date, "20040330", "expected a date"),
        (rt._as_date, "March 30, 2004", "expected a date"),
        (rt._as_datetime, datetime(2011, 6, 14, 17, 0), "a time zone is required"),
        (rt._as_datetime, "2011-06-14T17:00", "a time zone is required"),
        (rt._as_datetime, "2011-06-14", "expected a date and time"),
        (rt._as_datetime, date(2011, 6, 14), "expected a date and time"),
        (rt._as_days, -1, "cannot be negative"),
        (rt._as_days, 2.0, "floats are not exact"),
        (rt._as_days, True, "got bool True"),
        (rt._as_text, 5, "expected text (a str), got int 5"),
    ],
)
def test_converters_reject(converter: Any, value: object, fragment: str) -> None:
    with pytest.raises(rt.FactError) as info:
        converter("the_fact", value)
    assert info.value.fact == "the_fact"
    message = str(info.value)
    assert message.startswith("fact 'the_fact': expected ")
    assert fragment in message


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(rt.FactError) as info:
        rt._as_integer("n", "x" * 500)
    assert len(str(info.value)) < 200
    assert "..." in str(info.value)


ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4400, max_value=10**4500),  # too long to print
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.from_regex(r"\A[-+$ ]{0,2}[A-Z]{0,3} ?[0-9,.]{1,12}(%| USD)?\Z"),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.timedeltas(),
    st.lists(st.integers(), max_size=3),
    st.binary(max_size=5),
    st.builds(object),
)
CONVERTERS = [
    rt._as_bool,
    rt._as_integer,
    rt._as_decimal,
    rt._as_money,
    lambda f, v: rt._as_money(f, v, "EUR"),
    rt._as_percent,
    rt._as_date,
    rt._as_datetime,
    rt._as_days,
    rt._as_text,
    lambda f, v: rt._as_party(f, v, PARTIES),
]


@settings(max_examples=300)
@given(value=ANYTHING, index=st.integers(0, len(CONVERTERS) - 1))
def test_prop_converters_raise_only_fact_error(value: object, index: int) -> None:
    try:
        CONVERTERS[index]("f", value)
    except rt.FactError as exc:
        assert exc.fact == "f"
        assert str(exc).startswith("fact 'f': expected ")


MONEY = st.decimals(
    allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=5
)


@given(amount=MONEY, currency=st.sampled_from(["USD", "EUR", "JPY"]))
def test_prop_money_formatting_round_trips(amount: Decimal, currency: str) -> None:
    text = rt.format_money(amount, currency)
    assert rt._as_money("m", text, currency) == amount
    assert "E" not in text.removeprefix("EUR")


@given(
    fraction=st.decimals(
        allow_nan=False, allow_infinity=False, min_value=-10, max_value=10, places=6
    )
)
def test_prop_percent_formatting_round_trips(fraction: Decimal) -> None:
    assert rt._as_percent("p", rt.format_percent(fraction)) == fraction


@given(value=st.decimals(allow_nan=False, allow_infinity=False))
def test_prop_plain_decimal_is_exact_and_never_scientific(value: Decimal) -> None:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if abs(exponent) > 2000:
        return  # keep the strings small
    text = rt.format_value(value, "decimal")
    assert "E" not in text and "e" not in text
    assert D(text) == value


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("1800000"), "USD", "$1,800,000.00"),
        (D("1800000.00"), "USD", "$1,800,000.00"),
        (D("13354691.40625"), "USD", "$13,354,691.40625"),
        (D("0.5"), "USD", "$0.50"),
        (D("1.500"), "USD", "$1.50"),
        (D("-100"), "USD", "-$100.00"),
        (D("-0.00"), "USD", "$0.00"),
        (D("999"), "USD", "$999.00"),
        (D("1000"), "USD", "$1,000.00"),
        (D("1E+6"), "USD", "$1,000,000.00"),
        (D("1800"), "EUR", "EUR 1,800.00"),
        (D("-1800"), "EUR", "EUR -1,800.00"),
        (7, "USD", "$7.00"),
    ],
)
def test_format_money(amount: Decimal, currency: str, expected: str) -> None:
    assert rt.format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (D("0.075"), "7.5%"),
        (D("0.15"), "15%"),
        (D("0.1500"), "15%"),
        (D("1"), "100%"),
        (D("0"), "0%"),
        (D("-0.05"), "-5%"),
        (D("0.00125"), "0.125%"),
    ],
)
def test_format_percent(fraction: Decimal, expected: str) -> None:
    assert rt.format_percent(fraction) == expected


def test_format_date_and_datetime() -> None:
    assert rt.format_date(date(2004, 3, 30)) == "March 30, 2004"
    assert rt.format_date(date(2004, 1, 1)) == "January 1, 2004"
    assert (
        rt.format_datetime(datetime(2011, 6, 14, 17, 0, tzinfo=NY))
        == "June 14, 2011, 5:00 P.M. (America/New_York)"
    )
    assert rt.format_datetime(datetime(2011, 6, 14, 12, 0, tzinfo=NY)).endswith(
        "12:00 P.M. (America/New_York)"
    )
    assert rt.format_datetime(datetime(2011, 6, 14, 0, 5, tzinfo=NY)).endswith(
        "12:05 A.M. (America/New_York)"
    )
    assert (
        rt.format_datetime(datetime(2004, 3, 30, 9, 5, tzinfo=UTC))
        == "March 30, 2004, 9:05 A.M. (UTC)"
    )
    minus4 = timezone(timedelta(hours=-4))
    assert rt.format_datetime(datetime(2004, 3, 30, 17, 0, 30, tzinfo=minus4)) == (
        "March 30, 2004, 5:00:30 P.M. (UTC-04:00)"
    )
    plus530 = timezone(timedelta(hours=5, minutes=30))
    assert rt.format_datetime(datetime(2004, 3, 30, 8, 0, tzinfo=plus530)).endswith("(UTC+05:30)")
    assert rt.format_datetime(datetime(2004, 3, 30, 8, 0)) == "March 30, 2004, 8:00 A.M."


def test_format_days() -> None:
    assert rt.format_days(1, False) == "1 day"
    assert rt.format_days(10, False) == "10 days"
    assert rt.format_days(0, False) == "0 days"
    assert rt.format_days(2, True) == "2 business days"
    assert rt.format_days(1, True) == "1 business day"


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (True, "bool", "true"),
        (False, "bool", "false"),
        (None, "money", "not given"),
        (None, "bool", "not given"),
        (1000000, "integer", "1000000"),
        (D("1.50E+3"), "decimal", "1500"),
        (D("0.0100"), "decimal", "0.01"),
        (D("1E-7"), "decimal", "0.0000001"),
        (D("-0"), "decimal", "0"),
        (D("1800000"), "money", "$1,800,000.00"),
        (D("0.075"), "percent", "7.5%"),
        (date(2004, 3, 30), "date", "March 30, 2004"),
        (
            datetime(2011, 6, 14, 17, tzinfo=NY),
            "datetime",
            "June 14, 2011, 5:00 P.M. (America/New_York)",
        ),
        (
            datetime(2011, 6, 14, 17, tzinfo=NY),
            "date",
            "June 14, 2011, 5:00 P.M. (America/New_York)",
        ),
        (10, "days", "10 days"),
        (2, "business_days", "2 business days"),
        ("Seller", "party", "Seller"),
        ("a text", "text", "a text"),
        ("oops", "money", "oops"),  # a value that does not fit its kind is shown as is
    ],
)
def test_format_value(value: object, kind: str, expected: str) -> None:
    assert rt.format_value(value, kind) == expected


def test_format_value_currency_and_unknown_kind() -> None:
    assert rt.format_value(D("1800"), "money", "EUR") == "EUR 1,800.00"
    with pytest.raises(ValueError, match="unknown kind 'amount'"):
        rt.format_value(D(1), "amount")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def _payment(**changes: object) -> Any:
    fields: dict[str, object] = {
        "name": "pay_purchase_price",
        "section": "3.4",
        "obligor": "Purchaser",
        "action": "pay",
        "object": D("1800000.00"),
        "object_kind": "money",
        "beneficiary": "Seller",
        "due": date(2004, 3, 30),
        "due_text": "on the closing date",
        "active": True,
    }
    fields.update(changes)
    return rt.Obligation(**fields)


def test_obligation_str() -> None:
    assert (
        str(_payment())
        == "Purchaser must pay $1,800,000.00 to Seller by March 30, 2004 (Section 3.4)"
    )
    assert str(_payment(active=False)) == (
        "[not in effect] Purchaser must pay $1,800,000.00 to Seller by March 30, 2004 (Section 3.4)"
    )
    assert str(_payment(due=None, due_text="within 2 business days after the breach")) == (
        "Purchaser must pay $1,800,000.00 to Seller within 2 business days after the breach (Section 3.4)"
    )
    assert str(_payment(due=datetime(2011, 6, 14, 17, tzinfo=NY))) == (
        "Purchaser must pay $1,800,000.00 to Seller by June 14, 2011, 5:00 P.M. (America/New_York)"
        " (Section 3.4)"
    )
    notice = _payment(
        action="deliver",
        object="the Closing Certificate",
        object_kind="text",
        section=None,
        due=None,
        due_text="",
    )
    assert str(notice) == "Purchaser must deliver the Closing Certificate to Seller"
    assert str(_payment(object=D(1800), currency="EUR")).startswith(
        "Purchaser must pay EUR 1,800.00 "
    )


def test_power_str() -> None:
    power = rt.Power(
        name="terminate",
        section="8.2",
        holders=("Seller", "Purchaser"),
        action="terminate",
        available=True,
        consequences=(_payment(due=None, due_text="within 2 business days"),),
    )
    assert str(power) == (
        "Seller or Purchaser may terminate (Section 8.2): available\n"
        "  - Purchaser must pay $1,800,000.00 to Seller within 2 business days (Section 3.4)"
    )
    single = rt.Power("t", None, ("Either party",), "terminate", False, ())
    assert str(single) == "Either party may terminate: not available"


def _tree() -> Any:
    E = rt.Explanation
    return E(
        "closing_conditions_met",
        False,
        "bool",
        "3.1",
        "patent_purchase.clause",
        42,
        children=(
            E(
                "(a) requisite_stockholder_approval",
                False,
                "bool",
                "2.6",
                "patent_purchase.clause",
                30,
                children=(E("stockholder_vote_obtained", False, "bool", None, None, None, "fact"),),
            ),
            E(
                "(b) not license_amendment_terminated",
                True,
                "bool",
                "3.1",
                "patent_purchase.clause",
                44,
                children=(
                    E("price", D("1800000"), "money", None, None, None, "fact"),
                    E("cap", None, "money", "3.2", None, None, "not evaluated: already decided"),
                ),
            ),
        ),
    )


def test_explanation_render() -> None:
    expected = (
        "closing_conditions_met = false  [Section 3.1, patent_purchase.clause:42]\n"
        "├── (a) requisite_stockholder_approval = false  [Section 2.6, patent_purchase.clause:30]\n"
        "│   └── stockholder_vote_obtained = false  [fact]\n"
        "└── (b) not license_amendment_terminated = true  [Section 3.1, patent_purchase.clause:44]\n"
        "    ├── price = $1,800,000.00  [fact]\n"
        "    └── cap = not given  [Section 3.2, not evaluated: already decided]"
    )
    tree = _tree()
    assert tree.render() == expected
    assert str(tree) == expected
    leaf = rt.Explanation("x", D("2.50"), "decimal", None, None, None)
    assert leaf.render() == "x = 2.5"


def test_explanation_to_dict_is_json() -> None:
    data = _tree().to_dict()
    json.dumps(data)
    assert data["value"] == "false"
    assert data["line"] == 42
    assert data["section"] == "3.1"
    second = data["children"][1]
    assert second["children"][0] == {
        "label": "price",
        "value": "$1,800,000.00",
        "kind": "money",
        "section": None,
        "file": None,
        "line": None,
        "note": "fact",
        "children": [],
    }


def test_explanation_find() -> None:
    tree = _tree()
    found = tree.find("stockholder")
    # Depth first: the (a) node comes before its child.
    assert found is not None and found.label == "(a) requisite_stockholder_approval"
    assert tree.find("vote").label == "stockholder_vote_obtained"
    assert tree.find("price").value == D("1800000")
    assert tree.find("closing") is tree
    assert tree.find("nothing like this") is None


def test_deep_explanation_renders_without_recursion() -> None:
    node = rt.Explanation("leaf", 0, "integer", None, None, None)
    for i in range(3000):
        node = rt.Explanation(f"n{i}", i, "integer", None, None, None, children=(node,))
    lines = node.render().splitlines()
    assert len(lines) == 3001
    assert lines[-1].endswith("└── leaf = 0")
    assert node.find("leaf") is not None


# ---------------------------------------------------------------------------
# Static checks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("mypy", ["--strict", "--no-incremental", str(RUNTIME_PATH)]),
        ("ruff", ["check", str(RUNTIME_PATH)]),
        # The whole compiler package, and the project's own code and tests.
        # (by package name: the modules import each other as clausec.*)
        ("mypy", ["--strict", "--no-incremental", "-p", "clausec"]),
        ("ruff", ["check", str(REPO / "compiler"), str(REPO / "tests")]),
    ],
)
def test_static_checks_pass(tool: str, args: list[str]) -> None:
    pytest.importorskip(tool)
    result = subprocess.run(
        [sys.executable, "-m", tool, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
