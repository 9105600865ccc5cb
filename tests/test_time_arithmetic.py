"""Time arithmetic, run: months and years (the end-of-month rule) and business days of the
built-in calendars, in the compiled module and in the interpreter, which must agree on
every value and every error (class and message).

Expected dates are worked out by hand from a calendar and the published holiday
schedules (Federal Reserve, SIFMA, NYSE, ECB, GOV.UK), not by running the code: July 4,
2026 is a Saturday, so federal offices and the NYSE close on Friday July 3 while the New
York banks (the Federal Reserve does not move a Saturday holiday) open; Good Friday 2024
is March 29 (Easter Monday April 1), when the NYSE and the government securities market
close and the banks open. One test also counts business days against the holiday tables
of passes/calendars.py by brute force, day by day.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clausec import api
from clausec.backends.interpret import Agreement, interpret
from clausec.backends.python.runtime import Calendar, ClauseRuntimeError, FactError
from clausec.backends.python.runtime import format_value as runtime_format_value
from clausec.backends.python.runtime_periods import decode_holiday_table
from clausec.cli import main
from clausec.passes import calendars
from clausec.source import SourceFile

NY = ZoneInfo("America/New_York")
CALENDARS = calendars.names()  # every built-in calendar
TABLE_CALENDARS = tuple(n for n in CALENDARS if n not in calendars.RULE_BASED)
FIXTURE = Path(__file__).resolve().parent / "data" / "time_arithmetic.clause"


def build(text: str, name: str = "t.clause") -> tuple[ModuleType, Agreement]:
    """The compiled module and the interpreted agreement of clause text."""
    source = SourceFile(name, text)
    result = api.analyse(source)
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    return api.module_from_source(api.generate(result), name), interpret(result)


def shown(value: Any) -> Any:
    """A value as compared: with its type (and a datetime's zone); a record (the module's
    Obligation, or the runtime's the interpreter returns) by its fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, shown(getattr(value, f.name)))
                                            for f in dataclasses.fields(value)))
    if isinstance(value, tuple):
        return tuple(shown(v) for v in value)
    zone = str(value.tzinfo) if isinstance(value, datetime) else None
    return (type(value).__name__, value, zone)


def outcome(thunk: Callable[[], Any]) -> tuple[Any, ...]:
    """A value as `shown`, or an error's class and message (a ClauseRuntimeError's without
    its position: the module cites the provision, the interpreter too, but an inlined
    term is cited where it is used)."""
    try:
        value = thunk()
    except Exception as error:  # noqa: BLE001 - which error, with what message, is the point
        return ("error", type(error).__name__, getattr(error, "message", str(error)))
    return ("value", shown(value))


def both(module: ModuleType, agreement: Agreement, name: str, facts: dict[str, Any]) -> Any:
    """`name` on `facts` in the compiled module, checked to be what the interpreter
    gives (both give the same value, or raise the same error)."""
    compiled = outcome(lambda: module.evaluate(name, module.Facts(**facts)))
    interpreted = outcome(lambda: agreement.evaluate(name, facts))
    assert compiled == interpreted, (name, facts)
    if compiled[0] == "error":
        raise AssertionError(f"{name}: {compiled[1]}: {compiled[2]}")
    return module.evaluate(name, module.Facts(**facts))


def error_of(module: ModuleType, agreement: Agreement, name: str,
             facts: dict[str, Any]) -> Any:
    """The ClauseRuntimeError `name` raises on `facts` (the module's; the interpreter
    raises the runtime's, with the same message)."""
    compiled = outcome(lambda: module.evaluate(name, module.Facts(**facts)))
    assert compiled == outcome(lambda: agreement.evaluate(name, facts)), (name, facts)
    assert compiled[:2] == ("error", "ClauseRuntimeError"), compiled
    with pytest.raises(module.ClauseRuntimeError) as info:
        module.evaluate(name, module.Facts(**facts))
    with pytest.raises(ClauseRuntimeError) as interpreted:
        agreement.evaluate(name, facts)
    assert str(info.value) == str(interpreted.value)  # the same position, too
    return info.value


