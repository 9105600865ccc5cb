"""What generated modules need for contracts that run over time (part four of the prelude).

Pasted into every generated module after runtime.py, runtime_eval.py and
runtime_periods.py (the imports from them below are dropped then). It gives the Clause
language's periods their run-time meaning:

* period arguments, which callers may give as a ``Period``, a date inside one, or its
  label ("2009-Q1");
* series facts (one value per period), read from a mapping of period names to values;
* ranges of periods ("for each royalty quarter q from A until B");
* definitions that use their own value for the previous period, evaluated without deep
  recursion;
* the performance of obligations ("is late on"), and the agenda.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Generic, TypeVar, cast

from .runtime import (  # prelude: skip
    ClauseError,
    FactError,
    MissingFactError,
    Obligation,
    Power,
    _section_label,
    format_value,
)
from .runtime_eval import NoValueError, _At, _effective, _error, _version_at  # prelude: skip
from .runtime_periods import _ONE_DAY, Frequency, Period  # prelude: skip

# A range, a series or a balance carried forward spans at most this many periods: ten
# thousand calendar months are more than eight centuries.
MAX_PERIODS: Final = 10_000
# How far a definition of the previous period recurses before its earlier values are
# computed first (see _recursive).
_STEP: Final = 32
# (_WARMING, definition) in the memo while a definition is computed: the floor of its
# steps back (an object no other key of the memo holds).
_WARMING: Final = object()


# ---------------------------------------------------------------------------
# Periods as arguments
# ---------------------------------------------------------------------------


def _period_of(frequency: Frequency, value: object, what: str) -> Period:
    """A period of `frequency`: `value` itself, the period containing a date, or the one
    whose label is `value` ("2009-Q1", "FY2000", "contract year 2")."""
    if isinstance(value, Period):
        if value.frequency == frequency:
            return value
        raise ValueError(f"{what}: {value.label} is not one of the {frequency.description}")
    if isinstance(value, date):
        return frequency.containing(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None:
            return frequency.containing(day)
        found = _labelled(frequency, text)
        if found is not None:
            return found
        if frequency.commencement is not None and frequency.basis != "contract":
            whole = Frequency(frequency.unit, frequency.basis, frequency.first_month,
                              None, frequency.named_by)
            if _labelled(whole, text) is not None:
                raise ValueError(f"{what}: {value!r} is before the first of the "
                                 f"{frequency.description}")
        raise ValueError(f"{what}: {value!r} is neither a date (2009-03-31) nor the label "
                         f"of one of the {frequency.description} (such as "
                         f"{_example_label(frequency)!r})")
    raise TypeError(f"{what} must be a period, a date or a period's label, not "
                    f"{type(value).__name__}")


def _period_arg(frequency: Frequency, value: object, what: str, at: _At) -> Period:
    """A period argument of a generated function, as `_period_of` reads it; a value that
    names no period of the family is an error located at the function's clause."""
    try:
        return _period_of(frequency, value, what)
    except (TypeError, ValueError) as error:
        raise _error(error, at) from None


def _example_label(frequency: Frequency) -> str:
    if frequency.commencement is not None:
        return frequency.period(2).label
    return frequency.containing(date(2025, 1, 1)).label


def _labelled(frequency: Frequency, label: str) -> Period | None:
    """The period with this label (a stub's label may leave out its "(from ...)")."""
    wanted = " ".join(label.split()).lower()
    # Labels name a year: look near it (a contract period's label names its number).
    digits = "".join(c if c.isdigit() else " " for c in wanted).split()
    if frequency.basis == "contract":
        if len(digits) != 1 or len(digits[0]) > 5:
            return None
        index = int(digits[0])
        if not 1 <= index <= MAX_PERIODS:
            return None
        period = frequency.period(index)
        return period if period.label.lower() == wanted else None
    years = [int(d) for d in digits if len(d) == 4]
    if not years or not 1 < years[0] < 9999:
        return None
    return _labels_near(frequency, years[0]).get(wanted)


@functools.lru_cache(maxsize=256)
def _labels_near(frequency: Frequency, year: int) -> dict[str, Period]:
    """The periods from the year before `year` to the year after, by their labels in lower
    case (a stub's also without its "(from ...)"): a series names its periods by label,
    often hundreds of them in a few years."""
    try:
        periods = frequency.between(date(year - 1, 1, 1), date(year + 1, 12, 31))
    except ValueError:
        return {}
    labels: dict[str, Period] = {}
    for period in periods:
        own = period.label.lower()
        labels.setdefault(own.split(" (from ")[0], period)
        labels[own] = period
    return labels


