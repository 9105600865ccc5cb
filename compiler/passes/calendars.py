"""Built-in holiday calendars, computed at compile time.

A generated module must run on the standard library alone, so it cannot ask the
``holidays`` package which days are holidays. The compiler asks instead, here,
and embeds the answer as data: ``embedded_table(name)`` is a compact text that
``decode_holidays`` (in the runtime, runtime_periods.py) turns back into dates.

Every calendar covers the same years, ``FIRST_YEAR`` to ``LAST_YEAR`` (1999, the
first year of the Federal Reserve and TARGET calendars in ``holidays``, to 2099);
a generated module knows no holidays outside them. Years after the current one
are projections of the rules: one-off closures (a national day of mourning, a
storm) are known only once they have happened and ``holidays`` has recorded them.

Only closures on working weekdays are listed: a holiday on a Saturday or Sunday
changes nothing that the weekend has not already closed (its observed day, when
there is one, is listed). The output depends only on the calendar name and the
installed version of ``holidays`` (written with holidays 0.109): the same
version gives the same tables on every run.

Unknown names never raise KeyError: ``calendar_info`` returns None, ``closest``
suggests a known name, and the functions that need a calendar raise ValueError
with that suggestion.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from datetime import date
from typing import Final

import attrs

FIRST_YEAR: Final = 1999
LAST_YEAR: Final = 2099
_WEEKEND: Final = (5, 6)  # Saturday and Sunday, as date.weekday() numbers


@attrs.frozen
class CalendarInfo:
    """What a built-in calendar is and where its dates come from."""

    name: str
    description: str  # one sentence, for summaries and documentation
    source: str  # the ``holidays`` call that computes it
    weekend: tuple[int, ...]  # date.weekday() numbers of the weekly closing days
    first_year: int
    last_year: int
    notes: str = ""  # what the calendar leaves out or how it was derived


@attrs.frozen
class _Source:
    kind: str  # "financial", "country" or "none"
    code: str = ""
    subdiv: str | None = None


def _info(name: str, description: str, source: str, notes: str = "") -> CalendarInfo:
    return CalendarInfo(name, description, source, _WEEKEND, FIRST_YEAR, LAST_YEAR, notes)


_CALENDARS: Final[dict[str, tuple[CalendarInfo, _Source]]] = {
    "us_federal": (
        _info("us_federal",
              "U.S. federal legal public holidays (5 U.S.C. 6103) as observed: a holiday on "
              "a Saturday is observed on the Friday before, one on a Sunday on the Monday "
              "after.",
              "holidays.country_holidays('US') (public holidays, no state)",
              "One-off closures of federal offices by executive order (e.g. December 24, "
              "2024) and Inauguration Day (Washington, D.C. only) are not included. The "
              "same days as the runtime's rule-based us_federal_holidays."),
        _Source("country", "US"),
    ),
    "new_york_banks": (
        _info("new_york_banks",
              "Days on which commercial banks in New York are closed: the holidays of the "
              "Federal Reserve System, where a holiday on a Sunday closes the Monday after "
              "and a holiday on a Saturday is not moved (the banks open the Friday before).",
              "holidays.financial_holidays('XFED') (Federal Reserve; aliases FED, USNY)"),
        _Source("financial", "XFED"),
    ),
    "us_government_securities": (
        _info("us_government_securities",
              "Days on which SIFMA recommends a full-day close of the U.S. government "
              "securities market (the 'U.S. Government Securities Business Day' of SOFR "
              "loans): the federal holidays and Good Friday; early closes are business "
              "days.",
              "holidays.financial_holidays('XSIF') (SIFMA; alias USGS), full closes only",
              "Good Friday is an early close, so a business day, in the years SIFMA "
              "recommended one (when the employment report fell on it: 2021, 2023 and "
              "2026 among recent years); later years assume a full close until SIFMA "
              "publishes its recommendation. A Saturday New Year's Day or Veterans Day "
              "is not moved to the Friday."),
        _Source("financial", "XSIF"),
    ),
    "nyse": (
        _info("nyse",
              "New York Stock Exchange trading holidays, with the unscheduled closures "
              "(September 11-14, 2001, Hurricane Sandy in 2012, national days of mourning).",
              "holidays.financial_holidays('XNYS') (alias NYSE)"),
        _Source("financial", "XNYS"),
    ),
    "target": (
        _info("target",
              "TARGET (T2) closing days of the Eurosystem for euro payments: New Year's Day, "
              "Good Friday, Easter Monday, May 1, December 25 and 26, and the additional "
              "closing days December 31, 1999 and 2001.",
              "holidays.financial_holidays('XECB') (European Central Bank; aliases ECB, TAR)"),
        _Source("financial", "XECB"),
    ),
    "london_banks": (
        _info("london_banks",
              "Bank holidays in England and Wales, with substitute days and the special bank "
              "holidays (jubilees, royal weddings, the State Funeral of September 19, 2022, "
              "the Coronation of May 8, 2023).",
              "holidays.country_holidays('GB', subdiv='ENG')"),
        _Source("country", "GB", "ENG"),
    ),
    "weekends_only": (
        _info("weekends_only",
              "No holidays: every Monday to Friday is a business day.",
              "none"),
        _Source("none"),
    ),
}


# The built-in calendars the runtime knows by rule (runtime.py, ``Calendar``), by the name
# of the runtime's holiday set: their days are the same as their tables' in every year
# the tables cover, and the rules need no table and know every year. Every other
# calendar reaches a generated module as its ``embedded_table``.
RULE_BASED: Final = {"us_federal": "us_federal", "weekends_only": "none"}


def names() -> tuple[str, ...]:
    """The names of the built-in calendars, in alphabetical order."""
    return tuple(sorted(_CALENDARS))


def _normal(name: str) -> str:
    """``"New York Banks"`` and ``"new-york-banks"`` -> ``"new_york_banks"``."""
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def calendar_info(name: str) -> CalendarInfo | None:
    """The built-in calendar called ``name`` (exactly), or None if there is none."""
    entry = _CALENDARS.get(name) if isinstance(name, str) else None
    return entry[0] if entry else None


def closest(name: str) -> str | None:
    """The built-in calendar name nearest to a misspelt ``name``, or None if none is close.

    Case, spaces and hyphens are ignored: ``closest("New York banks")`` is
    ``"new_york_banks"``.
    """
    if not isinstance(name, str):
        return None
    normal = _normal(name)
    if normal in _CALENDARS:
        return normal
    matches = difflib.get_close_matches(normal, names(), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _lookup(name: str) -> tuple[CalendarInfo, _Source]:
    entry = _CALENDARS.get(name) if isinstance(name, str) else None
    if entry is None:
        hint = closest(name)
        suggestion = f"; did you mean '{hint}'?" if hint else ""
        raise ValueError(f"unknown holiday calendar {name!r}{suggestion} "
                         f"(the built-in calendars are {', '.join(names())})")
    return entry


@functools.cache
def holiday_dates(name: str) -> tuple[date, ...]:
    """The weekday closures of calendar ``name`` from FIRST_YEAR to LAST_YEAR, sorted.

    ValueError for an unknown name (with a suggestion).
    """
    info, source = _lookup(name)
    if source.kind == "none":
        return ()
    import holidays  # a compile-time dependency only: generated modules embed the dates

    years = range(info.first_year, info.last_year + 1)
    if source.kind == "financial":
        if source.code not in holidays.list_supported_financial():
            raise RuntimeError(f"the installed holidays package has no {source.code!r} "
                               f"market for the {name!r} calendar; upgrade holidays")
        table = holidays.financial_holidays(source.code, years=years)
    else:
        table = holidays.country_holidays(source.code, subdiv=source.subdiv, years=years)
    return tuple(sorted({
        day for day in table
        if info.first_year <= day.year <= info.last_year and day.weekday() not in info.weekend
    }))


def encode_holidays(days: Iterable[date], first_year: int, last_year: int) -> str:
    """A compact text for ``days``: every year from first to last with its holidays' MMDD.

    ``"2024:0101,0115;2025:0101;2026:"``: years in order separated by ";", each
    with its dates in order separated by ","; a year with no holidays is still
    listed, so the text says which years it covers. Deterministic (sorted,
    duplicates dropped). ``decode_holidays`` in runtime_periods.py reads it
    back; ValueError if a day is outside the years or the years are not 1 to
    9999 in order.
    """
    if not 1 <= first_year <= last_year <= 9999:
        raise ValueError(f"the years of a holiday table must run forward within 1 to 9999, "
                         f"not {first_year} to {last_year}")
    by_year: dict[int, list[str]] = {year: [] for year in range(first_year, last_year + 1)}
    for day in sorted(set(days)):
        if day.year not in by_year:
            raise ValueError(f"holiday {day.isoformat()} is outside the years "
                             f"{first_year} to {last_year}")
        by_year[day.year].append(f"{day.month:02d}{day.day:02d}")
    return ";".join(f"{year:04d}:{','.join(items)}" for year, items in by_year.items())


def combined_table(bases: Iterable[str], extra: Iterable[date] = ()) -> str:
    """The table of a calendar closed whenever one of the built-in calendars `bases` is,
    and on the weekdays `extra` (see ``encode_holidays``): every year FIRST_YEAR to
    LAST_YEAR, as the built-in tables. ValueError for an unknown name or a date outside."""
    days: set[date] = set()
    for name in bases:
        days.update(holiday_dates(name))
    days.update(d for d in extra if d.weekday() not in _WEEKEND)
    return encode_holidays(days, FIRST_YEAR, LAST_YEAR)


@functools.cache
def embedded_table(name: str) -> str:
    """The text a generated module embeds for calendar ``name`` (see ``encode_holidays``).

    ValueError for an unknown name (with a suggestion).
    """
    info, _ = _lookup(name)
    return encode_holidays(holiday_dates(name), info.first_year, info.last_year)
