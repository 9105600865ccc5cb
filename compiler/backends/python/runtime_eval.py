"""Evaluation and explanation helpers of generated modules (part two of the prelude).

Like runtime.py, this source is pasted into every generated module, after runtime.py;
the import from runtime.py below is dropped then, since the names are already there.
Positions (`_At`) are (clause file, line, column, section) of the clause construct a
helper evaluates, so that every run-time error points back to the clause file.

As in runtime.py, the public names at the end of the file (``divide`` for ``_div``) are
the compiler's, and are not pasted (``# prelude: skip``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import (
    MAX_PREC,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Subnormal,
    Underflow,
    getcontext,  # noqa: F401 - generated functions check the caller's context with it
    localcontext,
    setcontext,  # noqa: F401 - and make the module's context the thread's for the call
)
from typing import Any, Final, TypeVar

from .runtime import (  # prelude: skip
    ClauseError,
    ClauseRuntimeError,
    ConflictError,
    Explanation,
    FactError,
    MissingFactError,
    _position,
)

_T = TypeVar("_T")

# The arithmetic of amounts (README, "Conventions where contracts are silent"):
# - + - * (and negation, sums) are exact, whatever the size of the numbers: the context
#   has the largest precision there is, and a result that would need rounding all the
#   same is an error (Inexact is trapped), never a silently rounded amount;
# - every nonzero result lies between 1E-999999 and 1E+1000000 in magnitude: beyond
#   that it is an overflow or underflow error, not Infinity or 0, so hostile facts or a
#   runaway power cannot build a number of gigabytes;
# - a power with an integer exponent is exact as long as it has at most _POWER_DIGITS
#   significant digits, and an error beyond that; a negative exponent is 1 divided by
#   the power (the division rule);
# - a quotient is exact when it terminates; otherwise it is rounded half-even, keeping
#   its whole-number part and _QUOTIENT_DIGITS significant digits after it (1/3 is "0."
#   and 28 threes, 100/3 is "33." and 28 threes, 1/300 is "0.00" and 28 threes);
# - round(x, n) rounds half up (the only rounding a clause asks for).
# Division and powers never run in _EXACT itself: 1/3 at its precision would exhaust
# memory. tests/test_exact_money.py holds these promises.
_EMAX: Final = 999999
_EMIN: Final = -999999
_POWER_DIGITS: Final = 10000
_QUOTIENT_DIGITS: Final = 28
_TRAPS: Final = (InvalidOperation, DivisionByZero, Overflow, Underflow, Subnormal, Inexact)

# Every Decimal operation of a clause runs in this context, whatever the caller's: results
# do not depend on the precision or traps of the application that imports the module.
_EXACT = Context(prec=MAX_PREC, rounding=ROUND_HALF_EVEN, Emin=_EMIN, Emax=_EMAX, clamp=0,
                 traps=list(_TRAPS))

# Generated functions that do Decimal arithmetic with operators make _EXACT the thread's
# context for the call (unless it already is: a call from inside another) and restore the
# caller's after it: results never depend on the caller's decimal settings. One Context
# object shared by threads is safe here: its settings are only read; the flags it
# collects are never consulted (Inexact and the other signals trap).
_At = tuple[str, int, int, "str | None"]
_Thunk = Callable[[], Explanation]


def _need_fact(value: _T | None, fact: str, at: _At) -> _T:
    """The value of an optional fact where the clause needs one."""
    if value is None:
        raise MissingFactError(fact, file=at[0], line=at[1], column=at[2], section=at[3])
    return value


def _need_value(value: _T | None, what: str, at: _At) -> _T:
    """The value of a term that may have none (an "earlier of" of events that have not
    happened) where the clause needs one."""
    if value is None:
        raise NoValueError(f"'{what}' has no value here (none of the events it "
                                 "depends on has happened, or a fact it needs is not given)",
                                 file=at[0], line=at[1], column=at[2], section=at[3])
    return value


_TOO_LARGE: Final = ("the result is too large: numbers and amounts are limited to less "
                     "than 1E+1000000 in magnitude")
_TOO_SMALL: Final = ("the result is too small: numbers and amounts other than 0 are limited "
                     "to at least 1E-999999 in magnitude")


def _limits(error: ArithmeticError) -> str | None:
    """What a decimal signal that the arithmetic's limits trap means, in words."""
    # Overflow and Underflow are kinds of Inexact: test them first.
    if isinstance(error, Overflow):
        return _TOO_LARGE
    if isinstance(error, (Underflow, Subnormal)):
        return _TOO_SMALL
    if isinstance(error, Inexact):
        return "the result cannot be computed exactly (it would have to be rounded)"
    return None