# ---------------------------------------------------------------- months and years

MONTHS = """
agreement t "T" {
  dated 2024-01-01
  time zone America/New_York
}
fact d: date
fact n: integer default 1
fact moment: datetime optional
define plus_month = d + 1 month
define month_plus = 1 month + d
define month_after = 1 month after d
define month_before = 1 month before d
define minus_month = d - 1 month
define year_after = 1 year after d
define n_months = n months after d
define n_months_before = n months before d
define n_years = n years after d
define twelve = 12 months after d
define later_moment = 1 month after moment
define year_of_months = 1 year == 12 months
define two_years: months = 2 years
"""


@pytest.fixture(scope="module")
def months() -> tuple[ModuleType, Agreement]:
    return build(MONTHS)


@pytest.mark.parametrize(("name", "start", "n", "expected"), [
    # The end-of-month rule: a day the month does not have is its last day.
    ("plus_month", date(2024, 1, 31), 1, date(2024, 2, 29)),  # a leap year
    ("plus_month", date(2025, 1, 31), 1, date(2025, 2, 28)),
    ("month_plus", date(2025, 1, 31), 1, date(2025, 2, 28)),
    ("month_after", date(2024, 5, 31), 1, date(2024, 6, 30)),
    ("month_after", date(2024, 2, 29), 1, date(2024, 3, 29)),  # not "the month's end"
    ("year_after", date(2024, 2, 29), 1, date(2025, 2, 28)),
    ("twelve", date(2024, 2, 29), 1, date(2025, 2, 28)),  # a year is twelve months
    ("n_years", date(2024, 2, 29), 4, date(2028, 2, 29)),
    ("month_before", date(2024, 3, 31), 1, date(2024, 2, 29)),
    ("minus_month", date(2025, 3, 31), 1, date(2025, 2, 28)),
    ("minus_month", date(2024, 1, 15), 1, date(2023, 12, 15)),  # across the year
    ("n_months", date(2024, 1, 31), 13, date(2025, 2, 28)),
    ("n_months", date(2024, 1, 31), 0, date(2024, 1, 31)),
    # Negative amounts count back (and "before" a negative amount, forward).
    ("n_months", date(2024, 3, 31), -1, date(2024, 2, 29)),
    ("n_years", date(2024, 2, 29), -1, date(2023, 2, 28)),
    ("n_months_before", date(2024, 1, 31), -1, date(2024, 2, 29)),
    ("n_months_before", date(2024, 12, 31), 10, date(2024, 2, 29)),
])
def test_the_end_of_month_rule(months: tuple[ModuleType, Agreement], name: str, start: date,
                               n: int, expected: date) -> None:
    module, agreement = months
    assert both(module, agreement, name, {"d": start, "n": n}) == expected


def test_datetimes_keep_their_time_and_zone(months: tuple[ModuleType, Agreement]) -> None:
    module, agreement = months
    facts = {"d": date(2024, 1, 1), "moment": datetime(2024, 1, 31, 17, 0, tzinfo=NY)}
    later = both(module, agreement, "later_moment", facts)
    assert later == datetime(2024, 2, 29, 17, 0, tzinfo=NY)
    assert later.tzinfo is NY
    # Across the change to daylight saving time (March 10, 2024): 5 P.M. stays 5 P.M.
    facts["moment"] = datetime(2024, 2, 10, 17, 0, tzinfo=NY)
    spring = both(module, agreement, "later_moment", facts)
    assert (spring.hour, spring.utcoffset()) == (17, timedelta(hours=-4))
    assert spring.date() == date(2024, 3, 10)
    # An offset rather than a zone is kept too.
    plus_two = ZoneInfo("Etc/GMT-2")
    facts["moment"] = datetime(2025, 1, 31, 9, 30, tzinfo=plus_two)
    assert both(module, agreement, "later_moment", facts) == \
        datetime(2025, 2, 28, 9, 30, tzinfo=plus_two)


