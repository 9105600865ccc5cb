"""What generated modules need for contracts over many things (part five of the prelude).

Pasted into every generated module after the other runtime files (the imports from them
below are dropped then). It gives the Clause language's data its run-time meaning:

* three-valued logic: `any of`, `all of`, `and`, `or` decided by an item whose facts are
  given even when another item's are not (Kleene's logic, as SQL's AND and OR);
* choices (a member's name, a str), records (a dict of field values) and lists (tuples),
  read from facts with errors that name the item and field at fault;
* a fact's `where` constraint, checked when the facts are built;
* allocation of an amount pro rata (largest remainder: no cent lost or created) or in
  order (a waterfall), and the present value of a schedule of payments.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any, Final, TypeVar

from .runtime import FactError, MissingFactError, _describe  # prelude: skip
from .runtime_eval import _EXACT, NoValueError, _At, _fail  # prelude: skip

_L = TypeVar("_L")

# What makes an item of a list of conditions unknown, rather than wrong.
_UNKNOWN: Final = (MissingFactError, NoValueError)


# ---------------------------------------------------------------------------
# Three-valued logic
# ---------------------------------------------------------------------------


def _any_of(*items: Callable[..., bool], given: tuple[Any, ...] = ()) -> bool:
    """True as soon as one item is true, even if another's facts are missing; else false,
    or, if some item could not be decided, the error that says why. Each item is called
    with `given` (the variables of the lists it is inside)."""
    unknown: Exception | None = None
    for item in items:
        try:
            if item(*given):
                return True
        except _UNKNOWN as missing:
            unknown = unknown or missing
    if unknown is not None:
        raise unknown
    return False


def _all_of(*items: Callable[..., bool], given: tuple[Any, ...] = ()) -> bool:
    """False as soon as one item is false, even if another's facts are missing."""
    unknown: Exception | None = None
    for item in items:
        try:
            if not item(*given):
                return False
        except _UNKNOWN as missing:
            unknown = unknown or missing
    if unknown is not None:
        raise unknown
    return True


def _any_in(values: Iterable[_L], keep: Callable[..., bool] | None,
            test: Callable[..., bool], given: tuple[Any, ...] = ()) -> bool:
    """`any of [test(x) for each x in values when keep(x)]`, three-valued (`keep` and
    `test` also take `given`: the variables of the lists they are inside)."""
    return _any_of(*(_item(keep, test, (x, *given), False) for x in values))


def _all_in(values: Iterable[_L], keep: Callable[..., bool] | None,
            test: Callable[..., bool], given: tuple[Any, ...] = ()) -> bool:
    """`all of [test(x) for each x in values when keep(x)]`, three-valued."""
    return _all_of(*(_item(keep, test, (x, *given), True) for x in values))


def _item(keep: Callable[..., bool] | None, test: Callable[..., bool], args: tuple[Any, ...],
          otherwise: bool) -> Callable[[], bool]:
    """One item of a list of conditions: `otherwise` (what leaves the answer as it is)
    where it does not apply."""
    if keep is None:
        return lambda: test(*args)
    return lambda: test(*args) if keep(*args) else otherwise


# ---------------------------------------------------------------------------
# Choices, records and lists
# ---------------------------------------------------------------------------


def _as_choice(fact: str, value: object, members: tuple[str, ...]) -> str:
    """A member of a choice, by its name."""
    if isinstance(value, str) and value in members:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.strip().lower().replace(" ", "_"),
                                          list(members), n=1)
        if close:
            hint = f" — did you mean {close[0]!r}?"
    raise FactError(fact, f"expected one of {', '.join(map(repr, members))}, got "
                          f"{_describe(value)}{hint}")


def _as_record(fact: str, value: object,
               fields: tuple[tuple[str, Callable[[str, object], object]], ...]) -> dict[str, Any]:
    """A record: a mapping with a value for each field, each converted as a fact."""
    if not isinstance(value, Mapping):
        names = ", ".join(name for name, _ in fields)
        raise FactError(fact, f"expected a record with the fields {names}, got "
                              f"{_describe(value)}")
    known = [name for name, _ in fields]
    for key in value:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            raise FactError(fact, f"has no field {str(key)!r}" + (
                f" — did you mean {close[0]!r}?" if close else
                f"; its fields are {', '.join(known)}"))
    record = {}
    for name, convert in fields:
        if value.get(name) is None:
            raise FactError(fact, f"field {name!r} is not given")
        record[name] = convert(f"{fact}.{name}", value[name])
    return record


# Lists of facts are read whole into memory: this many items at most.
MAX_ITEMS: Final = 1_000_000


def _convert(converter: Callable[..., _L], fact: str, value: object, *extra: object) -> _L:
    """A fact's value, converted by a converter built for its type (a list's, a record's)."""
    return converter(fact, value, *extra)


def _as_list(fact: str, value: object, convert: Callable[[str, object], _L]) -> tuple[_L, ...]:
    """A list fact: a list (JSON array) of items, each converted as a fact."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise FactError(fact, f"expected a list, got {_describe(value)}")
    if len(value) > MAX_ITEMS:
        raise FactError(fact, f"has {len(value):,} items; at most {MAX_ITEMS:,} are read")
    return tuple(convert(f"{fact}[{i}]", item) for i, item in enumerate(value))


def _constrain(fact: str, value: _L, holds: Callable[[_L], bool], rule: str) -> _L:
    """A fact's value, if its `where` holds for it."""
    if not holds(value):
        raise FactError(fact, f"{value} is not allowed: the agreement requires "
                              f"{rule}")
    return value