def _error(error: Exception, at: _At) -> ClauseRuntimeError:
    """Turn an arithmetic or conversion failure into an error located in the clause file."""
    limits = _limits(error) if isinstance(error, ArithmeticError) else None
    if isinstance(error, ZeroDivisionError):
        message = "division by zero"
    elif limits is not None:
        message = limits
    elif isinstance(error, ArithmeticError) and str(error).startswith("[<class"):
        # The decimal module's signals print as a list of classes: say what happened.
        message = f"the arithmetic is undefined ({type(error).__name__})"
    else:
        message = str(error) or type(error).__name__
    return ClauseRuntimeError(message, file=at[0], line=at[1], column=at[2], section=at[3])


@functools.lru_cache(maxsize=128)
def _context(precision: int, rounding: str = ROUND_HALF_EVEN, exact: bool = True) -> Context:
    """A context of the given precision with the arithmetic's limits; `exact`: one that
    raises Inexact rather than round. Shared: nothing reads its flags, which is what
    makes sharing it between threads safe (and building one costs more than a division)."""
    return Context(prec=precision, rounding=rounding, Emin=_EMIN, Emax=_EMAX, clamp=0,
                   traps=[t for t in _TRAPS if exact or t is not Inexact])


def _fail(message: str, at: _At) -> ClauseRuntimeError:
    return ClauseRuntimeError(message, file=at[0], line=at[1], column=at[2], section=at[3])


# Most quotients of a contract fit in this many digits: tried first, since counting the
# digits of the operands costs more than dividing.
_SHORT_QUOTIENT: Final = 64


def _div(a: Decimal | int, b: Decimal | int, at: _At) -> Decimal:
    if b == 0:
        raise _fail("division by zero", at)
    try:
        try:
            return _context(_SHORT_QUOTIENT).divide(a, b)  # exact, or it raises
        except (Inexact, Subnormal):
            pass  # not exact at this precision, or near the limits after rounding
        dividend, divisor = Decimal(a), Decimal(b)
        # A quotient that terminates has at most digits(a) + log10(2 ** (3.33 * digits(b)))
        # + 1 significant digits (divisor / gcd = 2^i * 5^j): at this precision, a quotient
        # that would need rounding does not terminate. str() counts the digits with a few
        # characters more, and faster than as_tuple().
        digits = len(str(dividend)) + 4 * len(str(divisor)) + 2
        if digits > _SHORT_QUOTIENT:
            try:
                return _context(digits).divide(dividend, divisor)
            except (Overflow, Underflow, Subnormal):
                raise
            except Inexact:
                pass
        # Truncated to a few digits, the quotient has the magnitude of the exact one.
        magnitude = _context(3, ROUND_DOWN, exact=False).divide(dividend, divisor).adjusted()
        # The whole-number part is never rounded: the precision is its digits and 28.
        places = _QUOTIENT_DIGITS + max(0, magnitude + 1)
        return _context(places, exact=False).divide(dividend, divisor)
    except ArithmeticError as error:
        raise _error(error, at) from error


def _pow(base: Decimal | int, exponent: int, at: _At) -> Decimal:
    if base == 0 and exponent <= 0:
        # Decimal says Infinity, or raises with no useful message: name the problem.
        problem = "division by zero" if exponent < 0 else "0 to the power of 0 is undefined"
        raise _fail(problem, at)
    number = Decimal(base)
    if number.copy_abs() == 1:  # copy_abs: abs() would round in the caller's context
        # Any exponent, however large: 1 or -1 (no power to compute).
        result = Decimal(-1 if number < 0 and exponent % 2 else 1)
    else:
        try:
            result = _context(_POWER_DIGITS).power(number, abs(exponent))
        except (Overflow, Underflow, Subnormal) as error:
            # x ^ -n is 1 / x ^ n: too large a power makes too small a quotient.
            large = isinstance(error, Overflow) == (exponent > 0)
            raise _fail(_TOO_LARGE if large else _TOO_SMALL, at) from error
        except Inexact as error:
            raise _fail(f"the result of the power has more than {_POWER_DIGITS:,} "
                        "significant digits: it cannot be computed exactly", at) from error
        except ArithmeticError as error:
            raise _error(error, at) from error
        if exponent < 0:
            result = _div(1, result, at)
    # 1.075 ** 4 is 1.335469140625, not 1.3354691406250000000000000000.
    result = result.normalize(_EXACT)
    exponent_of = result.as_tuple().exponent
    if isinstance(exponent_of, int) and exponent_of > 0 and result.adjusted() < _POWER_DIGITS:
        # 1E+7 back to 10000000; not 1E+999999 to a million digits.
        result = result.quantize(Decimal(1), context=_EXACT)
    return result