def test_a_year_is_twelve_months(months: tuple[ModuleType, Agreement]) -> None:
    module, agreement = months
    facts = {"d": date(2024, 1, 1)}
    assert both(module, agreement, "year_of_months", facts) is True
    assert both(module, agreement, "two_years", facts) == 24
    assert str(module.explain("two_years", module.Facts(**facts))).startswith(
        "two_years = 24 months")


def test_months_beyond_the_supported_dates_are_an_error(
        months: tuple[ModuleType, Agreement]) -> None:
    module, agreement = months
    error = error_of(module, agreement, "n_months", {"d": date(2024, 1, 31), "n": 10**6})
    assert error.message == \
        "2024-01-31 + 1000000 months is outside the supported dates (years 1 to 9999)"
    assert (error.file, error.line) == ("t.clause", 15)


# ------------------------------------------------------- business days, by calendar

BY_CALENDAR = 'agreement t "T" {\n  dated 2024-01-01\n}\nfact d: date\nfact n: integer\n' + \
    "".join(f"define in_{name} = n business days in {name} after d\n" for name in CALENDARS)

# Thursday July 2, 2026; Thursday March 28, 2024 (the day before Good Friday); Tuesday
# December 24, 2024; Tuesday June 18, 2024 (the day before Juneteenth); then counting back.
KNOWN = {
    (date(2026, 7, 2), 1): {"new_york_banks": date(2026, 7, 3), "us_federal": date(2026, 7, 6),
                            "nyse": date(2026, 7, 6),
                            "us_government_securities": date(2026, 7, 6),
                            "target": date(2026, 7, 3), "london_banks": date(2026, 7, 3),
                            "weekends_only": date(2026, 7, 3)},
    (date(2024, 3, 28), 1): {"new_york_banks": date(2024, 3, 29),
                             "us_federal": date(2024, 3, 29), "nyse": date(2024, 4, 1),
                             "us_government_securities": date(2024, 4, 1),
                             "target": date(2024, 4, 2), "london_banks": date(2024, 4, 2),
                             "weekends_only": date(2024, 3, 29)},
    (date(2024, 12, 24), 1): {"new_york_banks": date(2024, 12, 26),
                              "us_federal": date(2024, 12, 26), "nyse": date(2024, 12, 26),
                              "us_government_securities": date(2024, 12, 26),
                              "target": date(2024, 12, 27), "london_banks": date(2024, 12, 27),
                              "weekends_only": date(2024, 12, 25)},
    (date(2024, 6, 18), 1): {"new_york_banks": date(2024, 6, 20), "us_federal": date(2024, 6, 20),
                             "nyse": date(2024, 6, 20),
                             "us_government_securities": date(2024, 6, 20),
                             "target": date(2024, 6, 19), "london_banks": date(2024, 6, 19),
                             "weekends_only": date(2024, 6, 19)},
    # Back from Tuesday April 2, 2024, over Easter Monday and Good Friday.
    (date(2024, 4, 2), -1): {"new_york_banks": date(2024, 4, 1), "us_federal": date(2024, 4, 1),
                             "nyse": date(2024, 4, 1),
                             "us_government_securities": date(2024, 4, 1),
                             "target": date(2024, 3, 28), "london_banks": date(2024, 3, 28),
                             "weekends_only": date(2024, 4, 1)},
    (date(2024, 4, 1), -1): {"new_york_banks": date(2024, 3, 29),
                             "us_federal": date(2024, 3, 29), "nyse": date(2024, 3, 28),
                             "us_government_securities": date(2024, 3, 28),
                             "target": date(2024, 3, 28), "london_banks": date(2024, 3, 28),
                             "weekends_only": date(2024, 3, 29)},
}


@pytest.fixture(scope="module")
def by_calendar() -> tuple[ModuleType, Agreement]:
    return build(BY_CALENDAR)


@pytest.mark.parametrize("calendar", CALENDARS)
@pytest.mark.parametrize(("start", "n"), list(KNOWN))
def test_business_days_in_each_built_in_calendar(by_calendar: tuple[ModuleType, Agreement],
                                                 calendar: str, start: date, n: int) -> None:
    module, agreement = by_calendar
    expected = KNOWN[start, n][calendar]
    assert both(module, agreement, f"in_{calendar}", {"d": start, "n": n}) == expected