def _case(subject: str, arms: Mapping[str | None, Callable[..., _L]],
          given: tuple[Any, ...] = ()) -> _L:
    """The value of the case for `subject` (the `None` arm: otherwise), its function
    called with `given` (the variables of the lists it is inside)."""
    arm = arms.get(subject)
    return (arm if arm is not None else arms[None])(*given)


def _first_item(values: Iterable[_L]) -> _L | None:
    for value in values:
        return value
    return None


def _number_of(values: Iterable[object]) -> int:
    return sum(1 for _ in values)


# ---------------------------------------------------------------------------
# Allocation
# ---------------------------------------------------------------------------


def _share(item: object, amount: Decimal) -> dict[str, Any]:
    return {"item": item, "amount": amount}


def _pro_rata(amount: Decimal, weighted: Sequence[tuple[object, Decimal | int]],
              at: _At) -> tuple[dict[str, Any], ...]:
    """`amount` shared in proportion to the weights, in whole cents (or the amount's own
    smallest unit, if finer): each share rounded down, then one unit each to the largest
    remainders (ties to the earlier item) until the shares add up to the amount exactly."""
    weights = [Fraction(w) for _, w in weighted]
    if any(w < 0 for w in weights):
        raise _fail("a pro rata weight is negative", at)
    total = sum(weights, Fraction(0))
    if not weighted:
        if amount:
            raise _fail("there is nothing to allocate the amount to (the list is empty)", at)
        return ()
    if total == 0:
        raise _fail("the pro rata weights add up to zero", at)
    exponent = min(int(amount.as_tuple().exponent), -2)
    units = int(Fraction(amount) / Fraction(10) ** exponent)  # exact: a whole number
    sign = -1 if units < 0 else 1
    exact = [abs(units) * w / total for w in weights]
    floors = [int(x) for x in exact]
    left = abs(units) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return tuple(_share(item, Decimal(f"{sign * n}E{exponent}"))
                 for (item, _), n in zip(weighted, floors))


def _in_order(amount: Decimal, capped: Sequence[tuple[object, Decimal]],
              at: _At) -> tuple[dict[str, Any], ...]:
    """`amount` applied to the items in order, each up to what it can take (a waterfall);
    what is left after the last is not allocated."""
    if amount < 0:
        raise _fail("the amount to apply in order is negative", at)
    left = amount
    shares = []
    for item, cap in capped:
        if cap < 0:
            raise _fail("an item to apply the amount to takes a negative amount", at)
        take = min(cap, left)
        left = _EXACT.subtract(left, take)
        shares.append(_share(item, take))
    return tuple(shares)


# ---------------------------------------------------------------------------
# Present value
# ---------------------------------------------------------------------------

# Present values are computed to this many significant digits, then rounded to the cent,
# half up (the convention stated in the language reference).
_PV: Final = Context(prec=50, rounding=ROUND_HALF_UP)
_PER_YEAR: Final = {"annually": 1, "semiannually": 2, "quarterly": 4, "monthly": 12,
                    "daily": 365}


def _year_fraction(start: date, end: date, basis: str) -> Decimal:
    """The years from `start` to `end` by a day-count convention (negative if before)."""
    if end < start:
        return _PV.minus(_year_fraction(end, start, basis))
    if basis == "actual/360":
        return _PV.divide(Decimal((end - start).days), Decimal(360))
    if basis == "actual/365":
        return _PV.divide(Decimal((end - start).days), Decimal(365))
    if basis == "30/360":
        d1 = min(start.day, 30)
        d2 = min(end.day, 30) if d1 == 30 else end.day
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + d2 - d1
        return _PV.divide(Decimal(days), Decimal(360))
    # actual/actual (ISDA): the days in each calendar year over that year's length
    total = Decimal(0)
    day = start
    while day < end:
        year_end = date(day.year + 1, 1, 1)
        stop = min(end, year_end)
        length = (year_end - date(day.year, 1, 1)).days
        total = _PV.add(total, _PV.divide(Decimal((stop - day).days), Decimal(length)))
        day = stop
    return total


def _discount(rate: Decimal, years: Decimal, compounding: str) -> Decimal:
    """What one unit due `years` from now is worth now."""
    if compounding == "simple":
        return _PV.divide(Decimal(1), _PV.add(Decimal(1), _PV.multiply(rate, years)))
    if compounding == "continuously":
        return _PV.exp(_PV.minus(_PV.multiply(rate, years)))
    per_year = Decimal(_PER_YEAR[compounding])
    base = _PV.add(Decimal(1), _PV.divide(rate, per_year))
    return _PV.power(base, _PV.minus(_PV.multiply(per_year, years)))


def _present_value(payments: Iterable[tuple[Decimal, date]], rate: Decimal, on: date,
                   basis: str, compounding: str, at: _At) -> Decimal:
    """The sum of the payments, each discounted from its date to `on`, to the cent."""
    if rate <= -1:
        raise _fail(f"a discount rate of {rate} is not a rate to discount at", at)
    total = Decimal(0)
    for amount, day in payments:
        factor = _discount(rate, _year_fraction(on, day, basis), compounding)
        total = _PV.add(total, _PV.multiply(amount, factor))
    return total.quantize(Decimal("0.01"), context=_PV)


# The compiler's names for the helpers above (not pasted into generated modules).
pro_rata = _pro_rata  # prelude: skip
in_order = _in_order  # prelude: skip
present_value = _present_value  # prelude: skip
year_fraction = _year_fraction  # prelude: skip
as_choice = _as_choice  # prelude: skip
as_record = _as_record  # prelude: skip
as_list = _as_list  # prelude: skip
constrain = _constrain  # prelude: skip
