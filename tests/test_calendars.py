"""Tests of compiler/passes/calendars.py: built-in holiday calendars computed at compile time.

The holiday facts below are published schedules (Federal Reserve, SIFMA, NYSE,
ECB, GOV.UK) checked by hand, not outputs of the code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausec.backends.python.runtime import us_federal_holidays
from clausec.backends.python.runtime_periods import (
    Frequency,
    decode_holiday_years,
    decode_holidays,
    last_business_day,
    roll,
)
from clausec.passes import calendars
from clausec.passes.calendars import (
    FIRST_YEAR,
    LAST_YEAR,
    calendar_info,
    closest,
    embedded_table,
    encode_holidays,
    holiday_dates,
    names,
)

D = date
BUILT_IN = ("london_banks", "new_york_banks", "nyse", "target", "us_federal",
            "us_government_securities", "weekends_only")


def business_days(name: str) -> Callable[[date], bool]:
    """The predicate a generated module builds from the embedded table."""
    closed = decode_holidays(embedded_table(name))
    info = calendar_info(name)
    assert info is not None
    return lambda d: d.weekday() not in info.weekend and d not in closed


def in_year(name: str, year: int) -> list[date]:
    return [d for d in holiday_dates(name) if d.year == year]


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------


def test_registry() -> None:
    assert names() == BUILT_IN
    for name in names():
        info = calendar_info(name)
        assert info is not None and info.name == name
        assert (info.first_year, info.last_year) == (FIRST_YEAR, LAST_YEAR) == (1999, 2099)
        assert info.weekend == (5, 6)
        assert info.description.endswith(".") and info.source


def test_unknown_names_suggest_a_known_one() -> None:
    assert calendar_info("nyse2") is None
    assert closest("nyes") == "nyse"
    assert closest("New York Banks") == "new_york_banks"
    assert closest("us-federal") == "us_federal"
    assert closest("us_government_security") == "us_government_securities"
    assert closest("martian") is None
    with pytest.raises(ValueError, match="did you mean 'target'"):
        holiday_dates("targte")
    with pytest.raises(ValueError, match="unknown holiday calendar 'martian' \\(the built-in"):
        embedded_table("martian")


@pytest.mark.parametrize("name", BUILT_IN)
def test_tables_are_sorted_weekdays_within_the_years(name: str) -> None:
    days = holiday_dates(name)
    assert list(days) == sorted(set(days))
    assert all(d.weekday() < 5 and FIRST_YEAR <= d.year <= LAST_YEAR for d in days)
    table = embedded_table(name)
    assert decode_holidays(table) == frozenset(days)
    assert decode_holiday_years(table) == range(FIRST_YEAR, LAST_YEAR + 1)
    assert table.isascii() and len(table) < 7000


def test_tables_are_deterministic() -> None:
    before = {name: embedded_table(name) for name in names()}
    holiday_dates.cache_clear()
    embedded_table.cache_clear()
    assert {name: embedded_table(name) for name in names()} == before


# ---------------------------------------------------------------------------
# Known holidays
# ---------------------------------------------------------------------------


def test_us_federal_matches_the_runtime_rules_over_every_year() -> None:
    rules = set().union(*(us_federal_holidays(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)))
    assert set(holiday_dates("us_federal")) == rules


def test_juneteenth() -> None:
    # Federal holiday from 2021 (June 19, 2021 was a Saturday: observed Friday June 18);
    # the markets first closed for it in 2022 (June 19 a Sunday: Monday June 20).
    assert D(2021, 6, 18) in holiday_dates("us_federal")
    assert D(2021, 6, 18) not in holiday_dates("new_york_banks")  # Saturday not moved
    for name in ("nyse", "us_government_securities"):
        assert D(2021, 6, 18) not in holiday_dates(name)
        assert D(2022, 6, 20) in holiday_dates(name)
        assert D(2023, 6, 19) in holiday_dates(name)
    assert D(2022, 6, 20) in holiday_dates("new_york_banks")


def test_saturday_holidays() -> None:
    # July 4, 2026 is a Saturday: federal offices, NYSE and SIFMA close Friday July 3;
    # the Federal Reserve Banks (and so New York banks) do not.
    for name in ("us_federal", "nyse", "us_government_securities"):
        assert D(2026, 7, 3) in holiday_dates(name), name
    assert D(2026, 7, 3) not in holiday_dates("new_york_banks")
    # New Year's Day 2022 was a Saturday: federal offices closed Friday December 31, 2021;
    # NYSE, SIFMA and the Federal Reserve did not.
    assert D(2021, 12, 31) in holiday_dates("us_federal")
    for name in ("nyse", "us_government_securities", "new_york_banks"):
        assert D(2021, 12, 31) not in holiday_dates(name), name


def test_sunday_holidays_move_to_monday() -> None:
    # Christmas 2022 was a Sunday: observed Monday December 26.
    for name in ("us_federal", "new_york_banks", "nyse", "us_government_securities"):
        assert D(2022, 12, 26) in holiday_dates(name), name


def test_federal_reserve_2024_to_2026() -> None:
    assert in_year("new_york_banks", 2024) == [
        D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 5, 27), D(2024, 6, 19),
        D(2024, 7, 4), D(2024, 9, 2), D(2024, 10, 14), D(2024, 11, 11), D(2024, 11, 28),
        D(2024, 12, 25)]
    assert in_year("new_york_banks", 2026) == [
        D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 5, 25), D(2026, 6, 19),
        D(2026, 9, 7), D(2026, 10, 12), D(2026, 11, 11), D(2026, 11, 26), D(2026, 12, 25)]


def test_sifma_full_closes_2024_and_2025() -> None:
    assert in_year("us_government_securities", 2024) == [
        D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 3, 29), D(2024, 5, 27),
        D(2024, 6, 19), D(2024, 7, 4), D(2024, 9, 2), D(2024, 10, 14), D(2024, 11, 11),
        D(2024, 11, 28), D(2024, 12, 25)]
    # January 9, 2025 (President Carter's day of mourning) was an early close only.
    assert in_year("us_government_securities", 2025) == [
        D(2025, 1, 1), D(2025, 1, 20), D(2025, 2, 17), D(2025, 4, 18), D(2025, 5, 26),
        D(2025, 6, 19), D(2025, 7, 4), D(2025, 9, 1), D(2025, 10, 13), D(2025, 11, 11),
        D(2025, 11, 27), D(2025, 12, 25)]
    # 2026 apart from Good Friday (April 3), which depends on SIFMA's recommendation.
    assert set(in_year("us_government_securities", 2026)) - {D(2026, 4, 3)} == {
        D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 5, 25), D(2026, 6, 19),
        D(2026, 7, 3), D(2026, 9, 7), D(2026, 10, 12), D(2026, 11, 11), D(2026, 11, 26),
        D(2026, 12, 25)}


def test_nyse_2024_to_2026() -> None:
    assert in_year("nyse", 2024) == [
        D(2024, 1, 1), D(2024, 1, 15), D(2024, 2, 19), D(2024, 3, 29), D(2024, 5, 27),
        D(2024, 6, 19), D(2024, 7, 4), D(2024, 9, 2), D(2024, 11, 28), D(2024, 12, 25)]
    assert in_year("nyse", 2025) == [
        D(2025, 1, 1), D(2025, 1, 9), D(2025, 1, 20), D(2025, 2, 17), D(2025, 4, 18),
        D(2025, 5, 26), D(2025, 6, 19), D(2025, 7, 4), D(2025, 9, 1), D(2025, 11, 27),
        D(2025, 12, 25)]
    assert in_year("nyse", 2026) == [
        D(2026, 1, 1), D(2026, 1, 19), D(2026, 2, 16), D(2026, 4, 3), D(2026, 5, 25),
        D(2026, 6, 19), D(2026, 7, 3), D(2026, 9, 7), D(2026, 11, 26), D(2026, 12, 25)]
    assert {D(2001, 9, 11), D(2001, 9, 14), D(2012, 10, 29)} <= set(holiday_dates("nyse"))


def test_target_and_london() -> None:
    assert in_year("target", 2025) == [
        D(2025, 1, 1), D(2025, 4, 18), D(2025, 4, 21), D(2025, 5, 1), D(2025, 12, 25),
        D(2025, 12, 26)]
    assert D(2001, 12, 31) in holiday_dates("target")
    assert in_year("london_banks", 2022) == [
        D(2022, 1, 3), D(2022, 4, 15), D(2022, 4, 18), D(2022, 5, 2), D(2022, 6, 2),
        D(2022, 6, 3), D(2022, 8, 29), D(2022, 9, 19), D(2022, 12, 26), D(2022, 12, 27)]
    assert D(2023, 5, 8) in holiday_dates("london_banks")
    assert holiday_dates("weekends_only") == ()


# ---------------------------------------------------------------------------
# Calendars with the period library
# ---------------------------------------------------------------------------


def test_last_business_day_of_march_2024() -> None:
    # Friday March 29, 2024 was Good Friday: the stock and bond markets closed, the
    # banks did not.
    march = Frequency.calendar("quarter").containing(D(2024, 3, 1))
    assert last_business_day(march, business_days("nyse")) == D(2024, 3, 28)
    assert last_business_day(march, business_days("us_government_securities")) == D(2024, 3, 28)
    assert last_business_day(march, business_days("new_york_banks")) == D(2024, 3, 29)
    assert last_business_day(march, business_days("target")) == D(2024, 3, 28)


def test_rolls_with_holiday_calendars() -> None:
    banks = business_days("new_york_banks")
    # Monday May 26, 2025 is Memorial Day: Saturday May 24 rolls to Tuesday May 27.
    assert roll(D(2025, 5, 24), banks, "following") == D(2025, 5, 27)
    # Saturday May 31, 2025: modified following stays in May.
    assert roll(D(2025, 5, 31), banks, "modified following") == D(2025, 5, 30)
    # Thursday December 25, 2025 rolls back to Wednesday December 24 under preceding.
    assert roll(D(2025, 12, 25), banks, "preceding") == D(2025, 12, 24)
    weekends = business_days("weekends_only")
    assert roll(D(2025, 12, 25), weekends, "following") == D(2025, 12, 25)


# ---------------------------------------------------------------------------
# The encoding
# ---------------------------------------------------------------------------


def test_encoding_format() -> None:
    days = [D(2025, 1, 1), D(2024, 2, 19), D(2024, 1, 15), D(2024, 1, 1), D(2024, 1, 1)]
    assert encode_holidays(days, 2024, 2026) == "2024:0101,0115,0219;2025:0101;2026:"
    with pytest.raises(ValueError, match="outside the years"):
        encode_holidays([D(2023, 12, 31)], 2024, 2026)
    with pytest.raises(ValueError, match="run forward"):
        encode_holidays([], 2026, 2024)


years = st.integers(min_value=1, max_value=9999)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.data(), years, st.integers(min_value=0, max_value=40))
def test_encoding_round_trips(data: st.DataObject, first: int, span: int) -> None:
    last = min(first + span, 9999)
    low, high = D(first, 1, 1), D(last, 12, 31)
    days = data.draw(st.sets(st.dates(min_value=low, max_value=high), max_size=60))
    text = encode_holidays(days, first, last)
    assert decode_holidays(text) == frozenset(days)
    assert decode_holiday_years(text) == range(first, last + 1)
    assert encode_holidays(sorted(decode_holidays(text)), first, last) == text


def test_the_module_documents_its_years() -> None:
    doc = calendars.__doc__ or ""
    assert str(FIRST_YEAR) in doc and str(LAST_YEAR) in doc