# round(X, n): half up, as contracts round amounts (not the banker's half-even).
_ROUNDING = Context(prec=MAX_PREC, rounding=ROUND_HALF_UP, Emin=_EMIN, Emax=_EMAX, clamp=0,
                    traps=[InvalidOperation, Overflow])


def _round(value: Decimal | int, places: int) -> Decimal:
    """Round half up, the way amounts are rounded in contracts (not banker's rounding)."""
    if not _EMIN <= places <= _EMAX:
        raise ValueError(f"cannot round to {places} places: the number of places is "
                         f"limited to {_EMIN} to {_EMAX}")
    # The quantum is built from its parts: scaleb() would consult the caller's context.
    return Decimal(value).quantize(Decimal((0, (1,), -places)), context=_ROUNDING)


def _earliest(*values: _T | None) -> _T | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None  # type: ignore[type-var]


def _latest(*values: _T | None) -> _T | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None  # type: ignore[type-var]


def _total(zero: _T, *values: Any) -> _T:
    result: Any = zero
    for v in values:
        if v is not None:
            result = _EXACT.add(result, v) if isinstance(result, Decimal) else result + v
    return result  # type: ignore[no-any-return]


def _maybe(compute: Callable[..., _T], *values: object) -> _T | None:
    """`compute(*values)`, or no value when one of them has none: "10 days after X" has
    no value while X has not happened."""
    if any(v is None for v in values):
        return None
    return compute(*values)


def _days_between(a: date, b: date) -> int:
    return (b - a).days


def _moment_part(value: date | datetime, part: str) -> int:
    return int(getattr(value, part))


# ------------------------------------------------------------------ explanations
# An explain function mirrors its clause: one Explanation per construct, whose value
# is computed from its children's values exactly as the fast function computes it.


def _x_leaf(label: str, value: object, kind: str, at: _At | None, note: str = "",
            currency: str = "USD") -> Explanation:
    return Explanation(label=label, value=value, kind=kind,
                       section=at[3] if at else None, file=at[0] if at else None,
                       line=at[1] if at else None, note=note, currency=currency)


def _x_apply(label: str, kind: str, at: _At, compute: Callable[..., object],
             *children: Explanation, currency: str = "USD", lift: bool = False) -> Explanation:
    """A construct whose value is computed from all of its children (with `lift`, a
    construct that has no value when one of its children has none)."""
    try:
        values = [c.value for c in children]
        with localcontext(_EXACT):
            value = None if lift and any(v is None for v in values) else compute(*values)
    except ClauseRuntimeError:
        raise
    except (ArithmeticError, TypeError, ValueError) as error:
        raise _error(error, at) from error
    shown = tuple(c for c in children if c.note != "literal")
    return Explanation(label=label, value=value, kind=kind, section=at[3], file=at[0],
                       line=at[1], children=shown, currency=currency)


_SKIPPED = "not evaluated: already decided"


def _x_items(label: str, kind: str, at: _At,
             items: Sequence[tuple[str, _Thunk | None, _Thunk]]) -> Explanation:
    """all of / any of / none of, and / or / unless: evaluated in order, stopping where
    the result is decided, like the fast function. Three-valued like it too: an item whose
    facts are missing is shown as unknown, and the items after it may still decide."""
    children: list[Explanation] = []
    decided: bool | None = None
    unknown: ClauseRuntimeError | None = None
    for position, (item_label, when, thunk) in enumerate(items):
        if decided is not None:
            children.append(Explanation(label=item_label or "...", value=None, kind="bool",
                                        section=at[3], file=at[0], line=at[1], note=_SKIPPED))
            continue
        try:
            if when is not None:
                guard = when()
                if not guard.value:
                    children.append(Explanation(
                        label=item_label or f"when {guard.label}", value=None, kind="bool",
                        section=at[3], file=at[0], line=at[1], note="does not apply",
                        children=(guard,)))
                    continue
            child = thunk()
        except (MissingFactError, NoValueError) as missing:
            unknown = unknown or missing
            children.append(Explanation(label=item_label or "...", value=None, kind="bool",
                                        section=at[3], file=at[0], line=at[1],
                                        note=f"unknown: {missing.message}"))
            continue
        if item_label and item_label != child.label or child.value is None:
            # An optional fact not given leaves its item unknown (the fast function, which
            # decided the answer already, raised if that left it undecided).
            child = Explanation(label=f"{item_label or ''} {child.label}".strip(),
                                value=child.value, kind=child.kind, section=child.section,
                                file=child.file, line=child.line,
                                note="unknown: not given" if child.value is None else child.note,
                                children=child.children, currency=child.currency)
        children.append(child)
        if child.value is None:
            continue
        value = bool(child.value)
        # "A unless B" is decided false by a false A or by a true B.
        unless_decides = kind == "unless" and value == (position == 1)
        if (kind in ("and", "all") and not value) or (kind == "none" and value) \
                or unless_decides:
            decided = False
        elif kind in ("or", "any") and value:
            decided = True
    if decided is None:
        if unknown is not None:
            raise unknown
        decided = {"and": True, "all": True, "or": False, "any": False, "none": True,
                   "unless": True}[kind]
    return Explanation(label=label, value=decided, kind="bool", section=at[3], file=at[0],
                       line=at[1], children=tuple(children))


