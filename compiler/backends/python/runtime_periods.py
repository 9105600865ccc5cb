"""Contract time: month and year arithmetic, periods, business-day rolls, proration.

The compiler pastes this source text verbatim into generated modules after the
runtime (runtime.py, runtime_eval.py), so it uses the standard library only,
never imports clausec, and defines no top-level name that the runtime defines.
Everything here is deterministic, iterative (no recursion) and bounded: every
loop ends after at most a few hundred steps, or after as many periods as a
caller asks for within the years 1 to 9999.

The conventions, each stated again where it applies:

* Days are ``datetime.date`` values. A function that shifts its argument
  (``add_months``, ``roll``, ...) keeps a ``datetime``'s time and tzinfo;
  everything else uses the date part of a datetime only.
* End-of-month rule: adding months to the 29th-31st gives the last day of the
  target month when the day does not exist there (January 31 + 1 month is
  February 28, or 29 in a leap year; February 29 + 1 year is February 28).
  ``keep_month_end=True`` adds the ISDA end-of-month convention: a month end
  stays a month end (February 28, 2025 + 1 month is March 31, 2025).
* Periods are closed intervals: ``end`` is the last day IN the period.
* Fiscal years are named by the calendar year in which they END: the fiscal
  year beginning April 1, 2025 is FY2026 (``named_by="start"`` names it FY2025).
* Contract periods count from a commencement date: contract year 1 runs from
  the commencement date to the day before its first anniversary, and each
  period starts on an anniversary computed from the commencement date itself
  (so the end-of-month rule never drifts: commencement January 31 gives months
  starting February 28, March 31, April 30, ...).
* A calendar or fiscal family given a commencement date starts with a stub: its
  first period runs from the commencement date to the end of the calendar (or
  fiscal) period containing it ("royalty quarters").
* Out-of-range results (before year 1 or after year 9999) raise ValueError;
  arguments of the wrong type raise TypeError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, overload

# ---------------------------------------------------------------------------
# Days and months
# ---------------------------------------------------------------------------

_ONE_DAY: Final = timedelta(days=1)
_OUT_OF_RANGE: Final = "outside the supported dates (years 1 to 9999)"


def _plain_day(day: date, what: str = "day") -> date:
    """The date part of a date or datetime (a datetime never equals a date)."""
    if not isinstance(day, date):
        raise TypeError(f"{what} must be a date, not {type(day).__name__}")
    return date(day.year, day.month, day.day)


def _whole_number(n: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be a whole number (an int), not {type(n).__name__}")
    return n


def _count(n: int, what: str = "the number of periods") -> int:
    if _whole_number(n, what) < 0:
        raise ValueError(f"{what} must be 0 or more, not {n}")
    return n


def days_in_month(year: int, month: int) -> int:
    """The number of days of a month of the proleptic Gregorian calendar (28 to 31)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1 to 12, not {month}")
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _month_serial(day: date) -> int:
    """Months since January of year 0: consecutive months have consecutive serials."""
    return day.year * 12 + day.month - 1