@pytest.mark.parametrize("calendar", CALENDARS)
def test_business_days_agree_with_the_holiday_tables(by_calendar: tuple[ModuleType, Agreement],
                                                     calendar: str) -> None:
    """Counted one day at a time against passes/calendars.py, every day of 2024 to 2026."""
    module, agreement = by_calendar
    closed = set(calendars.holiday_dates(calendar))

    def brute_force(day: date, n: int) -> date:
        step = timedelta(days=1 if n > 0 else -1)
        for _ in range(abs(n)):
            day += step
            while day.weekday() >= 5 or day in closed:
                day += step
        return day

    day = date(2024, 1, 1)
    while day < date(2027, 1, 1):
        for n in (1, 3, -2):
            facts = module.Facts(d=day, n=n)
            assert module.evaluate(f"in_{calendar}", facts) == brute_force(day, n), (day, n)
        day += timedelta(days=1)
    # The interpreter on a sample of them.
    for start in (date(2024, 3, 28), date(2025, 12, 24), date(2026, 7, 2)):
        assert both(module, agreement, f"in_{calendar}", {"d": start, "n": 2}) == \
            brute_force(start, 2)


AGREEMENT_CALENDAR = """
agreement t "T" {
  dated 2024-01-01
  calendar nyse
  holidays [2024-07-05]
}
fact d: date
define plain = 2 business days after d
define named_same = 2 business days in nyse after d
define banks = 2 business days in new_york_banks after d
define federal = 1 business day in us_federal after d
define weekdays = 1 business day in weekends_only after d
define back = d - 2 business days
"""


def test_the_agreements_calendar_and_its_own_holidays() -> None:
    module, agreement = build(AGREEMENT_CALENDAR)
    facts = {"d": date(2024, 7, 3)}
    # July 4 (the NYSE's) and July 5 (the agreement's own holiday) are closed.
    assert both(module, agreement, "plain", facts) == date(2024, 7, 9)
    assert both(module, agreement, "back", {"d": date(2024, 7, 9)}) == date(2024, 7, 3)
    # Naming the agreement's calendar is the same count, its holidays included.
    assert both(module, agreement, "named_same", facts) == date(2024, 7, 9)
    # Another calendar knows nothing of the agreement's holidays.
    assert both(module, agreement, "banks", facts) == date(2024, 7, 8)
    # us_federal and weekends_only named are the rule-based calendars: any year.
    rules = Calendar("us_federal")
    for day in (date(2024, 7, 3), date(2150, 7, 3), date(1950, 12, 22)):
        assert both(module, agreement, "federal", {"d": day}) == \
            rules.add_business_days(day, 1)
    assert both(module, agreement, "weekdays", {"d": date(2150, 12, 24)}) == date(2150, 12, 25)
    assert (module._CALENDAR.holidays, module._CALENDAR.years) == ("nyse", range(1999, 2100))
    assert module._CALENDAR.extra_holidays == (date(2024, 7, 5),)
    assert module._CALENDAR_new_york_banks.extra_holidays == ()
    assert shown(module._CALENDAR_us_federal) == shown(Calendar("us_federal"))


def test_a_rule_based_agreement_calendar_is_unchanged() -> None:
    module, agreement = build('agreement t "T" {\n  calendar us_federal\n'
                              "  holidays [2004-12-23]\n}\nfact d: date\n"
                              "define due = 2 business days after d\n"
                              "define named = 2 business days in us_federal after d\n")
    assert shown(module._CALENDAR) == \
        shown(Calendar("us_federal", extra_holidays=(date(2004, 12, 23),)))
    # From Wednesday December 22, 2004: Thursday the 23rd is the agreement's holiday,
    # Friday the 24th Christmas observed (the 25th is a Saturday); Monday, Tuesday.
    for name in ("due", "named"):
        assert both(module, agreement, name, {"d": date(2004, 12, 22)}) == date(2004, 12, 28)
    # Nothing but the calendars counted in is built: no table.
    assert not [n for n in vars(module) if n.startswith("_CALENDAR_")]