def _x_choose(label: str, kind: str, at: _At, pick: Callable[..., object],
              items: Sequence[tuple[str, _Thunk | None, _Thunk]],
              currency: str = "USD") -> Explanation:
    """earlier of / later of / lesser of / greater of / sum of: every item counts."""
    children: list[Explanation] = []
    values: list[object] = []
    for item_label, when, thunk in items:
        if when is not None:
            guard = when()
            if not guard.value:
                children.append(Explanation(
                    label=item_label or f"when {guard.label}", value=None, kind=kind,
                    section=at[3], file=at[0], line=at[1], note="does not apply",
                    children=(guard,), currency=currency))
                continue
        child = thunk()
        values.append(child.value)
        if item_label:
            child = Explanation(label=f"{item_label} {child.label}", value=child.value,
                                kind=child.kind, section=child.section, file=child.file,
                                line=child.line, note=child.note, children=child.children,
                                currency=child.currency)
        children.append(child)
    return Explanation(label=label, value=pick(*values), kind=kind, section=at[3], file=at[0],
                       line=at[1], children=tuple(children), currency=currency)


def _x_if(label: str, kind: str, at: _At, condition: _Thunk, then: _Thunk,
          otherwise: _Thunk, currency: str = "USD") -> Explanation:
    test = condition()
    branch = then() if test.value else otherwise()
    return Explanation(label=label, value=branch.value, kind=kind, section=at[3], file=at[0],
                       line=at[1], children=(test, branch), currency=currency)


class NoValueError(ClauseRuntimeError):
    """A term that may have no value (an event that has not happened) has none."""


def _soft(thunk: Callable[[], _T]) -> _T | None:
    """The value, or None when a fact it needs is not given: for the parts of an obligation
    (its amount, its due date) that are unknown until its condition is met."""
    try:
        return thunk()
    except (MissingFactError, NoValueError):
        return None


def _unknown_fact(name: str, known: Sequence[str]) -> FactError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return FactError(name, "is not a fact of this agreement" + hint)


def _unknown_name(name: str, known: Sequence[str]) -> ClauseError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ClauseError(f"{name!r} is not a term, condition, obligation, power or fact of "
                       "this agreement" + hint)


def _x_definition(label: str, kind: str, at: _At, value: object, general: _Thunk,
                  exceptions: Sequence[tuple[str, _At, _Thunk, _Thunk]],
                  currency: str = "USD") -> Explanation:
    """A defined term with its general rule and the exceptions that may override it."""
    children: list[Explanation] = []
    applied: Explanation | None = None
    for name, where, condition, override in exceptions:
        test = condition()
        note = "applies" if test.value else "does not apply"
        children.append(Explanation(label=f"exception {name}", value=test.value, kind="bool",
                                    section=where[3], file=where[0], line=where[1], note=note,
                                    children=(test,)))
        if test.value and applied is None:
            applied = override()
            children.append(applied)
    note = ""
    if applied is None:
        children.insert(0, general())
    else:
        note = "decided by an exception"
    return Explanation(label=label, value=value, kind=kind, section=at[3], file=at[0],
                       line=at[1], note=note, children=tuple(children), currency=currency)


def _conflict(target: str, first: _At, second: _At) -> ConflictError:
    """Two exceptions both apply: the contract does not say which decides, so neither does."""
    return ConflictError(
        f"two exceptions both decide '{target}' for these facts",
        file=first[0], line=first[1], column=first[2], section=first[3],
        other=_position(*second))


class NotInForceError(ClauseError, AttributeError):
    """A provision that is not in force in the version asked for: deleted by an amendment,
    or added by one that is not yet effective."""


