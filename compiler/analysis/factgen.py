"""Hypothesis strategies for the facts of a checked program.

`facts_strategy(checked, facts)` draws a facts dict (Python values, as `Facts(**facts)`
takes them) from the facts' types: booleans; integers near 0 or near the years the
agreement mentions; amounts in cents, near 0 or near the amounts the clauses state (one
cent either side of $1,800,000 is where a comparison flips); percentages in basis points;
dates around the agreement's dates and the dates its clauses state; datetimes on those
days in the agreement's time zone; day counts up to 60; a party of the agreement; text
the clauses mention; a member of a choice; a list of 0 to 4 items (a record: each field
drawn as a fact of its type). An optional fact is sometimes missing. Every strategy
shrinks towards the simplest value: a missing optional fact, 0, false, the agreement's
date, a choice's first member, an empty list.

A fact's `where` (its constraint): with `allowed` (search.Allowed, which asks the
compiled Facts class), facts_strategy draws only values it allows, half the time from
`seeds` (values known to be allowed: those search.py tries first), otherwise drawn and
filtered.

`find(strategy, condition, examples)` is how the counterexample search of `clausec
verify` and `clausec diff` (search.py) draws from them: deterministic, with no example
database, without shrinking (search.minimise makes a counterexample small), and with
hypothesis's caches kept out of the user's working directory.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from clausec import ir
from clausec.ir import types as T
from clausec.passes.check import CheckedProgram, constrained, has_field_where

_CENTS = Decimal("0.01")
_T = TypeVar("_T")


@attrs.frozen
class Landmarks:
    """The values a program mentions: what generated facts cluster around."""

    dates: tuple[date, ...]
    amounts: tuple[Decimal, ...]
    numbers: tuple[int, ...]
    texts: tuple[str, ...]


def landmarks(checked: CheckedProgram) -> Landmarks:
    header = checked.header
    dates: list[date] = [d for d in (header.dated, header.effective) if d is not None]
    amounts: list[Decimal] = []
    numbers: list[int] = []
    texts: list[str] = []
    stack: list[object] = list(checked.program.declarations)
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Literal):
            v = node.value
            if isinstance(v, bool):
                continue
            if isinstance(v, datetime):
                dates.append(v.date())
            elif isinstance(v, date):
                dates.append(v)
            elif isinstance(v, Decimal):
                amounts.append(v)
            elif isinstance(v, int):
                numbers.append(v)
            elif isinstance(v, str):
                texts.append(v)
        elif isinstance(node, (tuple, list)):
            stack.extend(node)
        elif attrs.has(type(node)):
            stack.extend(getattr(node, f.name) for f in attrs.fields(type(node))  # type: ignore[arg-type]
                         if f.name not in ("span", "type"))
    numbers += [d.year for d in dates]
    return Landmarks(tuple(sorted(set(dates))) or (date(2000, 1, 1),),
                     tuple(sorted(set(amounts))), tuple(sorted(set(numbers))),
                     tuple(sorted(set(texts))))


def _near(values: tuple[Any, ...], offsets: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.tuples(st.sampled_from(values), offsets).map(lambda p: p[0] + p[1])


def _money(marks: Landmarks) -> st.SearchStrategy[Decimal]:
    cents = st.integers(min_value=0, max_value=10 ** 9).map(lambda n: Decimal(n) * _CENTS)
    plain = [st.just(Decimal(0)), cents,
             st.integers(min_value=-10 ** 7, max_value=0).map(lambda n: Decimal(n) * _CENTS)]
    if marks.amounts:
        edges = st.sampled_from((Decimal(0), _CENTS, -_CENTS, Decimal(1), Decimal(-1)))
        plain.insert(1, _near(marks.amounts, edges).map(lambda d: d.quantize(_CENTS)))
    return st.one_of(*plain)


def _percent() -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=0, max_value=20_000).map(lambda n: Decimal(n) / 10_000)


def _decimal(marks: Landmarks) -> st.SearchStrategy[Decimal]:
    return st.one_of(st.integers(-10_000, 10_000).map(lambda n: Decimal(n) / 100),
                     _money(marks))


def _integer(marks: Landmarks) -> st.SearchStrategy[int]:
    small = st.integers(min_value=-10, max_value=100)
    if marks.numbers:
        return st.one_of(small, _near(marks.numbers, st.integers(-3, 3)),
                         st.integers(-10 ** 6, 10 ** 6))
    return st.one_of(small, st.integers(-10 ** 6, 10 ** 6))


def _date(marks: Landmarks) -> st.SearchStrategy[date]:
    return _near(marks.dates, st.integers(min_value=-800, max_value=800).map(
        lambda n: timedelta(days=n)))


def _datetime(marks: Landmarks, zone: str | None) -> st.SearchStrategy[datetime]:
    tz = ZoneInfo(zone or "UTC")
    times = st.tuples(st.integers(0, 23), st.sampled_from((0, 30, 15, 45, 59)))
    return st.tuples(_date(marks), times).map(
        lambda p: datetime.combine(p[0], time(p[1][0], p[1][1]), tzinfo=tz))


def value_strategy(fact: ir.Fact, checked: CheckedProgram,
                   marks: Landmarks | None = None) -> st.SearchStrategy[Any]:
    """The values of one fact (never missing: see facts_strategy)."""
    marks = marks or landmarks(checked)
    if fact.per is not None:
        return _series(fact, checked, marks)
    return _typed(fact.type, checked, marks)


def _typed(type_: T.Type, checked: CheckedProgram, marks: Landmarks
           ) -> st.SearchStrategy[Any]:
    """The values of a type (a fact's, a field's, a list's items')."""
    kind = type_.kind
    if kind in ("choice", "record", "list"):
        decl = checked.declarations.get(type_.name or "")
        if kind == "choice":
            members = [m.name for m in decl.members] if isinstance(decl, ir.Choice) else []
            return st.sampled_from(members) if members else st.just("")
        if kind == "record":
            fields = decl.fields if isinstance(decl, (ir.Record, ir.Table)) else ()
            return st.fixed_dictionaries({f.name: _typed(f.type, checked, marks)
                                          for f in fields})
        return st.lists(_typed(type_.element or T.ERROR, checked, marks),
                        max_size=4)
    if kind == "bool":
        return st.booleans()
    if kind == "integer":
        return _integer(marks)
    if kind == "decimal":
        return _decimal(marks)
    if kind == "money":
        return _money(marks)
    if kind == "percent":
        return _percent()
    if kind == "date":
        return _date(marks)
    if kind == "datetime":
        return _datetime(marks, checked.header.time_zone)
    if kind in ("days", "business_days"):
        return st.integers(min_value=0, max_value=60)
    if kind == "months":
        return st.integers(min_value=0, max_value=36)
    if kind == "party":
        return st.sampled_from([p.name for p in checked.header.parties] or ["party"])
    return st.one_of(st.just(""), st.sampled_from(marks.texts or ("",)),
                     st.text(max_size=12))


def _series(fact: ir.Fact, checked: CheckedProgram, marks: Landmarks
            ) -> st.SearchStrategy[dict[str, Any]]:
    """The values of a series fact: a few consecutive periods of its family, each named
    by a date inside it (one period's length apart, from a date the agreement mentions),
    shrinking to no values at all."""
    from clausec.backends.python.runtime_periods import add_months

    family = checked.declarations.get(fact.per or "")
    unit = family.unit if isinstance(family, ir.PeriodFamily) else \
        ir.CALENDAR_FAMILIES.get(fact.per or "", "month")
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[unit]
    item = value_strategy(attrs.evolve(fact, per=None), checked, marks)

    def named(first: date, values: list[Any]) -> dict[str, Any]:
        return {add_months(first, i * months).isoformat(): v for i, v in enumerate(values)}

    return st.builds(named, _date(marks).map(lambda d: d.replace(day=min(d.day, 28))),
                     st.lists(item, max_size=8))


def facts_strategy(checked: CheckedProgram, facts: Mapping[str, ir.Fact] | None = None,
                   *, allowed: Callable[[str, Any], bool] | None = None,
                   seeds: Mapping[str, Sequence[Any]] | None = None
                   ) -> st.SearchStrategy[dict[str, Any]]:
    """Facts dicts for a program: `facts` as the compiled Facts class has them (see
    check.union_of_facts), by default the program's own. Missing optional facts are left
    out of the dict. With `allowed`, a fact with a `where` takes only values it allows:
    half the time one of its `seeds` that it allows, else a value drawn and filtered
    (hypothesis draws again a few times, then gives up on the example)."""
    if facts is None:
        facts = {d.name: d for d in checked.program.declarations if isinstance(d, ir.Fact)}
    marks = landmarks(checked)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, fact in facts.items():
        values = value_strategy(fact, checked, marks)
        if allowed is not None and fact.per is None and fact.type.kind == "list" and \
                has_field_where(fact.type.element, checked.declarations):
            # Each item drawn until its fields' `where` allow it (as a list of one), so
            # that a list of four is not refused for one item out of four.
            item = _typed(fact.type.element or T.ERROR, checked, marks).filter(
                _allows(allowed, name, lambda v: [v]))
            values = st.lists(item, max_size=4)
        if allowed is not None and constrained(fact, checked.declarations):
            values = values.filter(_allows(allowed, name))
            known = [v for v in (seeds or {}).get(name, ()) if allowed(name, v)]
            if known:
                values = st.one_of(st.sampled_from(known), values)
        if fact.type.optional:
            values = st.one_of(st.none(), values)  # shrinks to missing
        fields[name] = values
    return st.fixed_dictionaries(fields).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


def _allows(allowed: Callable[[str, Any], bool], name: str,
            whole: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], bool]:
    return lambda value: allowed(name, whole(value))




def simple_value(fact: ir.Fact, checked: CheckedProgram) -> Any:
    """The simplest value of a fact (smt.simple_value)."""
    from clausec.backends.smt import simple_value as simplest
    return simplest(fact, checked.header, checked.declarations)


# ------------------------------------------------------------------ searching


def find(strategy: st.SearchStrategy[_T], condition: Callable[[_T], bool], examples: int,
         *, seed: int | None = None) -> _T | None:
    """The first example of `strategy` that satisfies `condition` within `examples` tries,
    as drawn (not shrunk), or None. Deterministic: derandomized, or drawn from `seed`; no
    example database, so an earlier run never changes the answer."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import find as hypothesis_find
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    config = settings(max_examples=examples, database=None, deadline=None,
                      derandomize=seed is None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
    with _storage_outside_working_directory():
        try:
            return hypothesis_find(strategy, condition, settings=config,
                                   random=random.Random(seed) if seed is not None else None)
        except (NoSuchExample, Unsatisfiable):
            return None  # nothing satisfies it, or a `where` refuses nearly every value


@contextlib.contextmanager
def _storage_outside_working_directory() -> Iterator[None]:
    """Hypothesis writes caches (the constants it finds in loaded modules, Unicode tables)
    to its storage directory, `.hypothesis/` in the working directory unless configured:
    a folder the user of `clausec verify` never asked for. Here it is a per-user cache
    directory for the duration of a search, then whatever it was (a test suite that
    imports clausec keeps its own)."""
    from hypothesis import configuration

    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # the user's choice
        yield
        return
    previous = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(_cache_directory())
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(previous)


def _cache_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    try:
        root = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:  # no home directory
        root = Path(tempfile.gettempdir()) / f"clausec-{getattr(os, 'getuid', lambda: 0)()}"
    return root / "clausec" / "hypothesis"