def _range(frequency: Frequency, kind: str, start: object, end: object,
           count: int | None) -> tuple[Period, ...]:
    """The periods of a range (ir.Range): `from start until end`, `from start through end`,
    `from start` (open: None as the end) or `in the count ending with end`."""
    if kind == "ending":
        last = _period_of(frequency, end, "the last period")
        assert count is not None
        return tuple(frequency.period(i) for i in range(last.index - count + 1, last.index + 1)
                     if frequency.commencement is None or i >= 1)
    first = _first_of(frequency, start)
    if first is None:
        return ()
    if kind == "open" or end is None:
        raise ValueError("the range of periods has no end")
    last_index = _last_index(frequency, kind, end)
    if last_index - first.index >= MAX_PERIODS:
        raise ValueError(f"a range of more than {MAX_PERIODS:,} {frequency.description}")
    return tuple(frequency.period(i) for i in range(first.index, last_index + 1))


def _first_of(frequency: Frequency, start: object) -> Period | None:
    """The first period of a range from `start` (a date before the family's first period
    starts it at the first)."""
    if isinstance(start, Period):
        return _period_of(frequency, start, "the first period")
    day = start if isinstance(start, date) else None
    if day is None:
        raise TypeError(f"a range starts at a date or a period, not {type(start).__name__}")
    if frequency.commencement is not None and _day(day) < frequency.commencement:
        return frequency.first()
    return frequency.containing(day)


def _last_index(frequency: Frequency, kind: str, end: object) -> int:
    """The index of the last period of a range `until` or `through` `end`."""
    if isinstance(end, Period):
        last = _period_of(frequency, end, "the last period").index
        return last if kind == "through" else last - 1
    if not isinstance(end, date):
        raise TypeError(f"a range ends at a date or a period, not {type(end).__name__}")
    day = _day(end)
    if frequency.commencement is not None and day < frequency.commencement:
        return 0
    period = frequency.containing(day)
    if kind == "until" and period.start == day:
        return period.index - 1  # "until B": the periods that start before B
    return period.index


def _in_range(frequency: Frequency, kind: str, start: object, end: object,
              count: int | None, period: Period) -> bool:
    """Whether `period` is one of a range's (an open range has no last period)."""
    if kind == "ending":
        last = _period_of(frequency, end, "the last period")
        assert count is not None
        return last.index - count < period.index <= last.index
    if start is None:
        return False  # the range starts on an event that has not happened
    first = _first_of(frequency, start)
    if first is None or period.index < first.index:
        return False
    return kind == "open" or end is None or period.index <= _last_index(frequency, kind, end)


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


# ---------------------------------------------------------------------------
# Series facts
# ---------------------------------------------------------------------------


_V = TypeVar("_V")


@dataclass(frozen=True)
class Series(Generic[_V]):
    """The values of a series fact, by the names of their periods as given (a date inside
    each, or its label); matched with the periods of a family when first needed."""

    fact: str
    values: tuple[tuple[str, _V], ...]
    default: _V | None = None
    _index: dict[Frequency, dict[Period, _V]] = field(
        default_factory=dict, compare=False, hash=False, repr=False)

    def value(self, frequency: Frequency, period: Period, at: _At) -> _V:
        """The value for `period`; the default, or MissingFactError, when none is given."""
        index = self._index.get(frequency)
        if index is None:
            index = self._index[frequency] = self._match(frequency)
        if period in index:
            return index[period]
        if self.default is not None:
            return self.default
        raise MissingFactError(f"{self.fact}[{period.label}]", file=at[0], line=at[1],
                               column=at[2], section=at[3])

    def get(self, frequency: Frequency, period: Period) -> _V | None:
        """The value for `period`, or None (an optional series)."""
        try:
            return self.value(frequency, period, ("", 0, 0, None))
        except MissingFactError:
            return None

    def _match(self, frequency: Frequency) -> dict[Period, _V]:
        index: dict[Period, _V] = {}
        named: dict[Period, str] = {}
        for key, value in self.values:
            try:
                period = _period_of(frequency, key, f"a period of {self.fact!r}")
            except (TypeError, ValueError) as error:
                raise FactError(self.fact, str(error).split(": ", 1)[-1]) from None
            if period in index:
                raise FactError(self.fact, f"{named[period]!r} and {key!r} both name "
                                f"{period.label}: give each period once")
            index[period] = value
            named[period] = key
        return index