# ------------------------------------------------------- the years a table covers

OUT_OF_RANGE = """
agreement t "T" {
  dated 2024-01-01
  party lender "Lender"
  party borrower "Borrower"
  calendar target
}
fact d: date
fact n: integer default 2
fact breach_on: date optional
define settle = n business days in new_york_banks after d
define euro = n business days after d
define federal = n business days in us_federal after d
obligation cure: borrower must pay $100 to lender
    within 5 business days in london_banks after breach_on
"""


@pytest.fixture(scope="module")
def out_of_range() -> tuple[ModuleType, Agreement]:
    return build(OUT_OF_RANGE)


@pytest.mark.parametrize(("start", "n", "message"), [
    (date(2105, 1, 1), 2,
     "the new_york_banks calendar covers 1999 to 2099; 2105-01-02 is outside it"),
    # Wednesday December 30, 2099: the 31st is a business day, the next one is not known.
    (date(2099, 12, 30), 2,
     "the new_york_banks calendar covers 1999 to 2099; 2100-01-01 is outside it"),
    # Back from Monday January 4, 1999: a weekend and New Year's Day, then 1998.
    (date(1999, 1, 4), -1,
     "the new_york_banks calendar covers 1999 to 2099; 1998-12-31 is outside it"),
])
def test_counting_outside_a_tables_years_is_an_error(out_of_range: tuple[ModuleType, Agreement],
                                                      start: date, n: int, message: str) -> None:
    module, agreement = out_of_range
    error = error_of(module, agreement, "settle", {"d": start, "n": n})
    assert error.message == message
    assert str(error) == f"t.clause:11:1: {message}"
    # The explanation raises the same.
    with pytest.raises(module.ClauseRuntimeError, match="covers 1999 to 2099"):
        module.explain("settle", module.Facts(d=start, n=n))


def test_within_a_tables_years_no_error(out_of_range: tuple[ModuleType, Agreement]) -> None:
    module, agreement = out_of_range
    assert both(module, agreement, "settle", {"d": date(2099, 12, 30), "n": 1}) == \
        date(2099, 12, 31)
    assert both(module, agreement, "settle", {"d": date(1999, 1, 4), "n": 1}) == \
        date(1999, 1, 5)
    # Zero business days count no day: the date itself, whatever the year.
    assert both(module, agreement, "settle", {"d": date(2105, 1, 1), "n": 0}) == \
        date(2105, 1, 1)
    # The rule-based us_federal knows every year: Thursday January 1, 2105 is New Year's
    # Day; Friday the 2nd, then Monday the 5th.
    assert both(module, agreement, "federal", {"d": date(2105, 1, 1)}) == date(2105, 1, 5)


def test_the_agreements_table_calendar_and_obligations_have_the_same_limits(
        out_of_range: tuple[ModuleType, Agreement]) -> None:
    module, agreement = out_of_range
    error = error_of(module, agreement, "euro", {"d": date(2100, 6, 1)})
    assert error.message == "the target calendar covers 1999 to 2099; 2100-06-02 is outside it"
    error = error_of(module, agreement, "cure", {"d": date(2024, 1, 1),
                                                 "breach_on": date(2099, 12, 28)})
    assert error.message == \
        "the london_banks calendar covers 1999 to 2099; 2100-01-01 is outside it"
    obligation = both(module, agreement, "cure", {"d": date(2024, 1, 1),
                                                  "breach_on": date(2024, 3, 27)})
    assert obligation.due == date(2024, 4, 5)  # Good Friday and Easter Monday closed