def _first_of_serial(serial: int) -> date:
    """The first day of the month with this serial."""
    year, month0 = divmod(serial, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is {_OUT_OF_RANGE}")
    return date(year, month0 + 1, 1)


def _last_of_serial(serial: int) -> date:
    """The last day of the month with this serial."""
    first = _first_of_serial(serial)
    return first.replace(day=days_in_month(first.year, first.month))


@overload
def add_months(day: datetime, n: int, *, keep_month_end: bool = False) -> datetime: ...
@overload
def add_months(day: date, n: int, *, keep_month_end: bool = False) -> date: ...
def add_months(day: date, n: int, *, keep_month_end: bool = False) -> date:
    """The same day of the month n calendar months after ``day`` (before it if n < 0).

    End-of-month rule: when that day does not exist in the target month, the
    result is the last day of that month: January 31 + 1 month = February 28,
    2025 (February 29, 2024 in a leap year); March 31 - 1 month = February 28.
    With ``keep_month_end`` (the ISDA end-of-month convention) a ``day`` that
    is the last day of its month gives the last day of the target month:
    February 28, 2025 + 1 month = March 31, 2025 (without it: March 28).

    The rule loses information: ``add_months(add_months(d, n), -n)`` is ``d``
    unless the first step was clamped, in which case it is an earlier day of
    the same month. A datetime keeps its time and tzinfo. A result before year
    1 or after year 9999 raises ValueError.
    """
    plain = _plain_day(day)
    _whole_number(n, "the number of months")
    serial = _month_serial(plain) + n
    year = serial // 12
    if not 1 <= year <= 9999:
        sign = "+" if n >= 0 else "-"
        raise ValueError(f"{plain.isoformat()} {sign} {abs(n)} months is {_OUT_OF_RANGE}")
    month = serial % 12 + 1
    last = days_in_month(year, month)
    if keep_month_end and plain.day == days_in_month(plain.year, plain.month):
        target = last
    else:
        target = min(plain.day, last)
    return day.replace(year=year, month=month, day=target)


@overload
def add_years(day: datetime, n: int, *, keep_month_end: bool = False) -> datetime: ...
@overload
def add_years(day: date, n: int, *, keep_month_end: bool = False) -> date: ...
def add_years(day: date, n: int, *, keep_month_end: bool = False) -> date:
    """``day`` n years later (earlier if n < 0): ``add_months(day, 12 * n)``.

    An anniversary of February 29 in a common year is February 28 (February 29,
    2024 + 1 year = February 28, 2025). With ``keep_month_end``, February 28 of
    a common year goes to February 29 in a leap year. A datetime keeps its time
    and tzinfo.
    """
    return add_months(day, 12 * _whole_number(n, "the number of years"),
                      keep_month_end=keep_month_end)


@overload
def month_start(day: datetime) -> datetime: ...
@overload
def month_start(day: date) -> date: ...
def month_start(day: date) -> date:
    """The first day of the month of ``day`` (a datetime keeps its time and tzinfo)."""
    _plain_day(day)
    return day.replace(day=1)


@overload
def month_end(day: datetime) -> datetime: ...
@overload
def month_end(day: date) -> date: ...
def month_end(day: date) -> date:
    """The last day of the month of ``day`` (a datetime keeps its time and tzinfo)."""
    _plain_day(day)
    return day.replace(day=days_in_month(day.year, day.month))


def is_month_end(day: date) -> bool:
    """Whether ``day`` is the last day of its month."""
    plain = _plain_day(day)
    return plain.day == days_in_month(plain.year, plain.month)


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------

# Unit -> (months per period, singular, plural, letter used in labels).
_PERIOD_UNITS: Final = {
    "month": (1, "month", "months", "M"),
    "quarter": (3, "quarter", "quarters", "Q"),
    "half_year": (6, "half-year", "half-years", "H"),
    "year": (12, "year", "years", ""),
}
_PERIOD_BASES: Final = ("calendar", "fiscal", "contract")
_FISCAL_NAMING: Final = ("end", "start")
_PERIOD_MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _choices(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass(frozen=True)
class Frequency:
    """A family of consecutive periods that tiles time with no gaps or overlaps.

    Build one with a constructor:

    * ``Frequency.calendar("quarter")``: calendar months, quarters, half-years
      or years ("2025-Q3").
    * ``Frequency.fiscal("quarter", first_month=4)``: fiscal quarters,
      half-years or years of a fiscal year beginning on the first day of
      ``first_month`` ("FY2026 Q1"); fiscal years are named by the calendar
      year in which they end unless ``named_by="start"``.
    * ``Frequency.contract("year", commencement=d)``: contract months,
      quarters, half-years or years counted from ``d`` ("contract year 2").
    * ``Frequency.calendar("quarter", commencement=d)`` (or ``fiscal``): a stub
      period from ``d`` to the end of the period containing ``d``, then whole
      periods ("royalty quarters").

    Each period has an ``index``: consecutive periods have consecutive
    indexes. In a family with a commencement date the first period has index
    1 and no period starts before the commencement date; otherwise the index
    is a serial number (the calendar year for calendar years, and so on).
    """

    unit: str
    basis: str = "calendar"
    first_month: int = 1
    commencement: date | None = None
    named_by: str = "end"

    def __post_init__(self) -> None:
        if self.unit not in _PERIOD_UNITS:
            raise ValueError(f"unknown period unit {self.unit!r}; "
                             f"expected one of {_choices(_PERIOD_UNITS)}")
        if self.basis not in _PERIOD_BASES:
            raise ValueError(f"unknown period basis {self.basis!r}; "
                             f"expected one of {_choices(_PERIOD_BASES)}")
        _whole_number(self.first_month, "the first month of the fiscal year")
        if self.commencement is not None:
            object.__setattr__(self, "commencement",
                               _plain_day(self.commencement, "the commencement date"))
        if self.basis == "fiscal":
            if not 1 <= self.first_month <= 12:
                raise ValueError("the first month of the fiscal year must be 1 to 12, "
                                 f"not {self.first_month}")
            if self.unit == "month":
                raise ValueError("fiscal months are calendar months: "
                                 "use Frequency.calendar('month')")
            if self.named_by not in _FISCAL_NAMING:
                raise ValueError(f"fiscal years are named by the calendar year of their "
                                 f"'end' or 'start', not {self.named_by!r}")
            if self.first_month == 1:
                object.__setattr__(self, "named_by", "end")  # the same year either way
        elif self.first_month != 1 or self.named_by != "end":
            raise ValueError("first_month and named_by apply to fiscal periods only")
        if self.basis == "contract" and self.commencement is None:
            raise ValueError("contract periods need a commencement date")

    # -- constructors -------------------------------------------------------

    @classmethod
    def calendar(cls, unit: str, *, commencement: date | None = None) -> Frequency:
        """Calendar months, quarters, half-years or years.

        With a ``commencement`` date, the first period is a stub from that date
        to the end of the calendar period containing it.
        """
        return cls(unit, "calendar", commencement=commencement)

    @classmethod
    def fiscal(cls, unit: str, *, first_month: int, commencement: date | None = None,
               named_by: str = "end") -> Frequency:
        """Fiscal quarters, half-years or years of a fiscal year beginning in ``first_month``.

        ``first_month=4``: the fiscal year beginning April 1, 2025 is FY2026
        (named by the calendar year in which it ends; ``named_by="start"``
        names it FY2025) and its first quarter is April 1 to June 30, 2025.
        With a ``commencement`` date, the first period is a stub from that date
        to the end of the fiscal period containing it.
        """
        return cls(unit, "fiscal", first_month, commencement, named_by)

    @classmethod
    def contract(cls, unit: str, *, commencement: date) -> Frequency:
        """Contract months, quarters, half-years or years from ``commencement``.

        Contract year 1 runs from the commencement date to the day before its
        first anniversary; period n starts ``(n - 1) * months`` months after
        the commencement date by ``add_months`` (so a commencement on January
        31 gives contract months starting February 28, March 31, April 30...).
        """
        return cls(unit, "contract", commencement=commencement)

    # -- description ----------------------------------------------------------

    @property
    def months(self) -> int:
        """The number of calendar months in a whole period (1, 3, 6 or 12)."""
        return _PERIOD_UNITS[self.unit][0]

    @property
    def description(self) -> str:
        """``"calendar quarters"``, ``"contract years from 2025-02-10"``, ..."""
        plural = _PERIOD_UNITS[self.unit][2]
        if self.basis == "contract":
            assert self.commencement is not None
            return f"contract {plural} from {self.commencement.isoformat()}"
        if self.basis == "fiscal":
            month = _PERIOD_MONTH_NAMES[self.first_month - 1]
            text = f"fiscal {plural} (fiscal years beginning {month} 1"
            if self.first_month != 1:
                text += f", named by the year in which they {self.named_by}"
            text += ")"
        else:
            text = f"calendar {plural}"
        if self.commencement is not None:
            text += f" from {self.commencement.isoformat()}"
        return text

    def __str__(self) -> str:
        return self.description

    # -- periods ------------------------------------------------------------

    def _offset(self) -> int:
        """The serial (mod months) of the months in which whole periods start."""
        return (self.first_month - 1) % self.months

    def _natural_index(self, day: date) -> int:
        """The serial of the calendar/fiscal period containing ``day``."""
        return (_month_serial(day) - self._offset()) // self.months

    def _bounds(self, index: int) -> tuple[date, date]:
        """The first and last day of the period with this index."""
        months = self.months
        c = self.commencement
        if c is not None and index < 1:
            raise ValueError(f"the {self.description} start with period 1, "
                             f"not {index}")
        try:
            if self.basis == "contract":
                assert c is not None
                start = add_months(c, (index - 1) * months)
                return start, add_months(c, index * months) - _ONE_DAY
            natural = index if c is None else self._natural_index(c) + index - 1
            serial = self._offset() + natural * months
            start = c if c is not None and index == 1 else _first_of_serial(serial)
            return start, _last_of_serial(serial + months - 1)
        except (ValueError, OverflowError):
            raise ValueError(f"period {index} of the {self.description} is "
                             f"{_OUT_OF_RANGE}") from None

    def period(self, index: int) -> Period:
        """The period with this index (1 is the first of a family with a commencement)."""
        _whole_number(index, "a period index")
        start, end = self._bounds(index)
        return Period(self, index, start, end)

    def first(self) -> Period:
        """The first period of a family with a commencement date."""
        if self.commencement is None:
            raise ValueError(f"the {self.description} have no first period: "
                             "they have no commencement date")
        return self.period(1)

    def containing(self, day: date) -> Period:
        """The period containing ``day``; ValueError if ``day`` is before the commencement."""
        plain = _plain_day(day)
        c = self.commencement
        if c is not None and plain < c:
            raise ValueError(f"{plain.isoformat()} is before the first period of the "
                             f"{self.description}")
        if self.basis == "contract":
            assert c is not None
            index = (_month_serial(plain) - _month_serial(c)) // self.months + 1
            # The estimate is one too high when `plain` falls in the month of a
            # period start but before the start's day of the month.
            if plain < self._bounds(index)[0]:
                index -= 1
        elif c is None:
            index = self._natural_index(plain)
        else:
            index = self._natural_index(plain) - self._natural_index(c) + 1
        return self.period(index)

    def between(self, start: date, end: date) -> tuple[Period, ...]:
        """Every period that overlaps the days from ``start`` to ``end`` (both included).

        "Each calendar quarter from the Effective Date until termination": the
        first period is the one containing ``start`` (a whole period, which may
        begin before ``start``; a family with a commencement date begins with
        its stub instead) and the last the one containing ``end``. Days before
        the commencement date are ignored; an empty tuple if ``end < start``
        or ``end`` is before the commencement date. Use ``overlap_days`` to
        prorate the partial periods at either end.
        """
        first_day, last_day = _plain_day(start, "start"), _plain_day(end, "end")
        c = self.commencement
        if c is not None:
            if last_day < c:
                return ()
            first_day = max(first_day, c)
        if last_day < first_day:
            return ()
        first = self.containing(first_day).index
        last = self.containing(last_day).index
        return tuple(self.period(i) for i in range(first, last + 1))

    def ending(self, n: int, day: date) -> tuple[Period, ...]:
        """The n consecutive periods whose last one ends on ``day``, oldest first.

        "The four consecutive fiscal quarters ending on D" (a Test Period).
        ``day`` must be the last day of a period: otherwise ValueError, naming
        the period that contains it (``last_ended`` takes any day). ValueError
        too if fewer than n periods end by ``day`` (after a commencement date).
        """
        _count(n)
        plain = _plain_day(day)
        current = self.containing(plain)
        if current.end != plain:
            raise ValueError(f"{plain.isoformat()} is not the last day of one of the "
                             f"{self.description}: {current.label} ends on "
                             f"{current.end.isoformat()}")
        return self._run(current.index, n, plain)

    def last_ended(self, n: int, day: date) -> tuple[Period, ...]:
        """The n most recent periods that end on or before ``day``, oldest first.

        "The four most recently ended fiscal quarters": when ``day`` is the last
        day of a period, that period is the last one (as with ``ending``);
        otherwise the period containing ``day`` is excluded. ValueError if fewer
        than n periods have ended by ``day``.
        """
        _count(n)
        plain = _plain_day(day)
        c = self.commencement
        if c is not None and plain < c:
            last = 0
        else:
            current = self.containing(plain)
            last = current.index if current.end == plain else current.index - 1
        return self._run(last, n, plain)

    def _run(self, last: int, n: int, day: date) -> tuple[Period, ...]:
        """The n periods with indexes ending at ``last``."""
        first = last - n + 1
        if self.commencement is not None and first < 1:
            ended = max(last, 0)
            raise ValueError(f"only {ended} of the {self.description} end by "
                             f"{day.isoformat()}, not {n}")
        return tuple(self.period(i) for i in range(first, last + 1))

    # -- labels -------------------------------------------------------------

    def _name(self, index: int, start: date) -> tuple[int, int | None, str]:
        """(number, year, label) of a period: (3, 2025, "2025-Q3")."""
        months, singular, _, letter = _PERIOD_UNITS[self.unit]
        if self.basis == "contract":
            return index, None, f"contract {singular} {index}"
        serial = _month_serial(start)
        if self.basis == "calendar":
            year = start.year
            number = (start.month - 1) // months + 1 if months < 12 else year
            if months == 1:
                label = f"{year:04d}-{start.month:02d}"
            elif months == 12:
                label = f"{year:04d}"
            else:
                label = f"{year:04d}-{letter}{number}"
        else:
            fiscal_start = (serial - (self.first_month - 1)) // 12 * 12 + self.first_month - 1
            year = (fiscal_start + (11 if self.named_by == "end" else 0)) // 12
            number = (serial - fiscal_start) // months + 1 if months < 12 else year
            label = f"FY{year:04d}" + (f" {letter}{number}" if months < 12 else "")
        if self._is_stub(start):
            label += f" (from {start.isoformat()})"
        return number, year, label

    def _is_stub(self, start: date) -> bool:
        """Whether a calendar/fiscal period starting on ``start`` is a shortened first one."""
        if self.basis == "contract" or start.day != 1:
            return self.basis != "contract"
        return (_month_serial(start) - self._offset()) % self.months != 0


@dataclass(frozen=True, repr=False)
class Period:
    """One period of a ``Frequency``: the days from ``start`` to ``end``, both included.

    Get periods from their family (``frequency.period(i)``, ``containing``,
    ``between``, ``ending``, ``last_ended``); the constructor checks that
    ``start`` and ``end`` are those of period ``index``. Periods are immutable
    and hashable; they are ordered by start, then end.
    """

    frequency: Frequency
    index: int
    start: date
    end: date

    def __post_init__(self) -> None:
        if not isinstance(self.frequency, Frequency):
            raise TypeError("a period's frequency must be a Frequency")
        _whole_number(self.index, "a period index")
        if (self.start, self.end) != self.frequency._bounds(self.index):
            raise ValueError(f"{self.start}..{self.end} is not period {self.index} of the "
                             f"{self.frequency.description}")

    @property
    def number(self) -> int:
        """The number in the label: 3 for "2025-Q3", 2026 for "FY2026", 2 for "contract year 2"."""
        return self.frequency._name(self.index, self.start)[0]

    @property
    def year(self) -> int | None:
        """The calendar year (or the fiscal year's name) of the period; None for contract periods."""
        return self.frequency._name(self.index, self.start)[1]

    @property
    def label(self) -> str:
        """"2025-03", "2025-Q3", "2025-H1", "2025", "FY2026 Q1", "FY2026", "contract year 2".

        A stub period adds its first day: "2025-Q1 (from 2025-02-10)".
        """
        return self.frequency._name(self.index, self.start)[2]

    @property
    def is_stub(self) -> bool:
        """Whether this is a first period shortened by a commencement date."""
        return self.frequency._is_stub(self.start)

    @property
    def days(self) -> int:
        """The number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        """Whether ``day`` is one of the period's days."""
        return self.start <= _plain_day(day) <= self.end

    def next(self) -> Period:
        """The period that starts the day after this one ends."""
        return self.frequency.period(self.index + 1)

    def previous(self) -> Period:
        """The period that ends the day before this one starts; ValueError for a first period."""
        if self.frequency.commencement is not None and self.index == 1:
            raise ValueError(f"{self.label} is the first of the {self.frequency.description}")
        return self.frequency.period(self.index - 1)

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"<Period {self.label}: {self.start.isoformat()} to {self.end.isoformat()}>"

    def _key(self) -> tuple[date, date]:
        return (self.start, self.end)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() >= other._key()


def overlap_days(period: Period, start: date, end: date) -> int:
    """How many days from ``start`` to ``end`` (both included) fall in ``period``.

    0 when they do not overlap or ``end < start``. Proration by days of a
    partial period is ``overlap_days(p, start, end) / p.days``.
    """
    first = max(period.start, _plain_day(start, "start"))
    last = min(period.end, _plain_day(end, "end"))
    return max((last - first).days + 1, 0)


# ---------------------------------------------------------------------------
# Business-day adjustment
# ---------------------------------------------------------------------------

ROLL_RULES: Final = ("none", "following", "modified following", "preceding",
                     "modified preceding")
# No real calendar closes for a whole year; a predicate that does is a mistake.
_MAX_CLOSED_DAYS: Final = 366


def _roll_rule(rule: str) -> str:
    if not isinstance(rule, str):
        raise TypeError(f"a roll rule must be a str, not {type(rule).__name__}")
    normal = " ".join(rule.lower().replace("_", " ").replace("-", " ").split())
    if normal not in ROLL_RULES:
        raise ValueError(f"unknown business-day rule {rule!r}; "
                         f"expected one of {_choices(ROLL_RULES)}")
    return normal


def _search(day: date, step: int, is_business_day: Callable[[date], bool]) -> date:
    """The nearest business day strictly after (step 1) or before (step -1) ``day``."""
    delta = timedelta(days=step)
    candidate = day
    for _ in range(_MAX_CLOSED_DAYS):
        try:
            candidate += delta
        except OverflowError:
            break
        if is_business_day(candidate):
            return candidate
    direction = "after" if step > 0 else "before"
    raise ValueError(f"no business day within {_MAX_CLOSED_DAYS} days {direction} "
                     f"{day.isoformat()}")


@overload
def roll(day: datetime, is_business_day: Callable[[date], bool], rule: str) -> datetime: ...
@overload
def roll(day: date, is_business_day: Callable[[date], bool], rule: str) -> date: ...
def roll(day: date, is_business_day: Callable[[date], bool], rule: str) -> date:
    """``day`` if it is a business day, else the business day the rule names.

    * "following": the next business day.
    * "modified following": the next business day, unless it is in the next
      calendar month; then the previous business day.
    * "preceding": the previous business day.
    * "modified preceding": the previous business day, unless it is in the
      previous calendar month; then the next business day.
    * "none": ``day`` itself ("deadlines on weekends stay there").

    ``is_business_day`` is called with plain dates; underscores or hyphens may
    replace the spaces in the rule. A datetime keeps its time and tzinfo.
    ValueError if no business day lies within 366 days in a needed direction.
    """
    normal = _roll_rule(rule)
    plain = _plain_day(day)
    if normal == "none" or is_business_day(plain):
        return day
    forward = normal in ("following", "modified following")
    rolled = _search(plain, 1 if forward else -1, is_business_day)
    if normal.startswith("modified") and (rolled.year, rolled.month) != (plain.year, plain.month):
        rolled = _search(plain, -1 if forward else 1, is_business_day)
    return day.replace(year=rolled.year, month=rolled.month, day=rolled.day)


def _span(within: Period | date) -> tuple[date, date, str]:
    if isinstance(within, Period):
        return within.start, within.end, within.label
    plain = _plain_day(within, "a period or a day")
    return month_start(plain), month_end(plain), f"{plain.year:04d}-{plain.month:02d}"


def last_business_day(within: Period | date, is_business_day: Callable[[date], bool]) -> date:
    """The last business day of a period, or of the calendar month of a day.

    "The last Business Day of each March, June, September and December":
    ``last_business_day(quarter, calendar.is_business_day)``. ValueError if the
    period has no business day.
    """
    first, day, label = _span(within)
    while day >= first:
        if is_business_day(day):
            return day
        day -= _ONE_DAY
    raise ValueError(f"{label} has no business day")


def first_business_day(within: Period | date, is_business_day: Callable[[date], bool]) -> date:
    """The first business day of a period, or of the calendar month of a day.

    ValueError if the period has no business day.
    """
    day, last, label = _span(within)
    while day <= last:
        if is_business_day(day):
            return day
        day += _ONE_DAY
    raise ValueError(f"{label} has no business day")


# ---------------------------------------------------------------------------
# Embedded holiday tables
# ---------------------------------------------------------------------------


def _holiday_table(text: str) -> tuple[range, frozenset[date]]:
    """Parse "YYYY:MMDD,MMDD;YYYY:;..." (see ``decode_holidays``)."""
    if not isinstance(text, str):
        raise TypeError(f"a holiday table must be a str, not {type(text).__name__}")
    days: list[date] = []
    years: list[int] = []
    for chunk in text.split(";"):
        year_text, colon, dates_text = chunk.partition(":")
        if not colon or len(year_text) != 4 or not year_text.isdigit():
            raise ValueError(f"malformed holiday table entry {chunk[:20]!r}: expected YYYY:MMDD,...")
        year = int(year_text)
        if years and year != years[-1] + 1:
            raise ValueError(f"holiday table years must be consecutive: {year} after {years[-1]}")
        years.append(year)
        previous: date | None = None
        for item in dates_text.split(",") if dates_text else ():
            if len(item) != 4 or not item.isdigit():
                raise ValueError(f"malformed holiday {item!r} in {year}: expected MMDD")
            try:
                day = date(year, int(item[:2]), int(item[2:]))
            except ValueError:
                raise ValueError(f"no such day {year}-{item[:2]}-{item[2:]} "
                                 "in the holiday table") from None
            if previous is not None and day <= previous:
                raise ValueError(f"holidays of {year} must be in increasing order")
            previous = day
            days.append(day)
    if years[0] < 1:
        raise ValueError("holiday table years start at 0001")
    return range(years[0], years[-1] + 1), frozenset(days)


def decode_holidays(text: str) -> frozenset[date]:
    """The holidays of an embedded holiday table.

    The table lists every year it covers, in order, with the month and day of
    each holiday: ``"2024:0101,0115,0219;2025:0101;2026:"`` (an empty year
    has no holidays). ValueError if ``text`` is not such a table.
    """
    return _holiday_table(text)[1]


def decode_holiday_table(text: str) -> tuple[range, frozenset[date]]:
    """The years an embedded holiday table covers and its holidays, from one reading:
    what ``Calendar(name, table=...)`` (runtime.py) takes. A generated module decodes
    each calendar it embeds once, when it is imported.
    """
    return _holiday_table(text)


def decode_holiday_years(text: str) -> range:
    """The years an embedded holiday table covers (``range(2024, 2027)`` above).

    Outside these years the table does not know the holidays.
    """
    return _holiday_table(text)[0]