def _as_series(name: str, value: object, convert: Callable[[object], _V],
               default: _V | None = None) -> Series[_V]:
    """A series fact from a facts file: a mapping of period names (a date inside the
    period, or its label) to values, or a list of {"period": ..., "value": ...}."""
    if isinstance(value, Series):
        return value  # validated when it was made
    pairs: list[tuple[object, object]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for row in value:
            if not isinstance(row, Mapping) or set(row) != {"period", "value"}:
                raise FactError(name, "a series is a mapping of periods to values, or a "
                                "list of {\"period\": ..., \"value\": ...}")
            pairs.append((row["period"], row["value"]))
    else:
        raise FactError(name, "has one value per period: give a mapping of periods to "
                        "values, such as {\"2009-Q1\": ..., \"2009-06-30\": ...}")
    if len(pairs) > MAX_PERIODS:
        raise FactError(name, f"more than {MAX_PERIODS:,} periods")
    values: list[tuple[str, _V]] = []
    for key, item in pairs:
        if isinstance(key, date):
            key = _day(key).isoformat()
        if not isinstance(key, str):
            raise FactError(name, f"a period is named by a date or a label, not {key!r}")
        try:
            values.append((key, convert(item)))
        except FactError as error:
            raise FactError(name, f"for {key!r}: {error.detail}") from None
    return Series(name, tuple(values), default)


def _series_value(series: Series[_V] | None, fact: str, frequency: Frequency,
                  period: Period, at: _At) -> _V:
    """The value of a series fact for `period`, which the clause needs."""
    if series is None:
        raise MissingFactError(f"{fact}[{period.label}]", file=at[0], line=at[1],
                               column=at[2], section=at[3])
    return series.value(frequency, period, at)


def _series_get(series: Series[_V] | None, frequency: Frequency, period: Period) -> _V | None:
    """The value of an optional series fact for `period`, or None."""
    return None if series is None else series.get(frequency, period)


def _remembered(facts: object, key: str, compute: Callable[[], _V]) -> _V:
    """`compute()`, once per facts object (a family of periods whose start is a fact)."""
    memo: dict[object, Any] = facts.__dict__.setdefault("_memo", {})
    found = memo.get(key, memo)
    if found is memo:
        found = memo[key] = compute()
    return cast(_V, found)


# ---------------------------------------------------------------------------
# A definition of the previous period
# ---------------------------------------------------------------------------


def _recursive(facts: object, key: str, step: Callable[..., _V], args: tuple[Any, ...],
               position: int) -> _V:
    """The value of a definition that uses its own value for the previous period
    (`step(facts, *args)` computes one period from the one before, through this
    function), remembered for these facts, or the error computing it raised. Before
    computing period n, the values of periods n - 32, n - 64, ... are computed oldest
    first, so that no computation goes more than 32 periods deep: a balance carried over
    centuries needs no deep stack. The steps back from the period asked stop after
    MAX_PERIODS periods (as a range of periods does): going further is an error."""
    memo: dict[tuple[Any, ...], Any] = facts.__dict__.setdefault("_memo", {})
    period: Period = args[position]
    floor = memo.get((_WARMING, key))
    if floor is not None and period.index < floor:
        raise _TooFarBack(f"'{key}' goes back more than {MAX_PERIODS:,} periods from the "
                          "period asked")
    found = memo.get((key, *args), memo)
    if found is not memo:
        return cast(_V, _recalled(found))
    if floor is not None:
        # Inside the computation of a later period: the earlier ones it reaches are
        # remembered within 32 periods of it.
        return _stepped(memo, key, step, facts, args)
    earlier: list[tuple[Any, ...]] = []
    index = period.index - _STEP
    while index >= period.index - MAX_PERIODS:
        try:
            before = period.frequency.period(index)
        except ValueError:
            break  # before the family's first period, or year 1
        shifted = args[:position] + (before,) + args[position + 1:]
        if (key, *shifted) in memo:
            break
        earlier.append(shifted)
        index -= _STEP
    memo[(_WARMING, key)] = period.index - MAX_PERIODS
    try:
        for shifted in reversed(earlier):
            try:
                _stepped(memo, key, step, facts, shifted)
            except _STEP_ERRORS:
                # A period the answer may not need: if it does, computing the answer
                # meets the same error (remembered), and raises it.
                continue
        return _stepped(memo, key, step, facts, args)
    finally:
        del memo[(_WARMING, key)]
        # Going too far back depends on the period asked: forgotten with it.
        for stale in memo.pop((_TooFarBack, key), ()):
            del memo[stale]


class _TooFarBack(ValueError):
    """The steps back from the period asked went past MAX_PERIODS periods."""


# The errors a step may raise, remembered like its values: a period computed again would
# raise them again, and going back past it each time would make the stack as deep as the
# chain of periods.
_STEP_ERRORS: Final = (ClauseError, ArithmeticError, LookupError, TypeError, ValueError)


@dataclass(frozen=True)
class _Raised:
    error: BaseException


def _stepped(memo: dict[tuple[Any, ...], Any], key: str, step: Callable[..., _V],
             facts: object, args: tuple[Any, ...]) -> _V:
    """One period computed, its value or error remembered."""
    try:
        value = step(facts, *args)
    except _STEP_ERRORS as error:
        memo[(key, *args)] = _Raised(error)
        if _went_too_far_back(error):
            memo.setdefault((_TooFarBack, key), []).append((key, *args))
        raise
    memo[(key, *args)] = value
    return value


def _went_too_far_back(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 100:
        if isinstance(error, _TooFarBack):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _recalled(found: object) -> object:
    if isinstance(found, _Raised):
        raise found.error.with_traceback(None)
    return found


# ---------------------------------------------------------------------------
# Performance
# ---------------------------------------------------------------------------


def _late(duty: Obligation, day: date) -> bool:
    """Whether `duty` is late on `day`: in effect, due before `day`, and not performed on
    or before its due date."""
    if not duty.active or duty.due is None:
        return False
    due = _day(duty.due)
    if not due < _day(day):
        return False
    return duty.performed_on is None or _day(duty.performed_on) > due


def _in_default(duty: Obligation, day: date) -> bool:
    """Whether `duty` is in default on `day`: late, and for a duty with a cure period, the
    notice given and the period after it over before `day` with the duty not performed by
    its end (no notice, no default)."""
    if not _late(duty, day):
        return False
    if not duty.curable:
        return True
    if duty.cure_by is None:
        return False
    cure_by = _day(duty.cure_by)
    return cure_by < _day(day) and (duty.performed_on is None or
                                    _day(duty.performed_on) > cure_by)


# ---------------------------------------------------------------------------
# The agenda
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaEntry:
    """One thing that falls due: an obligation instance's deadline, or the day a power's
    window closes."""

    date: date
    kind: str  # "due" or "window closes"
    name: str
    period: str | None  # the label of the instance's period, for a recurring one
    text: str  # "IntriCon must pay $75,000.00 to Dynamic Hearing by January 1, 2009"
    party: str
    amount: object
    amount_text: str
    section: str | None
    # "performed on D", "performed late on D", "not performed" (or as of a day: "pending",
    # "late", "in default"), "available"
    status: str
    version: str  # the version of the agreement it was evaluated in

    def __str__(self) -> str:
        where = f" ({_section_label(self.section)})" if self.section else ""
        period = f" [{self.period}]" if self.period else ""
        return f"{self.date.isoformat()}  {self.text}{where}{period}: {self.status}"

    def to_dict(self) -> dict[str, object]:
        """The entry as JSON-ready values (dates as ISO text, amounts as text)."""
        return {"date": self.date.isoformat(), "kind": self.kind, "name": self.name,
                "period": self.period, "text": self.text, "party": self.party,
                "amount": self.amount_text or None, "section": self.section,
                "status": self.status, "version": self.version}


def _entry(item: Obligation | Power, version: str, today: date | None = None
           ) -> AgendaEntry | None:
    """The agenda entry of an obligation instance or a power's window, if it has a date;
    a duty not performed is "pending", "late" or "in default" on `today`, if given."""
    if isinstance(item, Obligation):
        if not item.active or item.due is None:
            return None
        if item.performed_on is None or (today is not None and
                                         _day(item.performed_on) > today):
            status = "not performed"
            if today is not None:  # "in default" once a cure period ran out; else "late"
                status = "in default" if item.curable and _in_default(item, today) else \
                    "late" if _late(item, today) else "pending"
        else:
            late = _day(item.performed_on) > _day(item.due)
            status = ("performed late on " if late else "performed on ") + \
                _day(item.performed_on).isoformat()
        amount_text = format_value(item.object, item.object_kind, item.currency) \
            if item.object_kind and item.object is not None else ""
        return AgendaEntry(_day(item.due), "due", item.name, item.period, item.duty(),
                           item.obligor, item.object, amount_text, item.section, status,
                           version)
    if not item.available or item.closes is None:
        return None
    holders = " or ".join(item.holders)
    text = f"{holders} may {item.action} until {format_value(_day(item.closes), 'date')}"
    return AgendaEntry(_day(item.closes), "window closes", item.name, item.period, text,
                       holders, None, "", item.section, "available", version)


class Agenda(list[AgendaEntry]):
    """The entries of an agenda, in date order, and in `undetermined` what could not be
    decided for want of a fact ("fact 'sales[2009-Q4]' is not given ...")."""

    undetermined: list[str]

    def __init__(self, entries: Iterable[AgendaEntry] = (),
                 undetermined: Iterable[str] = ()) -> None:
        super().__init__(entries)
        self.undetermined = list(undetermined)


def _agenda(versions: Iterable[Any], facts: object, start: date, end: date,
            today: date | None = None) -> Agenda:
    """Every obligation instance due, and every power window closing, from `start` to
    `end` (both included), in date order; each evaluated in the version of the agreement
    in force on its own date, and its status as of `today` if given. An instance that
    needs a fact not given is left out and said in `undetermined`."""
    start, end = _day(start), _day(end)
    today = _day(today) if today is not None else None
    if end < start:
        raise ValueError(f"the agenda runs from {start.isoformat()} to {end.isoformat()}: "
                         "the end is before the start")
    versions = list(versions)
    entries: list[AgendaEntry] = []
    undetermined: list[str] = []
    for number, version in enumerate(versions):
        # The days of the window on which this version may be in force.
        effective = _effective(version, facts) if number else start
        if effective is None:
            continue  # effective upon an event that has not happened
        first = max(start, effective)
        following = [day for later in versions[number + 1:]
                     if (day := _effective(later, facts)) is not None]
        last = min(end, min(following) - _ONE_DAY) if following else end
        if last < first:
            continue
        for instance in version.instances(facts, first, last):
            try:
                item = instance()
            except (MissingFactError, NoValueError) as error:
                undetermined.append(f"{version.label}: {error}")
                continue
            entry = _entry(item, version.label, today)
            if entry is None or not start <= entry.date <= end:
                continue
            if _version_at(versions, entry.date, facts) is version:
                entries.append(entry)
    entries.sort(key=lambda e: (e.date, e.section or "", e.name, e.period or ""))
    return Agenda(entries, dict.fromkeys(undetermined))


def _agenda_periods(frequency: Frequency, kind: str, start: object, end: object,
                    count: int | None, window: tuple[date, date]) -> Iterator[Period]:
    """The periods of a recurring duty's range whose instances the agenda of `window`
    looks at: from those that end two years before its start (a deadline later than two
    years after its period is not found) to those that start by its end (a duty due
    before its own period begins, "in advance", is listed when its period begins in the
    window). A bound with no value: no periods for a start, an open range for an end."""
    if kind == "ending":
        if end is not None:
            yield from _range(frequency, kind, start, end, count)
        return
    first = _first_of(frequency, start) if start is not None else None
    if first is None:
        return
    try:
        from_day = date(window[0].year - 2, window[0].month, 1)
    except ValueError:
        from_day = date.min
    index = first.index
    if first.end < from_day:
        index = max(index, _first_of(frequency, from_day).index)  # type: ignore[union-attr]
    last = None if kind == "open" or end is None else _last_index(frequency, kind, end)
    for _ in range(MAX_PERIODS):
        if last is not None and index > last:
            return
        try:
            period = frequency.period(index)
        except ValueError:
            return
        if period.start > window[1]:
            return
        yield period
        index += 1


# The compiler's names for the helpers above (not pasted into generated modules).
period_of = _period_of  # prelude: skip
periods_in_range = _range  # prelude: skip
as_series = _as_series  # prelude: skip