def test_the_runtime_calendar_of_a_table() -> None:
    table = decode_holiday_table(calendars.embedded_table("nyse"))
    nyse = Calendar("nyse", table=table)
    assert nyse.years == range(1999, 2100)
    assert Calendar().years is None
    assert not nyse.is_business_day(date(2024, 3, 29))
    assert nyse.is_business_day(date(2024, 3, 28))
    assert nyse == Calendar("nyse", table=table) and hash(nyse) == hash(Calendar("nyse",
                                                                               table=table))
    assert repr(nyse) == ("Calendar(holidays='nyse', extra_holidays=(), weekend=(5, 6), "
                          "table=<years 1999 to 2099>)")
    with pytest.raises(ValueError, match=r"^the nyse calendar covers 1999 to 2099; "
                                         r"2100-01-04 is outside it$"):
        nyse.is_business_day(date(2100, 1, 4))
    with pytest.raises(ValueError, match="1998-12-31 is outside it"):
        nyse.add_business_days(datetime(1999, 1, 4, 9, 0, tzinfo=NY), -2)
    with pytest.raises(ValueError, match="unknown holiday calendar 'nyse'"):
        Calendar("nyse")  # a calendar that is neither rule-based nor a table
    with pytest.raises(TypeError):
        Calendar("nyse", table=(range(1999, 2100), {date(2024, 3, 29)}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside the years"):
        Calendar("x", table=(range(2024, 2025), frozenset({date(2025, 1, 1)})))


def test_every_table_calendar_decodes_to_its_holidays() -> None:
    for name in TABLE_CALENDARS:
        years, closed = decode_holiday_table(calendars.embedded_table(name))
        assert closed == frozenset(calendars.holiday_dates(name))
        assert (years.start, years.stop - 1) == (calendars.FIRST_YEAR, calendars.LAST_YEAR)


# ------------------------------------------------------------------- the fixture


@pytest.fixture(scope="module")
def fixture() -> tuple[ModuleType, Agreement]:
    return build(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)


def test_the_fixture(fixture: tuple[ModuleType, Agreement]) -> None:
    module, agreement = fixture
    facts = {"start": date(2024, 1, 31)}
    expected = {
        "maturity": date(2029, 1, 31), "first_payment": date(2024, 2, 29),
        "review": date(2028, 1, 31), "reset": date(2028, 7, 31),
        "notice_deadline": date(2028, 10, 31), "anniversary": date(2025, 1, 31),
        "total_notice": 15, "long_notice": False,
        "settlement": date(2024, 2, 2), "pricing": date(2024, 1, 30),
        "euro_payment": date(2024, 2, 1), "sterling_payment": date(2024, 2, 1),
        "federal": date(2024, 2, 1), "cure_end": date(2024, 2, 5),
    }
    for name, value in expected.items():
        assert both(module, agreement, name, facts) == value, name
    # Good Friday: the NYSE (the agreement's calendar) closes; the banks do not.
    good_friday = {"start": date(2024, 3, 28), "lag": 1, "cure": 1}
    assert both(module, agreement, "settlement", good_friday) == date(2024, 3, 29)
    assert both(module, agreement, "cure_end", good_friday) == date(2024, 4, 1)
    # The holiday the agreement adds to the NYSE's: Friday July 5, 2024.
    assert both(module, agreement, "cure_end", {"start": date(2024, 7, 3), "cure": 1}) == \
        date(2024, 7, 8)
    obligation = both(module, agreement, "repay", facts)
    assert obligation.due == date(2029, 4, 30)
    assert str(obligation) == "Borrower must pay $1,000.00 to Lender by April 30, 2029 " \
        "(Section 2)"
    cure = both(module, agreement, "cure_breach", {**facts, "breach_on": date(2024, 6, 14)})
    assert cure.due == date(2024, 6, 24)  # Juneteenth (Wednesday June 19) closed


# ------------------------------------------------------------------ months facts


def test_months_facts_are_whole_numbers(fixture: tuple[ModuleType, Agreement]) -> None:
    module, agreement = fixture
    for given, value in ((2, 2), ("2", 2), ("1,200", 1200), (0, 0), (None, 3)):
        facts = {"start": date(2024, 1, 31)} | ({} if given is None else {"notice": given})
        assert both(module, agreement, "notice", facts) == value
    for bad, detail in ((-1, "a count of months cannot be negative"),
                        ("3 months", "expected a number of months (an int, 0 or more)"),
                        (1.5, "floats are not exact"), (True, "got bool True")):
        with pytest.raises(module.FactError, match=re.escape(detail)) as compiled:
            module.Facts(start=date(2024, 1, 31), notice=bad)
        with pytest.raises(FactError) as interpreted:
            agreement.evaluate("notice", {"start": date(2024, 1, 31), "notice": bad})
        assert str(compiled.value) == str(interpreted.value)
        assert str(compiled.value).startswith("fact 'notice': ")
    assert module.FACT_TYPES["notice"] == "months"
    assert module.FACT_TYPES["lag"] == "new_york_banks business days"


def test_months_facts_from_a_facts_file(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"start": "2024-01-31", "notice": 7, "lag": "3"}),
                     encoding="utf-8")
    assert main(["eval", str(FIXTURE), "notice_deadline", "--facts", str(facts)]) == 0
    # Maturity January 31, 2029; seven months before it: June 30, 2028 (June has no 31st).
    assert capsys.readouterr().out == "notice_deadline = June 30, 2028\n"
    assert main(["eval", str(FIXTURE), "long_notice", "--facts", str(facts)]) == 0
    assert capsys.readouterr().out == "long_notice = true\n"
    assert main(["eval", str(FIXTURE), "settlement", "--facts", str(facts)]) == 0
    assert capsys.readouterr().out == "settlement = February 5, 2024\n"
    facts.write_text(json.dumps({"start": "2024-01-31", "notice": -3}), encoding="utf-8")
    assert main(["eval", str(FIXTURE), "notice_deadline", "--facts", str(facts)]) != 0
    assert "a count of months cannot be negative" in capsys.readouterr().err