class Version:
    """The agreement as in force from `effective` (the original: from its start) until the
    next version. Its terms, conditions, obligations and powers are its attributes."""

    def __init__(self, label: str, effective: date | None,
                 evaluators: dict[str, Callable[..., Any]],
                 explainers: dict[str, Callable[..., Explanation]],
                 sections: dict[str, tuple[str | None, str]],
                 absent: dict[str, str], facts: dict[str, tuple[str, str]],
                 instances: Callable[..., Any] | None = None,
                 upon: Callable[[Any], date | None] | None = None) -> None:
        self.label = label
        self.effective = effective
        # For an amendment effective upon an event: the facts -> the date it happened (it
        # takes effect then, not before `effective`), or None while it has not.
        self.upon = upon
        # (facts, start, end) -> the obligations and powers that may fall due then
        self.instances: Callable[..., Any] = instances or (lambda facts, start, end: ())
        self.sections = sections
        self._evaluators = evaluators
        self._explainers = explainers
        self._absent = absent
        self._facts = facts  # clause name -> (attribute of Facts, kind)
        for name, function in evaluators.items():
            if not hasattr(type(self), name) and name not in self.__dict__:
                self.__dict__[name] = function

    def __repr__(self) -> str:
        return f"<Version {self.label}>"

    def __getattr__(self, name: str) -> Any:
        absent: dict[str, str] = self.__dict__.get("_absent", {})
        if name in absent:
            raise NotInForceError(absent[name])
        known = list(self.__dict__.get("_evaluators", {}))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise AttributeError(f"the agreement has no provision {name!r}{hint}")

    def evaluate(self, name: str, facts: object, *args: object) -> object:
        """The value of a term, condition, obligation, power or fact, by name."""
        if name in self._absent:
            raise NotInForceError(self._absent[name])
        if name in self._evaluators:
            return self._evaluators[name](facts, *args)
        if name in self._facts:
            return getattr(facts, self._facts[name][0])
        raise self._unknown(name)

    def explain(self, name: str, facts: object, *args: object) -> Explanation:
        """Why `name` has its value for these facts, in this version."""
        if name in self._absent:
            raise NotInForceError(self._absent[name])
        if name in self._explainers:
            return self._explainers[name](facts, *args)
        if name in self._facts:
            attribute, kind = self._facts[name]
            return Explanation(label=name, value=getattr(facts, attribute), kind=kind,
                               section=None, file=None, line=None, note="fact")
        raise self._unknown(name)

    def _unknown(self, name: str) -> ClauseError:
        if name in self._absent:
            return NotInForceError(self._absent[name])
        return _unknown_name(name, tuple(self._evaluators) + tuple(self._facts))


def _effective(version: Version, facts: object) -> date | None:
    """The day `version` takes effect for these facts; None if it has not (an amendment
    effective upon an event that has not happened, or whose facts are not known)."""
    if version.upon is None:
        return version.effective
    happened = version.upon(facts) if facts is not None else None
    if happened is None:
        return None
    if isinstance(happened, datetime):
        happened = happened.date()
    return max(happened, version.effective) if version.effective else happened


def _version_at(versions: Sequence[Version], day: date, facts: object = None) -> Version:
    """The version in force on `day`: the last to have taken effect by then (an amendment
    effective upon an event only when `facts` say the event happened)."""
    if isinstance(day, datetime):
        day = day.date()
    chosen = versions[0]
    for version in versions[1:]:
        effective = _effective(version, facts)
        if effective is not None and effective <= day:
            chosen = version
    return chosen


def _version_now(versions: Sequence[Version], facts: object) -> Version:
    """The agreement as in force now: its latest version, but an amendment effective upon
    an event only once the facts say the event happened."""
    for version in reversed(versions):
        if version.upon is None or _effective(version, facts) is not None:
            return version
    return versions[0]


EXACT: Final = _EXACT  # prelude: skip
EMAX: Final = _EMAX  # prelude: skip
EMIN: Final = _EMIN  # prelude: skip
POWER_DIGITS: Final = _POWER_DIGITS  # prelude: skip
QUOTIENT_DIGITS: Final = _QUOTIENT_DIGITS  # prelude: skip
At = _At  # prelude: skip
located_error = _error  # prelude: skip
divide = _div  # prelude: skip
exponentiate = _pow  # prelude: skip
round_half_up = _round  # prelude: skip
earliest = _earliest  # prelude: skip
latest = _latest  # prelude: skip
total = _total  # prelude: skip
days_between = _days_between  # prelude: skip
moment_part = _moment_part  # prelude: skip
unknown_fact = _unknown_fact  # prelude: skip
unknown_name = _unknown_name  # prelude: skip
conflict = _conflict  # prelude: skip