def test_the_facts_schema_counts_months(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", str(FIXTURE)]) == 0
    schema = json.loads(capsys.readouterr().out)
    notice = schema["properties"]["notice"]
    assert notice["type"] == ["integer", "null"]
    assert (notice["minimum"], notice["default"]) == (0, 3)
    assert schema["properties"]["lag"]["default"] == 2


# -------------------------------------------------------------------- display


@pytest.mark.parametrize(("value", "shown"), [
    (1, "1 month"), (3, "3 months"), (0, "0 months"), (-1, "-1 month"), (24, "24 months"),
    (None, "not given"),
])
def test_months_are_shown_in_months(value: int | None, shown: str) -> None:
    assert runtime_format_value(value, "months") == shown


def test_eval_shows_months(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"start": "2024-01-31", "notice": 1}), encoding="utf-8")
    assert main(["eval", str(FIXTURE), "notice", "--facts", str(facts)]) == 0
    assert capsys.readouterr().out == "notice = 1 month\n"
    assert main(["eval", str(FIXTURE), "total_notice", "--facts", str(facts)]) == 0
    assert capsys.readouterr().out == "total_notice = 13 months\n"
    assert main(["eval", str(FIXTURE), "total_notice", "--facts", str(facts), "--format",
                 "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["value"], out["kind"]) == ("13 months", "months")
    assert main(["eval", str(FIXTURE), "notice_deadline", "--facts", str(facts),
                 "--explain"]) == 0
    tree = capsys.readouterr().out.split("\n\n")[1]
    assert tree == (
        "notice_deadline = December 31, 2028  [Section 1, time_arithmetic.clause:35]\n"
        "└── notice before maturity = December 31, 2028  [Section 1, "
        "time_arithmetic.clause:35]\n"
        "    ├── notice = 1 month  [time_arithmetic.clause:17, fact]\n"
        "    └── maturity (Maturity Date) = January 31, 2029  [Section 1, "
        "time_arithmetic.clause:31]\n"
        "        └── term_years years after start = January 31, 2029  [Section 1, "
        "time_arithmetic.clause:31]\n"
        "            ├── term_years years = 60 months  [Section 1, "
        "time_arithmetic.clause:31]\n"
        "            │   └── term_years = 5  [time_arithmetic.clause:18, fact]\n"
        "            └── start = January 31, 2024  [time_arithmetic.clause:16, fact]")


def test_scenario_tests_give_and_expect_months_and_named_business_days(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tests = tmp_path / "time_arithmetic.tests.clause"
    tests.write_text("""tests for facility

test "months and years" {
  given { start = 2024-01-31  notice = 1 year  lag = 3 business days in new_york_banks }
  expect notice = 12 months
  expect total_notice = 2 years
  expect notice_deadline = 2028-01-31
  expect settlement = 2024-02-05
  expect lag = 3 business days in new_york_banks
}

test "a failing one shows months" {
  given { start = 2024-01-31 }
  expect total_notice = 1 month
}
""", encoding="utf-8")
    (tmp_path / FIXTURE.name).write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["test", str(tests)]) == 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out
    assert "expected: 1 month" in out and "actual:   15 months" in out


# ------------------------------------------------------------------------- z3


def test_z3_proves_what_months_count_and_leaves_month_shifts_out_of_reach() -> None:
    pytest.importorskip("z3")
    from clausec.backends import smt

    text = MONTHS.replace("define year_of_months = 1 year == 12 months",
                          "invariant year_of_months = 1 year == 12 months") + \
        "fact notice: months\ninvariant more = notice + 1 year > notice\n" \
        "invariant later = 1 month after d >= d\n" \
        "invariant settles = 2 business days in nyse after d > d\n"
    result = api.analyse(SourceFile("t.clause", text))
    assert result.checked is not None
    assert smt.check_invariant(result.checked, "year_of_months") == smt.Proved()
    assert smt.check_invariant(result.checked, "more") == smt.Proved()
    later = smt.check_invariant(result.checked, "later")
    assert isinstance(later, smt.OutOfReach) and "month arithmetic" in later.reason
    settles = smt.check_invariant(result.checked, "settles")
    assert isinstance(settles, smt.OutOfReach) and "business-day" in settles.reason


# ------------------------------------------------------------- the module alone

_ALONE = """
import json, sys
sys.modules["clausec"] = None  # any use of clausec fails
sys.path.insert(0, sys.argv[1])
import facility as m
facts = m.Facts(start="2024-03-28", lag=1, cure=1)
out = {"settlement": str(m.settlement(facts)), "cure_end": str(m.cure_end(facts)),
       "euro": str(m.euro_payment(facts)), "maturity": str(m.maturity(facts))}
try:
    m.settlement(m.Facts(start="2105-01-01"))
except m.ClauseRuntimeError as error:
    out["error"] = error.message
out["modules"] = sorted(n for n in sys.modules if n.split(".")[0] == "clausec"
                        and sys.modules[n] is not None)
print(json.dumps(out))
"""


def test_the_module_counts_named_calendars_with_the_standard_library_alone(
        tmp_path: Path) -> None:
    code = api.compile_source(SourceFile(FIXTURE.name, FIXTURE.read_text(encoding="utf-8")))[0]
    assert code is not None
    (tmp_path / "facility.py").write_text(code, encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", "-c", _ALONE, str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "settlement": "2024-03-29", "cure_end": "2024-04-01", "euro": "2024-04-02",
        "maturity": "2029-03-28", "modules": [],
        "error": "the new_york_banks calendar covers 1999 to 2099; 2105-01-02 is outside it"}
    imported = {node.module if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(ast.parse(code))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names}
    assert all((name or "").split(".")[0] in sys.stdlib_module_names for name in imported)


def test_parameters_may_not_take_the_modules_private_names() -> None:
    # `_CALENDAR_nyse` (or `_CALENDAR`) as a parameter would hide the module's calendar.
    result = api.analyse(SourceFile("t.clause", "define f(_CALENDAR_nyse: date): date =\n"
                                    "  2 business days in nyse after _CALENDAR_nyse\n"))
    assert [d.message for d in result.diagnostics if d.severity == "error"] == \
        ["'_CALENDAR_nyse': names may not start with '_'"]
