"""Contract logic as z3 formulas: proofs of invariants and of the equivalence of versions.

The translation follows the generated code (codegen.py) construct by construct, so that
"proved" means "the compiled module computes this for every facts object":

- facts range over their types (dates of facts from 1800 to 2199, integer facts of at
  most 1,000 digits, day counts from 0, a party fact over the agreement's parties;
  arguments of a term compared likewise);
- every expression becomes a `Sym`: its value, whether it has one (`present`: an optional
  fact may be missing, an "earlier of" of nothing has none), and what evaluating it
  raises (`err`: nothing, MissingFactError, NoValueError, or another error), in the
  order the code raises them;
- booleans are z3 Bools; integers, day counts and month counts Ints; decimals, money and percentages
  Reals (the compiled code's + - * are exact at any size); dates Ints (their ordinal day
  number); parties and text Strings; a member of a choice is the String of its name, and
  a choice fact ranges over the members of its choice (a finite domain, exactly as the
  compiled Facts class reads one); `none` has no value, `(X when C)` is X where C holds
  and no value elsewhere, `case` picks the arm of its subject's member;
- a fact's `where` (its constraint) is assumed for every fact that has one, as the
  compiled Facts class refuses facts that break it: where the fact is given, its
  constraint holds (both the constraint of the version translated and that of the
  Facts class, when they differ); a constraint out of reach is left out, which keeps a
  proof sound (it covers more facts), and a counterexample is confirmed by the code;
- a quotient is exact in the code when it terminates, and otherwise rounded half-even to
  28 significant digits after its whole-number part: z3 gets it exactly where that is
  certain (constants, a division by a constant whose inverse terminates), and elsewhere
  as a value within half of 1E-28 of the exact quotient, of its sign, equal to it when
  the quotient terminates within 28 places, and from 0.1 up either exact or a multiple
  of 1E-28 -- every value the code may compute, so a proof holds whichever it is;
- products of two non-constant numbers, divisions by one and powers of one with a
  constant exponent are non-linear: z3 often decides them, and `Unknown` (a timeout)
  is the answer where it does not. The code raises where a result leaves the limits of
  numbers (1E+1000000, or a power of more than 10,000 digits): static bounds on the
  size of the operands (`Translator.size`; number facts are below 1E+1001 with at most
  1,000 decimal places, integer facts have at most 1,000 digits in proofs) show that it
  cannot; where they do not, z3 lets the result raise or not beyond 10**_GUARD;
- `and`, `or`, `unless`, `all of`, `any of`, `none of` are three-valued (Kleene's
  logic) where the compiled code makes them so (codegen's `unknowable`: an item may find
  a fact or value missing): an item that decides the answer decides it even when
  another item raises MissingFactError or NoValueError; an item that raises another
  error raises it if no earlier item decided; undecided, the first unknown item's error
  (in source order) is raised. Elsewhere no item can be unknown, and they short-circuit
  as Python does (an item that would raise is not reached when an earlier one decided),
  which is the same. `if` evaluates one branch, exceptions to a term are an
  if-then-else chain (two that apply with different values raise, as `ConflictError`
  does), definitions are inlined with their arguments.

Out of reach (`OutOfReach`): business-day shifts (of any calendar), shifts by months or
years (the end-of-month rule), datetimes and close of business, periods (`containing`,
`first`, `start of`, `next`..., business days of a period), values per period (series
facts), aggregates over ranges of periods, recurring obligations and powers, the
fields and lateness of obligations, lists, records and tables (and what is computed
from them: aggregates over a list, allocations, present values),
`month/day` of a date that is not a constant, `^` with an exponent that is not a
constant (or beyond 32 for a base that is not). `Translator(..., abstract=True)` replaces
those by fresh unconstrained variables instead: good only for finding candidate
counterexamples, which must then be confirmed by running the compiled code, never for
proofs.

API (used by `clausec verify`, verify.py, and by the semantic diff):

    check_invariant(checked, invariant, timeout_ms=10_000, facts=None) -> SmtResult
    check_equivalent(before, after, name, timeout_ms=10_000) -> SmtResult
    translate(checked, facts=None) -> Translator     # .value(name) -> Sym, .holds(inv)
    unsatisfiable(checked, facts=None) -> list[str]  # facts whose `where` nothing meets
    complete(facts, declared, header, checked=None)  # the facts a model leaves out

`SmtResult` is one of `Proved()`, `Counterexample(facts, args)` (a facts dict of Python values,
`Decimal`/`date`/`int`/`bool`/`str`, optional facts that are missing left out: feed it to
`Facts(**facts)` or `facts_json(facts)` for a JSON file; `exact` False where the
translation approximates, and the code may not fail on them), `OutOfReach(reason)` and
`Unknown(reason)` (the solver timed out or gave up). An invariant holds on facts where it
evaluates to true, or raises MissingFactError (the facts do not say enough to judge; a
clause may ask a fact only in some cases); any other error is a failure. `check_equivalent` compares the
value of `name` in both versions over the same facts (a fact only one version has is free
in that one): a term's or condition's value (or the error it raises), an obligation's
active flag, amount and due date, a power's availability and its consequences'. A
`Counterexample` of `check_equivalent` is a z3 model: replay it on the compiled modules
(verify.py does so for invariants) before showing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import z3  # type: ignore[import-untyped]

from clausec import ir
from clausec.backends.python.runtime import MAX_EXPONENT, ClauseRuntimeError
from clausec.backends.python.runtime_eval import EMAX, EMIN, POWER_DIGITS, QUOTIENT_DIGITS
from clausec.ir import types as T
from clausec.ir.visit import LIFTABLE, Visitor, operands, subexpressions
from clausec.passes.check import CheckedProgram, union_of_facts

# ---------------------------------------------------------------------- results


@attrs.frozen
class Proved:
    method: str = "z3"


@attrs.frozen
class Counterexample:
    facts: dict[str, Any]
    # The arguments of a parametrised term compared by check_equivalent, by parameter.
    args: dict[str, Any] = attrs.field(factory=dict)
    # False where the translation leaves z3 a choice the code does not have (the digits
    # of a rounded quotient, whether a result beyond 10**_GUARD raises): the model may
    # choose otherwise than the code, which then does not fail on these facts.
    exact: bool = True


@attrs.frozen
class OutOfReach:
    reason: str


@attrs.frozen
class Unknown:
    reason: str


SmtResult = Proved | Counterexample | OutOfReach | Unknown


class OutOfReachError(Exception):
    """Raised while translating a construct z3 cannot decide exactly."""

    def __init__(self, reason: str, span: object = None):
        super().__init__(reason)
        self.reason = reason
        self.span = span


# ---------------------------------------------------------------------- values

_INT = frozenset({"integer", "days", "business_days", "months"})
_COUNTS = frozenset({"days", "business_days", "months"})  # facts of these kinds are 0 or more
# The dates Python can represent: arithmetic that leaves them raises OverflowError.
_MIN_DAY, _MAX_DAY = date.min.toordinal(), date.max.toordinal()
# The dates facts range over in proofs: a contract's events are not in the year 9999 (where
# "10 days after" would overflow), so the domain is two centuries either side of 2000.
FIRST_FACT_DAY, LAST_FACT_DAY = date(1800, 1, 1).toordinal(), date(2199, 12, 31).toordinal()
TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)

# Static bounds on the size of a number (`Translator.size`): (high, low, place) says
# that its magnitude is below 10**high, at least 10**low unless it is 0, and that it is a
# multiple of 10**place; inf and -inf where nothing bounds it. A number fact has at most
# MAX_EXPONENT digits either side of the point (the Facts class refuses more). An integer
# fact may have any number of digits, but in proofs it has at most MAX_EXPONENT, as dates
# are within two centuries: far beyond any contract's numbers, and it keeps products and
# quotients of integer facts within the limits where the code raises.
Size = tuple[float, float, float]
_ANY_SIZE: Size = (math.inf, -math.inf, -math.inf)
_NUMBER_FACT_SIZE: Size = (MAX_EXPONENT + 1, -MAX_EXPONENT, -MAX_EXPONENT)
_INTEGER_FACT_SIZE: Size = (MAX_EXPONENT, 0, 0)
_INTEGER_SIZE: Size = (math.inf, 0, 0)
_DAY_SIZE: Size = (len(str(date.max.toordinal())), 0, 0)
# Where an operand of non-linear arithmetic has no static bound that keeps the result
# within the limits of numbers, z3 takes it as bounded by 10**_GUARD (both ways), and the
# result as one that may raise or not beyond that: what the code does is among both.
_GUARD = 100
# How far a rounded quotient may be from the exact one: half a unit of its last place.
_QUOTIENT_ERROR = Fraction(1, 2 * 10 ** QUOTIENT_DIGITS)
# Longer powers are written as products in z3 only up to this exponent.
_MAX_TRANSLATED_EXPONENT = 32


# What evaluating an expression raises, as a z3 Int: nothing, MissingFactError (the facts
# are incomplete), NoValueError (a term with no value used where one is needed), or
# another error (division by zero, a date out of range, ConflictError).
OK, MISSING_FACT, NO_VALUE, OTHER = (z3.IntVal(n) for n in range(4))


def new_query() -> None:
    """Start a query in a new z3 context. Which model z3 finds depends on the terms made
    before in its context, so without this the same question asked in a long-lived process
    (a test run, the language server) could get another counterexample than in a new one,
    and summaries and diffs would not be reproducible. Every entry point calls it before
    it makes a term."""
    global TRUE, FALSE, OK, MISSING_FACT, NO_VALUE, OTHER
    z3.z3._main_ctx = None  # z3.main_ctx() makes a new one at its next use
    TRUE, FALSE = z3.BoolVal(True), z3.BoolVal(False)
    OK, MISSING_FACT, NO_VALUE, OTHER = (z3.IntVal(n) for n in range(4))


@attrs.frozen
class Sym:
    """An expression's value in z3: `value` (meaningful when `present`), `present` (it
    has a value; meaningful when it raises nothing), `err` (what it raises: OK,
    MISSING_FACT, NO_VALUE or OTHER)."""

    value: Any
    # Factories, not values: each query makes its constants anew (new_query).
    present: Any = attrs.field(factory=lambda: TRUE)
    err: Any = attrs.field(factory=lambda: OK)

    @property
    def ok(self) -> Any:
        return _is(self.err, OK)


def _is(err: Any, kind: Any) -> Any:
    if z3.is_int_value(err):
        return z3.BoolVal(err.as_long() == kind.as_long())
    return err == kind


def _and(*xs: Any) -> Any:
    xs = tuple(x for x in xs if not z3.is_true(x))
    if any(z3.is_false(x) for x in xs):
        return FALSE
    return xs[0] if len(xs) == 1 else z3.And(*xs) if xs else TRUE


def _or(*xs: Any) -> Any:
    xs = tuple(x for x in xs if not z3.is_false(x))
    if any(z3.is_true(x) for x in xs):
        return TRUE
    return xs[0] if len(xs) == 1 else z3.Or(*xs) if xs else FALSE


def _not(x: Any) -> Any:
    return FALSE if z3.is_true(x) else TRUE if z3.is_false(x) else z3.Not(x)


def _implies(a: Any, b: Any) -> Any:
    if z3.is_true(b) or z3.is_false(a):
        return TRUE
    if z3.is_true(a):
        return b
    return z3.Implies(a, b)


def _if(c: Any, a: Any, b: Any) -> Any:
    # None is the value of what has no value (`none`): any value stands for it.
    if a is None or b is None:
        return b if a is None else a
    if z3.is_true(c):
        return a
    if z3.is_false(c):
        return b
    if a is b or (isinstance(a, z3.ExprRef) and isinstance(b, z3.ExprRef) and a.eq(b)):
        return a
    return z3.If(c, a, b)


def seq(*errs: Any) -> Any:
    """The error of evaluating things one after the other: the first one raised."""
    result = OK
    for err in reversed(errs):
        result = err if result is OK else _if(_is(err, OK), result, err)
    return result


def guard(condition: Any, err: Any) -> Any:
    """The error of evaluating something only when `condition` holds."""
    return err if err is OK else _if(condition, err, OK)


def then(first: Sym, value: Any, second: Sym, present: Any = None) -> Sym:
    """`second` evaluated after `first` (if `first` raises, `second` is never reached)."""
    return Sym(value, second.present if present is None else present,
               seq(first.err, second.err))


def failing(ok: Any, sym: Sym) -> Sym:
    """`sym`, raising (another error) where `ok` is false."""
    return Sym(sym.value, sym.present, seq(sym.err, _if(ok, OK, OTHER)))


def _sort(type_: T.Type | None) -> Any:
    kind = (type_ or T.ERROR).kind
    if kind == "bool":
        return z3.BoolSort()
    if kind in T.DECIMALS:
        return z3.RealSort()
    if kind in _INT or kind == "date":
        return z3.IntSort()
    if kind in ("party", "text", "choice"):
        return z3.StringSort()  # a member of a choice: its name
    if kind == "period":
        raise OutOfReachError(_PERIODS)
    if kind in ("list", "record", "share"):
        raise OutOfReachError(_LISTS)
    raise OutOfReachError(f"values of type {type_} are not translated")


# Why the constructs of contracts that run over time are out of reach.
_PERIODS = "periods (their dates, stubs, fiscal years and the end-of-month rule)"
_SERIES = "values per period (series facts)"
_RECURRING = "recurring obligations and powers (one instance per period)"
# Why lists are: a list fact has any number of items.
_LISTS = ("lists, records and tables (and what is computed from them: aggregates over a "
          "list, allocations, present values)")


def _placeholder(type_: T.Type | None) -> Any:
    """A value of the sort of `type_`, for what has none (`none`): never looked at."""
    sort = _sort(type_)
    if sort == z3.BoolSort():
        return FALSE
    if sort == z3.RealSort():
        return _real(0)
    if sort == z3.IntSort():
        return z3.IntVal(0)
    return z3.StringVal("")


def _to(value: Any, type_: T.Type | None) -> Any:
    """An Int where a decimal is expected becomes a Real (the generated code's Decimal())."""
    if value is None:
        return value
    if (type_ or T.ERROR).kind in T.DECIMALS and z3.is_int(value):
        return z3.ToReal(value)
    return value


def _numeral(value: Any) -> Fraction | None:
    """The constant a z3 term simplifies to, or None."""
    simple = z3.simplify(value)
    if z3.is_int_value(simple):
        return Fraction(simple.as_long())
    if z3.is_rational_value(simple):
        return Fraction(simple.numerator_as_long(), simple.denominator_as_long())
    return None


def _real(q: Fraction | Decimal | int) -> Any:
    q = Fraction(q)
    return z3.RealVal(f"{q.numerator}/{q.denominator}")


def _finite_decimal(q: Fraction) -> bool:
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def to_decimal(q: Fraction) -> Decimal | None:
    """A rational as an exact Decimal, or None if its decimal expansion does not end."""
    if not _finite_decimal(q):
        return None
    places = 0
    while (q * 10 ** places).denominator != 1:
        places += 1
    whole = int(q * 10 ** places)
    # From its digits: arithmetic (scaleb) would round to the context's 28 digits.
    return Decimal((int(whole < 0), tuple(map(int, str(abs(whole)))), -places))


# ---------------------------------------------------------------------- facts


@attrs.define
class FactSpace:
    """The z3 variables of the facts, shared by the translators of the versions compared
    (a fact of the same name and kind is the same variable in both)."""

    values: dict[tuple[str, str], Any] = attrs.field(factory=dict)
    given: dict[str, Any] = attrs.field(factory=dict)
    optional: dict[str, bool] = attrs.field(factory=dict)
    decls: dict[str, ir.Fact] = attrs.field(factory=dict)
    constraints: list[Any] = attrs.field(factory=list)
    parties: tuple[str, ...] = ()
    params: dict[tuple[str, str], Any] = attrs.field(factory=dict)
    # The sizes of the variables (Translator.size), by z3 term id.
    sizes: dict[int, Size] = attrs.field(factory=dict)
    # One variable per rounded quotient, by the ids of its dividend and divisor: the same
    # division in both versions compared has one value, as in the code.
    quotients: dict[tuple[int, int], tuple[Any, Any]] = attrs.field(factory=dict)
    # Whether the code raises beyond the bounds _GUARD sets, by the id of the result.
    choices: dict[int, Any] = attrs.field(factory=dict)
    # Whether a formula over these facts has non-linear arithmetic, and whether its
    # translation leaves z3 choices the code does not have (Counterexample.exact).
    nonlinear: bool = False
    approximate: bool = False
    # The terms whose ids are keys above: z3 gives the id of a term it has freed to the
    # next one it makes.
    alive: list[Any] = attrs.field(factory=list)
    # The members a choice fact (or argument) may be, by the id of its variable: those of
    # its choice in every version translated (a member only one version has is a value
    # the Facts class may take, and a version without it has no arm for it).
    domains: dict[int, tuple[Any, set[str]]] = attrs.field(factory=dict)
    # The facts' `where` constraints assumed so far: (fact, kind, constraint's shape).
    constrained: set[tuple[str, str, str]] = attrs.field(factory=set)

    def domain(self, var: Any, members: Iterable[str]) -> None:
        """`var` is a member of a choice with these members."""
        self.domains.setdefault(var.get_id(), (var, set()))[1].update(members)

    def assumptions(self) -> list[Any]:
        """What every fact (and argument) satisfies: the ranges of their types, the
        choices' members, the facts' constraints."""
        domains = [z3.Or(*[var == z3.StringVal(m) for m in sorted(members)])
                   for var, members in self.domains.values() if members]
        return [*self.constraints, *domains]

    def param(self, param: ir.Parameter) -> Sym:
        """A parameter of the term compared: one variable for both versions."""
        key = (param.name, param.type.kind)
        if key not in self.params:
            var = z3.Const(f"({param.name})", _sort(param.type))
            self.params[key] = var
            # Arguments range as facts do.
            self.sizes[var.get_id()] = _variable_size(param.type.kind)
            if param.type.kind == "date":
                self.constraints.append(z3.And(var >= FIRST_FACT_DAY, var <= LAST_FACT_DAY))
            elif param.type.kind in _COUNTS:
                self.constraints.append(var >= 0)
            elif param.type.kind == "integer":
                self.constraints.append(_integer_range(var))
        return Sym(self.params[key])

    def to_args(self, model: z3.ModelRef) -> dict[str, Any]:
        return {name: _python_value(model.eval(var, model_completion=True), kind)
                for (name, kind), var in self.params.items()}

    def fact(self, fact: ir.Fact, optional: bool) -> Sym:
        kind = fact.type.kind
        key = (fact.name, kind)
        if key not in self.values:
            sort = _sort(fact.type)
            var = z3.Const(fact.name, sort) if not any(
                k[0] == fact.name for k in self.values) else z3.Const(f"{fact.name}:{kind}", sort)
            self.values[key] = var
            self.decls[fact.name] = fact
            self.sizes[var.get_id()] = _variable_size(kind)
            self.constraints += self.ranged(var, kind)
        if fact.name not in self.given:
            self.given[fact.name] = z3.Bool(f"{fact.name} is given")
        given = self.given[fact.name]
        self.optional[fact.name] = optional
        return Sym(self.values[key], given if optional else TRUE)

    def ranged(self, var: Any, kind: str) -> list[Any]:
        """The values a fact of this kind ranges over in proofs."""
        if kind == "date":
            return [z3.And(var >= FIRST_FACT_DAY, var <= LAST_FACT_DAY)]
        if kind in _COUNTS:
            return [var >= 0]
        if kind == "integer":
            return [_integer_range(var)]
        if kind == "party" and self.parties:
            return [z3.Or(*[var == z3.StringVal(p) for p in self.parties])]
        return []

    def to_facts(self, model: z3.ModelRef) -> dict[str, Any]:
        """The facts dict of a model: missing optional facts left out."""
        out: dict[str, Any] = {}
        for (name, kind), var in self.values.items():
            given = self.given[name]
            if self.optional.get(name) and z3.is_false(model.eval(given, model_completion=True)):
                continue
            out[name] = _python_value(model.eval(var, model_completion=True), kind)
        return out


def _variable_size(kind: str) -> Size:
    if kind == "date":
        return _DAY_SIZE
    if kind == "integer":
        return _INTEGER_FACT_SIZE
    if kind in _INT:
        return _INTEGER_SIZE  # a day count: never in Decimal arithmetic
    return _NUMBER_FACT_SIZE if kind in T.DECIMALS else _ANY_SIZE


def _integer_range(var: Any) -> Any:
    bound = z3.IntVal(10 ** _INTEGER_FACT_SIZE[0])
    return z3.And(var > -bound, var < bound)


def _python_value(value: Any, kind: str) -> Any:
    if kind == "bool":
        return z3.is_true(value)
    if kind == "date":
        return date.fromordinal(min(max(value.as_long(), _MIN_DAY), _MAX_DAY))
    if kind in _INT:
        return value.as_long()
    if kind in T.DECIMALS:
        if z3.is_algebraic_value(value):
            # An irrational root (x * x == 2): a candidate close to it, for the code to try.
            value = value.approx(QUOTIENT_DIGITS)
        q = _numeral(value)
        assert q is not None
        exact = to_decimal(q)
        return exact if exact is not None else Decimal(q.numerator) / Decimal(q.denominator)
    return value.as_string()


def simple_value(fact: ir.Fact, header: ir.Header,
                 declarations: Mapping[str, object] | None = None) -> Any:
    """The simplest value of a fact: what a counterexample gives a required fact the
    property does not depend on. `declarations` (the program's) give the members of a
    choice (its first) and the fields of a record; a list is empty."""
    if fact.per is not None:
        return {}  # a series with no values: each period it is asked for is missing
    return _simple(fact.type, header, declarations or {})


def _simple(type_: T.Type, header: ir.Header, declarations: Mapping[str, object]) -> Any:
    from zoneinfo import ZoneInfo
    kind = type_.kind
    if kind == "list":
        return []
    if kind == "choice":
        choice = declarations.get(type_.name or "")
        return choice.members[0].name if isinstance(choice, ir.Choice) and choice.members \
            else ""
    if kind == "record":
        record = declarations.get(type_.name or "")
        fields = record.fields if isinstance(record, (ir.Record, ir.Table)) else ()
        return {f.name: _simple(f.type, header, declarations) for f in fields}
    day = header.dated or header.effective or date(2000, 1, 1)
    if kind == "datetime":
        return datetime.combine(day, datetime.min.time(),
                                tzinfo=ZoneInfo(header.time_zone or "UTC"))
    if kind == "party":
        return header.parties[0].name if header.parties else ""
    simple: dict[str, Any] = {
        "bool": False, "integer": 0, "decimal": Decimal(0), "money": Decimal(0),
        "percent": Decimal(0), "date": day, "days": 0, "business_days": 0, "months": 0,
        "text": "",
    }
    return simple[kind]


def complete(facts: Mapping[str, Any], declared: Mapping[str, ir.Fact], header: ir.Header,
             checked: CheckedProgram | None = None) -> dict[str, Any]:
    """`facts` with the simplest value for each required fact (without default) missing.
    With `checked` (the program), a choice's first member, a record's simplest fields,
    and, for a fact whose `where` refuses its simplest value, the simplest value z3 finds
    that it allows (the simplest value still where no value is found, or the constraint
    is out of reach: the code then refuses the facts)."""
    out = dict(facts)
    declarations = checked.declarations if checked is not None else {}
    for name, fact in declared.items():
        if name not in out and not fact.type.optional and fact.default is None:
            value = simple_value(fact, header, declarations)
            if checked is not None and fact.constraint is not None and fact.per is None:
                value = _allowed_value(fact, checked, value)
            out[name] = value
    return out


# The simplest allowed values found, by fact and constraint: complete() is called for
# every example a search tries.
_ALLOWED: dict[tuple[object, ...], Any] = {}


def _allowed_value(fact: ir.Fact, checked: CheckedProgram, value: Any,
                   timeout_ms: int = 2000) -> Any:
    """`value` if the fact's constraint allows it, else the simplest value z3 finds that
    it allows (in the current z3 context: the query it is part of is answered), else
    `value`."""
    from clausec.ir.visit import shape

    key = (fact.name, shape(fact.type), shape(fact.constraint), repr(value),
           tuple(p.name for p in checked.header.parties))
    if key in _ALLOWED:
        return _ALLOWED[key]
    found = value
    try:
        var = z3.FreshConst(_sort(fact.type), "allowed")
        translator = Translator(checked, {fact.name: fact})
        allows = translator.allows(fact, Sym(var))
        if allows is not None and not z3.is_true(z3.simplify(z3.substitute(
                allows, (var, _constant(value, fact.type.kind))))):
            found = _satisfying(allows, var, fact, translator.space, checked.header.dated,
                                timeout_ms, value)
    except OutOfReachError:
        pass
    if len(_ALLOWED) > 10_000:
        _ALLOWED.clear()
    _ALLOWED[key] = found
    return found


def _constant(value: Any, kind: str) -> Any:
    """A Python value of a fact as the z3 term the translation gives it."""
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return z3.IntVal(value.toordinal())
    if isinstance(value, int) and kind in _INT:
        return z3.IntVal(value)
    if isinstance(value, (int, Decimal)):
        return _real(Decimal(value))
    if isinstance(value, str):
        return z3.StringVal(value)
    raise OutOfReachError(f"a value of type {kind}")


def _satisfying(allows: Any, var: Any, fact: ir.Fact, space: FactSpace, around: date | None,
                timeout_ms: int, otherwise: Any) -> Any:
    """The value of `var` in a (readable) model of `allows`, or `otherwise`."""
    ranged = space.ranged(var, fact.type.kind)
    for extra in (_nice(var, fact.type.kind, around), []):
        solver = _solver(timeout_ms)
        solver.add(*space.assumptions(), *ranged, allows, *extra)
        if solver.check() == z3.sat:
            return _python_value(solver.model().eval(var, model_completion=True),
                                 fact.type.kind)
    return otherwise


def unsatisfiable(checked: CheckedProgram, facts: Mapping[str, ir.Fact] | None = None,
                  timeout_ms: int = 2000) -> list[str]:
    """The facts (of `facts`, default the program's) whose `where` no value satisfies, as
    far as z3 can tell (a constraint out of its reach is not listed): the compiled Facts
    class refuses every value of such a fact, so no facts object has it (a required one:
    no facts object at all)."""
    new_query()
    translator = Translator(checked, facts)
    found = []
    for name, fact in translator.facts.items():
        if fact.constraint is None or fact.per is not None:
            continue
        try:
            var = z3.FreshConst(_sort(fact.type), "allowed")
            allows = translator.allows(fact, Sym(var))
        except OutOfReachError:
            continue
        if allows is None:
            continue
        solver = _solver(timeout_ms)
        solver.add(*translator.space.assumptions(),
                   *translator.space.ranged(var, fact.type.kind), allows)
        if solver.check() == z3.unsat:
            found.append(name)
    return found


# ---------------------------------------------------------------- translation

@attrs.define
class _Env:
    params: dict[str, Sym] = attrs.field(factory=dict)
    subst: dict[int, Sym] = attrs.field(factory=dict)


class Translator(Visitor):
    """One checked program (a version of an agreement) in z3."""

    def __init__(self, checked: CheckedProgram, facts: Mapping[str, ir.Fact] | None = None,
                 space: FactSpace | None = None, abstract: bool = False):
        self.c = checked
        self.decls = checked.declarations
        self.facts = dict(facts) if facts is not None else union_of_facts([checked])
        self.space = space or FactSpace(parties=tuple(p.name for p in checked.header.parties))
        self.abstract = abstract
        self.abstracted: list[str] = []  # what was replaced by a free variable, and why
        self._memo: dict[str, Sym] = {}
        self._years: dict[int, Any] = {}
        self._ordering = False
        self._unknown: dict[int, bool] = {}  # _unknowable, by node id

    # ----------------------------------------------------------- entry points

    def value(self, name: str) -> Sym:
        """The value of a parameterless term, condition or invariant (as a condition)."""
        decl = self.decls.get(name)
        if isinstance(decl, ir.Invariant):
            return self.definition(decl.as_condition(), _Env())
        if isinstance(decl, ir.Definition):
            # A parametrised term: for all arguments (shared by the versions compared).
            params = {p.name: self.space.param(p) for p in decl.params}
            for p in decl.params:
                if p.type.kind == "choice":
                    self.space.domain(params[p.name].value, self._members(p.type))
            return self.definition(decl, _Env(params))
        if isinstance(decl, ir.Fact):
            return self.fact(decl)
        raise OutOfReachError(f"'{name}' is not a term, condition or invariant")

    def holds(self, invariant: ir.Invariant) -> Any:
        """The z3 formula that says the compiled invariant holds: it returns true, or it
        raises MissingFactError (the facts are incomplete: no case to judge)."""
        sym = self.definition(invariant.as_condition(), _Env())
        return z3.Or(_and(sym.ok, sym.present, sym.value), _is(sym.err, MISSING_FACT))

    # ----------------------------------------------------------- declarations

    def fact(self, decl: ir.Fact) -> Sym:
        if decl.per is not None:
            raise OutOfReachError(_SERIES)
        fact = self.facts.get(decl.name, decl)
        sym = self.space.fact(decl, fact.type.optional)
        if decl.type.kind == "choice":
            self.space.domain(sym.value, self._members(decl.type))
        for source in (fact, decl):  # the Facts class's constraint, and this version's
            if source.type.kind == decl.type.kind:
                self._assume(source, sym)
        return sym

    def _members(self, type_: T.Type) -> tuple[str, ...]:
        choice = self.decls.get(type_.name or "")
        return tuple(m.name for m in choice.members) if isinstance(choice, ir.Choice) else ()

    def _assume(self, fact: ir.Fact, sym: Sym) -> None:
        """Assume the fact's `where` wherever the fact is given (once per constraint)."""
        from clausec.ir.visit import shape

        if fact.constraint is None:
            return
        key = (fact.name, fact.type.kind, repr(shape(fact.constraint)))
        if key in self.space.constrained:
            return
        self.space.constrained.add(key)
        try:
            allows = self.allows(fact, sym)
        except OutOfReachError:
            return  # not assumed: a proof covers more facts than the code takes
        if allows is not None:
            self.space.constraints.append(_implies(sym.present, allows))

    def allows(self, fact: ir.Fact, sym: Sym) -> Any | None:
        """Where the fact's `where` holds of the value `sym.value` (it raises nothing and
        is true, as the Facts class requires); None if the fact has no constraint."""
        if fact.constraint is None:
            return None
        if fact.type.kind == "choice":
            self.space.domain(sym.value, self._members(fact.type))
        abstract, self.abstract = self.abstract, False  # an assumption must be exact
        try:
            holds = self.expr(fact.constraint, _Env({fact.name: Sym(sym.value)}))
        finally:
            self.abstract = abstract
        return _and(holds.ok, holds.present, holds.value)

    def definition(self, d: ir.Definition, env: _Env) -> Sym:
        if not d.params and d.name in self._memo:
            return self._memo[d.name]
        if not self._ordering:
            self._encode_used_first(d)
            if not d.params and d.name in self._memo:
                return self._memo[d.name]
        if d.params and not env.params:
            raise OutOfReachError(f"'{d.name}' takes parameters")
        declared = d.declared_type
        general = self.coerce(self.expr(d.expr, env, strict=not (declared or T.ERROR).optional),
                              declared or d.expr.type)
        exceptions = self.c.exceptions.get(d.name, ())
        result = general
        if len(exceptions) == 1:
            e = exceptions[0]
            cond = self.expr(e.condition, env)
            value = self.coerce(self.expr(e.value, env), declared)
            result = Sym(_if(cond.value, value.value, general.value),
                         _if(cond.value, value.present, general.present),
                         seq(cond.err, _if(cond.value, value.err, general.err)))
        elif exceptions:
            result = self._exceptions(exceptions, general, declared, env)
        if not d.params:
            self._memo[d.name] = result
        return result

    def _encode_used_first(self, d: ir.Definition) -> None:
        """Encode the parameterless terms `d` stands on, each after those it uses (the
        checker's order), so that encoding one finds the others already done: a chain of
        terms, each defined by the next, is then encoded in a loop, not one Python frame
        per term. A term out of reach is left for `d`'s own encoding to report."""
        reached: set[str] = set()
        stack = list(ir.names_used(d.expr))  # `d` may be an invariant's condition
        for exc in self.c.exceptions.get(d.name, ()):
            stack += ir.names_used((exc.condition, exc.value))
        while stack:
            name = stack.pop()
            decl = self.decls.get(name)
            if name in reached or name in self._memo or not isinstance(decl, ir.Definition):
                continue
            reached.add(name)
            stack += ir.names_used(decl.expr)
            for exc in self.c.exceptions.get(name, ()):
                stack += ir.names_used((exc.condition, exc.value))
        self._ordering = True
        try:
            for name in self.c.order:
                decl = self.decls.get(name)
                if name in reached and isinstance(decl, ir.Definition) and not decl.params \
                        and name not in self._memo:
                    try:
                        self.definition(decl, _Env())
                    except OutOfReachError:
                        pass
        finally:
            self._ordering = False

    def _exceptions(self, exceptions: Sequence[ir.Exception_], general: Sym,
                    declared: T.Type | None, env: _Env) -> Sym:
        """Several exceptions: every condition is evaluated in order, each value where its
        condition holds; two decided values that differ raise ConflictError."""
        decided: list[tuple[Any, Sym]] = []
        errs = []
        for e in exceptions:
            cond = self.expr(e.condition, env)
            value = self.coerce(self.expr(e.value, env), declared)
            errs += [cond.err, guard(cond.value, value.err)]
            decided.append((cond.value, value))
        conflict = z3.Or(*[z3.And(ci, cj, vi.value != vj.value)
                           for i, (ci, vi) in enumerate(decided)
                           for cj, vj in decided[i + 1:]]) if len(decided) > 1 else FALSE
        any_decided = z3.Or(*[c for c, _ in decided])
        value, present = general.value, general.present
        for c, v in reversed(decided):
            value, present = _if(c, v.value, value), _if(c, TRUE, present)
        return Sym(value, present, seq(*errs, _if(conflict, OTHER, OK),
                                       guard(z3.Not(any_decided), general.err)))

    def coerce(self, sym: Sym, type_: T.Type | None) -> Sym:
        value = sym.value
        if value is None and type_ is not None and type_.kind not in ("nothing", "error"):
            value = _placeholder(type_)  # `none` where a value of type_ may be
        return attrs.evolve(sym, value=_to(value, type_))

    # ------------------------------------------------------------ expressions

    def expr(self, e: ir.Expr, env: _Env, strict: bool = True, lift: bool = False) -> Sym:
        """As codegen's `expr`: strict uses of a value that may be missing raise."""
        if id(e) in env.subst:
            return env.subst[id(e)]
        if lift and e.type is not None and e.type.optional and isinstance(e, LIFTABLE):
            sym = self._lifted(e, env)
        else:
            sym = self._expr(e, env)
        optional = e.type is not None and e.type.optional
        if isinstance(e, ir.Name) and e.name not in env.params and \
                isinstance(self.decls.get(e.name), ir.Fact) and e.name in self.facts:
            optional = self.facts[e.name].type.optional
        if strict and optional:
            fact = isinstance(e, ir.Name) and isinstance(self.decls.get(e.name), ir.Fact) \
                and e.name not in env.params
            missing = MISSING_FACT if fact else NO_VALUE
            return Sym(sym.value, TRUE, seq(sym.err, _if(sym.present, OK, missing)))
        return sym

    def _lifted(self, e: ir.Expr, env: _Env) -> Sym:
        """An operation with no value when an operand has none (codegen's `_maybe`)."""
        inner = _Env(env.params, dict(env.subst))
        lifted = []
        for child in operands(e):
            if child.type is not None and child.type.optional:
                sym = self.expr(child, env, strict=False, lift=True)
                lifted.append(sym)
                inner.subst[id(child)] = Sym(sym.value)
        present = _and(*[s.present for s in lifted])
        body = self._expr(e, inner)
        return Sym(body.value, _and(present, body.present),
                   seq(*[s.err for s in lifted], guard(present, body.err)))

    def _expr(self, e: ir.Expr, env: _Env) -> Sym:
        try:
            sym: Sym = self.handler(e)(e, env)
            return sym
        except OutOfReachError as error:
            if error.span is None:
                error.span = e.span
            if not self.abstract or isinstance(e, (ir.Name, ir.Literal)):
                raise
            try:
                return self._free(e, error.reason)
            except OutOfReachError:
                raise error from None  # a value with no sort (a period): left to its user

    def _free(self, e: ir.Expr, reason: str) -> Sym:
        """A fresh variable for an expression out of reach (abstract mode only)."""
        self.abstracted.append(reason)
        # Fresh names: the translators of two versions share one context, and a name
        # such as "_abstract1" would make their variables one.
        value = z3.FreshConst(_sort(e.type), "abstract")
        optional = e.type is not None and e.type.optional
        present = z3.FreshBool("abstract_given") if optional else TRUE
        return Sym(value, present)

    def _literal(self, e: ir.Literal, env: _Env) -> Sym:
        v = e.value
        if isinstance(v, bool):
            return Sym(z3.BoolVal(v))
        if isinstance(v, int):
            return Sym(z3.IntVal(v))
        if isinstance(v, Decimal):
            return Sym(_real(v))
        if isinstance(v, datetime):
            raise OutOfReachError("a date and time")
        if isinstance(v, date):
            return Sym(z3.IntVal(v.toordinal()))
        return Sym(z3.StringVal(v))

    def _name(self, e: ir.Name, env: _Env) -> Sym:
        if e.name in env.params:
            return env.params[e.name]
        target = self.decls.get(e.name)
        if isinstance(target, ir.Fact):
            if target.type.kind == "datetime":
                raise OutOfReachError(f"'{e.name}' is a date and time")
            return self.fact(target)
        if isinstance(target, ir.Definition):
            return self.definition(target, _Env())
        if isinstance(target, ir.Table):
            raise OutOfReachError(_LISTS)
        return Sym(z3.StringVal(e.name))  # a party, or a member of a choice

    def _call(self, e: ir.Call, env: _Env) -> Sym:
        target = self.decls.get(e.name)
        if isinstance(target, ir.Fact):
            raise OutOfReachError(_SERIES)
        if isinstance(target, (ir.Obligation, ir.Power)):
            raise OutOfReachError(_RECURRING)
        if isinstance(target, ir.Definition):
            args = [self.coerce(self.expr(a, env), p.type) for a, p in zip(e.args, target.params)]
            first = _sequence(args)
            inner = _Env({p.name: Sym(a.value) for p, a in zip(target.params, args)})
            body = self.definition(target, inner)
            return then(first, body.value, body)
        args = [self.expr(a, env) for a in e.args]
        first = _sequence(args)
        if e.name in ("year", "month", "day"):
            if (e.args[0].type or T.ERROR).kind != "date":
                raise OutOfReachError(f"{e.name}() of a date and time")
            q = _numeral(args[0].value)
            if q is None and e.name == "year":
                return Sym(self._year(args[0].value), TRUE, first.err)
            if q is None:
                raise OutOfReachError(f"{e.name}() of a date that is not a constant")
            part = getattr(date.fromordinal(int(q)), e.name)
            return Sym(z3.IntVal(part), TRUE, first.err)
        if e.name == "days_between":
            return Sym(args[1].value - args[0].value, TRUE, first.err)
        return self._round(args, first)

    def _year(self, day: Any) -> Any:
        """year(D) of a date's day number: the y whose January 1 is on or before D and
        the next year's after it (linear integer arithmetic: division by constants)."""
        key = day.get_id()  # z3 shares equal terms: year(D) twice is one variable
        if key in self._years:
            return self._years[key]
        year = z3.FreshInt("year")  # not a name another translator also makes
        self._years[key] = year
        self.space.alive.append(day)
        self.space.sizes[year.get_id()] = (5, 0, 0)

        def january_first(y: Any) -> Any:
            before = y - 1
            return 365 * before + before / 4 - before / 100 + before / 400 + 1

        self.space.constraints.append(z3.And(year >= 1, year <= 9999,
                                             january_first(year) <= day,
                                             day < january_first(year + 1)))
        return year

    def size(self, term: Any) -> Size:
        """Bounds on the size of a number (see `Size`), from those of the facts and
        constants it is computed from. Iterative: a sum of 5,000 fees is a term 5,000
        deep."""
        sizes = self.space.sizes
        stack = [term]
        while stack:
            top = stack[-1]
            if top.get_id() in sizes:
                stack.pop()
                continue
            terms = _size_operands(top)
            pending = [t for t in terms if t.get_id() not in sizes]
            if pending:
                stack += pending
                continue
            stack.pop()
            sizes[top.get_id()] = _size_of(top, [sizes[t.get_id()] for t in terms])
            self.space.alive.append(top)
        return sizes[term.get_id()]

    def _limits(self, terms: Sequence[Any], within: Callable[[list[Size]], bool],
                places: bool = False) -> Any:
        """Where the code's result of an operation on `terms` surely stays within the
        limits of numbers (`within` says whether sizes of operands keep it there): TRUE
        if their static sizes do; otherwise where each is bounded by 10**_GUARD (with
        `places`, in its number of decimal places too)."""
        sizes = [self.size(t) for t in terms]
        if within(sizes):
            return TRUE
        guards, bounded = [], []
        for term, (high, low, place) in zip(terms, sizes):
            big = _real(Fraction(10 ** _GUARD)) if z3.is_real(term) else z3.IntVal(10 ** _GUARD)
            if high > _GUARD:
                guards += [term < big, term > -big]
            if low < -_GUARD:
                small = _real(Fraction(1, 10 ** _GUARD))
                guards.append(z3.Or(term == 0, term >= small, term <= -small))
            if places and place < -_GUARD:
                guards.append(z3.IsInt(term * big))
            bounded.append((min(high, _GUARD), max(low, -_GUARD), max(place, -_GUARD)))
        assert within(bounded)
        return z3.And(*guards)

    def _may_raise(self, surely_not: Any, value: Any) -> Any:
        """Whether the code raises, where it surely does not under `surely_not` and may or
        may not elsewhere: a free choice for z3 there, one per result."""
        if z3.is_true(surely_not):
            return FALSE
        key = value.get_id()
        if key not in self.space.choices:
            self.space.choices[key] = z3.FreshBool("beyond_limits")
            self.space.alive.append(value)
            self.space.approximate = True
        return z3.And(z3.Not(surely_not), self.space.choices[key])

    def _round(self, args: list[Sym], first: Sym) -> Sym:
        """round(x, k), half up: exact, with z3's ToInt (which is floor)."""
        places = _numeral(args[1].value)
        if places is None:
            raise OutOfReachError("round() to a number of places that is not a constant")
        if not EMIN <= places <= EMAX:  # the code refuses to round there
            return failing(FALSE, Sym(_real(0), TRUE, first.err))
        scale = _real(Fraction(10) ** int(places))
        x = _to(args[0].value, T.DECIMAL) * scale
        half = _real(Fraction(1, 2))
        rounded = z3.If(x >= 0, z3.ToInt(x + half), -z3.ToInt(-x + half))
        return Sym(z3.ToReal(rounded) / scale, TRUE, first.err)

    def _not(self, e: ir.Not, env: _Env) -> Sym:
        s = self.expr(e.operand, env)
        return attrs.evolve(s, value=z3.Not(s.value))

    def _negate(self, e: ir.Negate, env: _Env) -> Sym:
        s = self.expr(e.operand, env)
        return attrs.evolve(s, value=-s.value)

    def _binary(self, e: ir.Binary, env: _Env) -> Sym:
        if e.op in ("and", "or", "unless"):
            left, right = self.expr(e.left, env), self.expr(e.right, env)
            r = _not(right.value) if e.op == "unless" else right.value
            items = [(left.value, left.err), (r, right.err)]
            if self._three_valued(e):
                return _kleene(items, e.op == "or")
            return _short_circuit(items, e.op == "or")
        left, right = self.expr(e.left, env), self.expr(e.right, env)
        both = then(left, None, right)
        lk, rk = (e.left.type or T.ERROR).kind, (e.right.type or T.ERROR).kind
        if e.op in ("+", "-") and lk in T.MOMENTS and rk in T.DURATIONS:
            return self._shift_sym(left.value, right.value, lk, rk, e.op == "-", both)
        if e.op == "+" and lk in T.DURATIONS and rk in T.MOMENTS:
            return self._shift_sym(right.value, left.value, rk, lk, False, both)
        if e.op == "-" and lk == rk == "date":
            return attrs.evolve(both, value=left.value - right.value)
        kind = (e.type or T.ERROR).kind
        lv, rv = _to(left.value, e.type), _to(right.value, e.type)
        if kind in T.DECIMALS:
            lv, rv = _to(lv, T.DECIMAL), _to(rv, T.DECIMAL)
        if e.op == "+":
            return attrs.evolve(both, value=lv + rv)
        if e.op == "-":
            return attrs.evolve(both, value=lv - rv)
        if e.op == "*":
            if _numeral(lv) is None and _numeral(rv) is None:
                return self._product(lv, rv, both)
            return attrs.evolve(both, value=lv * rv)
        if e.op == "/":
            return self._divide(left.value, right.value, both)
        return self._power(left.value, right.value, both)

    def _shift_sym(self, base: Any, amount: Any, base_kind: str, amount_kind: str,
                   backwards: bool, both: Sym) -> Sym:
        if base_kind != "date":
            raise OutOfReachError("date and time arithmetic")
        if amount_kind == "business_days":
            if not self.abstract:
                raise OutOfReachError("business-day arithmetic")
            # A candidate only (confirmed by the code): five business days a week, no
            # holidays, is close enough for z3 to aim near a real counterexample.
            self.abstracted.append("business-day arithmetic (approximated)")
            amount = amount + 2 * (amount / 5)
        elif amount_kind == "months":
            if not self.abstract:
                raise OutOfReachError("month arithmetic (months and years after a date, "
                                      "with the end-of-month rule)")
            # A candidate only, as above: a month of 30.44 days on average.
            self.abstracted.append("month arithmetic (approximated)")
            amount = amount * 3044 / 100
        day = base - amount if backwards else base + amount
        in_range = z3.And(day >= _MIN_DAY, day <= _MAX_DAY)
        return failing(in_range, attrs.evolve(both, value=day))

    def _product(self, left: Any, right: Any, both: Sym) -> Sym:
        """A product of two numbers that are not constants (non-linear). Python's ints
        have no limits; a Decimal result raises beyond them."""
        self.space.nonlinear = True
        value = left * right
        if not (z3.is_real(left) or z3.is_real(right)):
            return attrs.evolve(both, value=value)

        def within(sizes: list[Size]) -> bool:
            (lh, ll, _), (rh, rl, _) = sizes
            return lh + rh <= EMAX + 1 and ll + rl >= EMIN

        safe = self._limits([_to(left, T.DECIMAL), _to(right, T.DECIMAL)], within)
        return failing(z3.Not(self._may_raise(safe, value)), attrs.evolve(both, value=value))

    def _divide(self, left: Any, right: Any, both: Sym) -> Sym:
        divisor = _numeral(right)
        if divisor is None:
            self.space.nonlinear = True
            value, raises = self._quotient(left, right)
            return failing(z3.And(right != 0, z3.Not(raises)), attrs.evolve(both, value=value))
        if divisor == 0:
            return failing(FALSE, attrs.evolve(both, value=_real(0)))
        dividend = _numeral(left)
        if dividend is not None:
            quotient = _runtime_divide(dividend, divisor)
            if quotient is None:  # beyond the limits of numbers: the code raises
                return failing(FALSE, attrs.evolve(both, value=_real(0)))
            return attrs.evolve(both, value=_real(quotient))
        if not _finite_decimal(1 / divisor):
            value, raises = self._quotient(left, right)
            return failing(z3.Not(raises), attrs.evolve(both, value=value))
        return attrs.evolve(both, value=_to(left, T.DECIMAL) / _real(divisor))

    def _quotient(self, left: Any, right: Any) -> tuple[Any, Any]:
        """A quotient the code may round (runtime_eval's _div), and where it may raise
        for leaving the limits of numbers. It is exact when it terminates, otherwise
        rounded half-even to QUOTIENT_DIGITS digits after the whole-number part: z3
        gets a variable for it, within half a unit of that last place of the exact
        quotient, of its sign, equal to it when the quotient terminates within those
        places, and on the grid of that last place from 0.1 up -- every value the code
        may compute (anything where the divisor is 0, which raises)."""
        x, y = _to(left, T.DECIMAL), _to(right, T.DECIMAL)
        key = (x.get_id(), y.get_id())
        if key in self.space.quotients:
            return self.space.quotients[key]

        def within(sizes: list[Size]) -> bool:
            # |x / y| < 10**(xh - yl); rounded, one that is not 0 is at least
            # 10**(xl - yh - 1).
            (xh, xl, _), (yh, yl, _) = sizes
            return xh - yl <= EMAX + 1 and xl - yh - 1 >= EMIN

        safe = self._limits([x, y], within)
        (xh, xl, _), (yh, yl, _) = self.size(x), self.size(y)
        q = z3.FreshReal("quotient")
        self.space.approximate = True
        self.space.sizes[q.get_id()] = (xh - yl, xl - yh - 1, -math.inf) \
            if z3.is_true(safe) else (_GUARD * 2, -_GUARD * 2 - 1, -math.inf)
        magnitude = z3.If(y >= 0, y, -y)
        error = _real(_QUOTIENT_ERROR) * magnitude
        same_sign = z3.Or(z3.And(x > 0, y > 0), z3.And(x < 0, y < 0))
        places = _real(Fraction(10 ** QUOTIENT_DIGITS))
        exact = q * y == x
        self.space.constraints.append(z3.Implies(y != 0, z3.And(
            q * y - x <= error, x - q * y <= error,
            (q == 0) == (x == 0), z3.Implies(x != 0, (q > 0) == same_sign),
            z3.Implies(z3.IsInt(x / y * places), exact),
            # From 0.1 up, a rounded quotient is a multiple of 1E-28: it never rounds
            # past one (x <= y gives a quotient of at most 1). Below, a place further
            # for each 0 after the point: from 1E-72 up, it has at most _GUARD places.
            z3.Implies(10 * z3.If(x >= 0, x, -x) >= magnitude,
                       z3.Or(exact, z3.IsInt(q * places))),
            z3.Implies(z3.If(x >= 0, x, -x) * _real(Fraction(10 ** (_GUARD - QUOTIENT_DIGITS)))
                       >= magnitude,
                       z3.Or(exact, z3.IsInt(q * _real(Fraction(10 ** _GUARD))))))))
        self.space.quotients[key] = (q, self._may_raise(safe, q))
        self.space.alive += [x, y]
        return self.space.quotients[key]

    def _power(self, base: Any, exponent: Any, both: Sym) -> Sym:
        b, x = _numeral(base), _numeral(exponent)
        if x is None:
            raise OutOfReachError("'^' with an exponent that is not a constant "
                                  "(compounding is exponential)")
        if b is None:
            return self._variable_power(base, int(x), both)
        if b == 0 and x <= 0:
            return failing(FALSE, attrs.evolve(both, value=_real(0)))
        power = _runtime_power(b, int(x))
        if power is None:  # too many digits, or beyond the limits: the code raises
            return failing(FALSE, attrs.evolve(both, value=_real(0)))
        return attrs.evolve(both, value=_real(power))

    def _variable_power(self, base: Any, exponent: int, both: Sym) -> Sym:
        """X ^ n for a constant n (runtime_eval's _pow): exact up to POWER_DIGITS
        significant digits, beyond which it raises, as beyond the limits of numbers; a
        negative n divides 1 by the power; 0 ^ n raises for n <= 0."""
        x = _to(base, T.DECIMAL)
        n = abs(exponent)
        if n > _MAX_TRANSLATED_EXPONENT:
            raise OutOfReachError(f"'^ {exponent}' of an amount that is not a constant")
        if n == 0:
            return failing(x != 0, attrs.evolve(both, value=_real(1)))
        self.space.nonlinear = self.space.nonlinear or n > 1 or exponent < 0
        power = x
        for _ in range(n - 1):
            power = power * x

        def within(sizes: list[Size]) -> bool:
            ((high, low, place),) = sizes
            return n * (high - place) <= POWER_DIGITS and n * high <= EMAX + 1 and \
                n * low >= EMIN

        safe = self._limits([x], within, places=True)
        raises = self._may_raise(safe, power)
        if exponent > 0:
            return failing(z3.Not(raises), attrs.evolve(both, value=power))
        value, also = self._quotient(_real(1), power)
        return failing(z3.And(x != 0, z3.Not(raises), z3.Not(also)),
                       attrs.evolve(both, value=value))

    def _compare(self, e: ir.Compare, env: _Env) -> Sym:
        left, right = self.expr(e.left, env), self.expr(e.right, env)
        lv, rv = left.value, right.value
        if z3.is_int(lv) and z3.is_real(rv) or z3.is_real(lv) and z3.is_int(rv):
            lv, rv = _to(lv, T.DECIMAL), _to(rv, T.DECIMAL)
        value = {"==": lambda: lv == rv, "!=": lambda: lv != rv, "<": lambda: lv < rv,
                 "<=": lambda: lv <= rv, ">": lambda: lv > rv, ">=": lambda: lv >= rv}[e.op]()
        return then(left, value, right, TRUE)

    def _isgiven(self, e: ir.IsGiven, env: _Env) -> Sym:
        s = self.expr(e.operand, env, strict=False, lift=True)
        return Sym(z3.Not(s.present) if e.negated else s.present, TRUE, s.err)

    def _duration(self, e: ir.Duration, env: _Env) -> Sym:
        amount = self.expr(e.amount, env)
        if e.per_unit != 1:  # a year is twelve months (Python's ints: no limit to raise at)
            return attrs.evolve(amount, value=amount.value * e.per_unit)
        return amount

    def _shift(self, e: ir.Shift, env: _Env) -> Sym:
        amount, base = self.expr(e.amount, env), self.expr(e.base, env)
        both = then(base, None, amount)  # the code computes the base first
        return self._shift_sym(base.value, amount.value, (e.base.type or T.ERROR).kind,
                               (e.amount.type or T.ERROR).kind, e.direction == "before", both)

    def _closeofbusiness(self, e: ir.CloseOfBusiness, env: _Env) -> Sym:
        raise OutOfReachError("close of business (a date and time)")

    # Periods, values per period and recurring duties: the calendar arithmetic of periods
    # (stubs, fiscal years, the end-of-month rule), a series' value for a period chosen
    # by the clause and the instances of a recurring duty are not translated.

    def _periodof(self, e: ir.PeriodOf, env: _Env) -> Sym:
        raise OutOfReachError(_PERIODS)

    def _firstperiod(self, e: ir.FirstPeriod, env: _Env) -> Sym:
        raise OutOfReachError(_PERIODS)

    def _periodop(self, e: ir.PeriodOp, env: _Env) -> Sym:
        raise OutOfReachError(_PERIODS)

    def _businessdayof(self, e: ir.BusinessDayOf, env: _Env) -> Sym:
        raise OutOfReachError("the first or last business day of a period")

    def _each(self, e: ir.Each, env: _Env) -> Sym:
        raise OutOfReachError("aggregates over a range of periods")

    def _field(self, e: ir.Field, env: _Env) -> Sym:
        if (e.operand.type or T.ERROR).kind in ("record", "share"):
            raise OutOfReachError(_LISTS)
        raise OutOfReachError(f"the field '.{e.field}' of an obligation")

    def _late(self, e: ir.Late, env: _Env) -> Sym:
        raise OutOfReachError("whether an obligation is late")

    def _inforce(self, e: ir.InForce, env: _Env) -> Sym:
        raise OutOfReachError("a term as in force on a date (another version of the "
                              "agreement)")

    def _ifthenelse(self, e: ir.IfThenElse, env: _Env) -> Sym:
        c = self.expr(e.condition, env)
        a = self.coerce(self.expr(e.then, env, strict=False), e.type)
        b = self.coerce(self.expr(e.otherwise, env, strict=False), e.type)
        return Sym(_if(c.value, a.value, b.value), _if(c.value, a.present, b.present),
                   seq(c.err, _if(c.value, a.err, b.err)))

    def _listop(self, e: ir.ListOp, env: _Env) -> Sym:
        if e.kind in ("all", "any", "none"):
            return self._logic_list(e, env)
        items: list[Sym] = []
        for item in e.items:
            sym = self.coerce(self.expr(item.expr, env, strict=False, lift=True), e.type)
            if item.when is not None:
                when = self.expr(item.when, env)
                sym = Sym(sym.value, _and(when.value, sym.present),
                          seq(when.err, guard(when.value, sym.err)))
            items.append(sym)
        errors = _sequence(items)
        if e.kind == "total":
            zero = _real(0) if (e.type or T.ERROR).kind in T.DECIMALS else z3.IntVal(0)
            total = zero
            for s in items:
                total = total + _if(s.present, s.value, zero)
            return Sym(total, TRUE, errors.err)
        smaller = e.kind in ("earliest", "least")
        value, present = items[0].value, items[0].present
        for s in items[1:]:
            pick = s.value < value if smaller else s.value > value
            value = _if(present, _if(s.present, _if(pick, s.value, value), value), s.value)
            present = z3.Or(present, s.present)
        return Sym(value, z3.simplify(present) if z3.is_bool(present) else present, errors.err)

    def _logic_list(self, e: ir.ListOp, env: _Env) -> Sym:
        """all/any/none of: each item's `when` first; three-valued where the compiled
        code makes it so (_unknowable), else Python's `and`/`or` chain."""
        parts: list[tuple[Any, Any]] = []
        for item in e.items:
            code = self.expr(item.expr, env)
            if item.when is None:
                parts.append((code.value, code.err))
                continue
            when = self.expr(item.when, env)
            guarded = _or(_not(when.value), code.value) if e.kind == "all" else \
                _and(when.value, code.value)
            parts.append((guarded, seq(when.err, guard(when.value, code.err))))
        either = e.kind != "all"
        if any(self._unknowable(x) for x in subexpressions(e)):
            sym = _kleene(parts, either)
        else:
            sym = _short_circuit(parts, either)
        return attrs.evolve(sym, value=_not(sym.value)) if e.kind == "none" else sym

    def _three_valued(self, e: ir.Binary) -> bool:
        """Whether the compiled code makes `and`/`or`/`unless` three-valued."""
        return self._unknowable(e.left) or self._unknowable(e.right)

    def _unknowable(self, e: ir.Expr) -> bool:
        """codegen's `unknowable`: whether evaluating `e` may find a fact or value missing
        (it, or something it is computed from, may have no value, or it uses a term, a
        series or a duty), which makes the logic around it three-valued. Iterative, and
        remembered for each node: chains of `and` may be thousands deep."""
        memo = self._unknown
        stack: list[tuple[ir.Expr, bool]] = [(e, False)]
        while stack:
            node, done = stack.pop()
            if id(node) in memo:
                continue
            parts = subexpressions(node)
            if done:
                memo[id(node)] = self._unknowable_itself(node) or \
                    any(memo[id(p)] for p in parts)
                continue
            stack.append((node, True))
            stack.extend((p, False) for p in parts if id(p) not in memo)
        return memo[id(e)]

    def _unknowable_itself(self, node: ir.Expr) -> bool:
        if node.type is not None and node.type.optional:
            return True
        if isinstance(node, (ir.Call, ir.Field, ir.Late, ir.InForce, ir.Nothing)):
            return True
        return isinstance(node, ir.Name) and not isinstance(
            self.decls.get(node.name), (ir.Fact, ir.Table, type(None)))

    # ------------------------------------------------ choices, lists and records

    def _nothing(self, e: ir.Nothing, env: _Env) -> Sym:
        return Sym(None, FALSE)

    def _when(self, e: ir.When, env: _Env) -> Sym:
        """`(X when C)`: C first, then X where C holds; no value elsewhere."""
        value = self.coerce(self.expr(e.value, env, strict=False, lift=True), e.type)
        cond = self.expr(e.condition, env)
        return Sym(value.value, _and(cond.value, value.present),
                   seq(cond.err, guard(cond.value, value.err)))

    def _case(self, e: ir.Case, env: _Env) -> Sym:
        """The arm of the subject's member (runtime's `_case`: a dict of the arms, a later
        arm for the same member overriding, `otherwise` for the others; a member with no
        arm raises, which only a member another version added can be)."""
        subject = self.expr(e.subject, env)
        arms = [(arm.members, self.coerce(self.expr(arm.value, env, strict=False), e.type))
                for arm in e.arms]
        otherwise = next((sym for members, sym in reversed(arms) if not members), None)
        value, present, err = (otherwise.value, otherwise.present, otherwise.err) \
            if otherwise is not None else (None, FALSE, OTHER)
        for members, sym in arms:
            if members:
                chosen = _or(*[subject.value == z3.StringVal(m) for m in members])
                value = _if(chosen, sym.value, value)
                present = _if(chosen, sym.present, present)
                err = _if(chosen, sym.err, err)
        return Sym(value, present, seq(subject.err, err))

    def _listof(self, e: ir.ListOf, env: _Env) -> Sym:
        raise OutOfReachError(_LISTS)

    def _foreach(self, e: ir.ForEach, env: _Env) -> Sym:
        raise OutOfReachError(_LISTS)

    def _aggregate(self, e: ir.Aggregate, env: _Env) -> Sym:
        raise OutOfReachError(_LISTS)

    def _allocate(self, e: ir.Allocate, env: _Env) -> Sym:
        raise OutOfReachError(_LISTS)

    def _presentvalue(self, e: ir.PresentValue, env: _Env) -> Sym:
        raise OutOfReachError(_LISTS)

    # ------------------------------------------------ obligations and powers

    def provision(self, name: str) -> dict[str, Sym]:
        """The observable parts of a provision, each a Sym: a term's or condition's value;
        an obligation's `active`, `object`, `due`; a power's `available` and each
        consequence's. Every part's `ok` is whether the provision's function raises."""
        decl = self.decls.get(name)
        if isinstance(decl, (ir.Obligation, ir.Power)) and decl.recurrence is not None:
            raise OutOfReachError(_RECURRING)
        if isinstance(decl, ir.Obligation):
            active = self.expr(decl.duty.condition, _Env()) if decl.duty.condition else Sym(TRUE)
            return self._duty(decl.duty, active, "")
        if isinstance(decl, ir.Power):
            available = self.expr(decl.condition, _Env()) if decl.condition else Sym(TRUE)
            parts = {"available": available}
            for i, duty in enumerate(decl.consequences):
                active = available
                if duty.condition is not None:
                    cond = self.expr(duty.condition, _Env())
                    active = Sym(z3.And(available.value, cond.value), TRUE,
                                 seq(available.err, guard(available.value, cond.err)))
                parts.update(self._duty(duty, active, f"then[{i}]."))
            return _raise_together(parts)
        return {"value": self.value(name)}

    def _duty(self, duty: ir.Duty, active: Sym, prefix: str) -> dict[str, Sym]:
        parts = {prefix + "active": active}
        if duty.object is not None:
            parts[prefix + "object"] = _soft(self.expr(duty.object, _Env()))
        if duty.deadline is not None:
            dl = duty.deadline
            if dl.kind == "within" and dl.after is not None:
                after, amount = self.expr(dl.after, _Env()), self.expr(dl.expr, _Env())
                due = self._shift_sym(after.value, amount.value,
                                      (dl.after.type or T.ERROR).kind,
                                      (dl.expr.type or T.ERROR).kind, False,
                                      then(after, None, amount))
            else:
                due = self.expr(dl.expr, _Env())
            parts[prefix + "due"] = _soft(due)
        return _raise_together(parts) if not prefix else parts


def _soft(sym: Sym) -> Sym:
    """codegen's `_soft`: a missing fact or value is no value, not an error."""
    missing = z3.Or(_is(sym.err, MISSING_FACT), _is(sym.err, NO_VALUE))
    return Sym(sym.value, _and(sym.ok, sym.present), _if(missing, OK, sym.err))


def _raise_together(parts: dict[str, Sym]) -> dict[str, Sym]:
    """The parts of one function: if one raises, the function raises (what it raises
    first)."""
    err = seq(*[s.err for s in parts.values()])
    return {k: Sym(s.value, s.present, err) for k, s in parts.items()}


def _short_circuit(items: Sequence[tuple[Any, Any]], either: bool) -> Sym:
    """Python's `or` (either) or `and` of items (value, err): item i is reached only when
    the items before it did not decide."""
    value = FALSE if either else TRUE
    err = OK
    for v, e in reversed(items):
        go_on = _not(v) if either else v
        err = seq(e, guard(go_on, err))
        value = _or(v, value) if either else _and(v, value)
    return Sym(value, TRUE, err)


def _kleene(items: Sequence[tuple[Any, Any]], either: bool) -> Sym:
    """runtime's `_any_of` (either) or `_all_of` of items (value, err), in order: an item
    that decides (true for any, false for all) returns; one that raises MissingFactError
    or NoValueError is remembered, the first one only; one that raises another error
    raises it; undecided at the end, the first unknown error is raised.

    As two chains of ifs, built from the last item: the error where an item stops the
    evaluation (it raises another error: that error; it decides: none), else the first
    unknown error of all (none if there is none)."""
    first_unknown = OK
    for _, e in reversed(items):
        unknown = _or(_is(e, MISSING_FACT), _is(e, NO_VALUE))
        first_unknown = _if(unknown, e, first_unknown)
    err = first_unknown
    for v, e in reversed(items):
        decides = _and(_is(e, OK), v if either else _not(v))
        err = _if(_is(e, OTHER), e, _if(decides, OK, err))
    # Where it raises nothing, an item decided (whatever the others' values), or every
    # item was evaluated and none did: the plain disjunction (conjunction) of the values.
    value = _or(*[v for v, _ in items]) if either else _and(*[v for v, _ in items])
    return Sym(value, TRUE, err)


def _sequence(syms: Iterable[Sym]) -> Sym:
    """The errors of evaluating `syms` one after the other."""
    return Sym(None, TRUE, seq(*[s.err for s in syms]))


_NOWHERE = ("", 0, 0, None)


_SIZE_OPS = frozenset({z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_ITE, z3.Z3_OP_TO_REAL,
                       z3.Z3_OP_UMINUS, z3.Z3_OP_MUL, z3.Z3_OP_TO_INT, z3.Z3_OP_IDIV,
                       z3.Z3_OP_MOD})


def _size_operands(term: Any) -> list[Any]:
    """The terms the size of `term` is computed from (none for a constant, a variable,
    or an operation whose size is not bounded)."""
    if z3.is_int_value(term) or z3.is_rational_value(term) or not z3.is_app(term):
        return []
    op = term.decl().kind()
    if op == z3.Z3_OP_ITE:
        return list(term.children()[1:])
    if op == z3.Z3_OP_DIV:
        divisor = _numeral(term.arg(1))
        return [term.arg(0)] if divisor and _finite_decimal(1 / divisor) else []
    return list(term.children()) if op in _SIZE_OPS else []


def _size_of(term: Any, parts: list[Size]) -> Size:
    """The size of `term` from those of its operands (_size_operands)."""
    if z3.is_int_value(term) or z3.is_rational_value(term):
        return _constant_size(_numeral(term) or Fraction(0))
    if not parts:
        return _ANY_SIZE  # a variable of unknown origin, or an unbounded operation
    op = term.decl().kind()
    high = max(p[0] for p in parts)
    low, place = min(p[1] for p in parts), min(p[2] for p in parts)
    if op in (z3.Z3_OP_ADD, z3.Z3_OP_SUB):
        # A sum that is not 0 is at least its smallest place.
        return (high + len(str(len(parts))), place, place)
    if op == z3.Z3_OP_MUL:
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))
    if op == z3.Z3_OP_TO_INT:
        return (high + 1, 0, 0)
    if op in (z3.Z3_OP_IDIV, z3.Z3_OP_MOD):
        return (high, 0, 0)  # a remainder is below its divisor, a quotient its dividend
    if op == z3.Z3_OP_DIV:
        divisor = _numeral(term.arg(1))
        assert divisor
        inverse = _constant_size(1 / divisor)
        return (high + inverse[0], low + inverse[1], place + inverse[2])
    return (high, low, place)  # ITE, TO_REAL, UMINUS


def _constant_size(q: Fraction) -> Size:
    if q == 0:
        return (0, 0, 0)
    high = len(str(abs(q.numerator))) - len(str(q.denominator)) + 1
    exact = to_decimal(q)
    if exact is None:
        return (high, high - 2, -math.inf)
    _, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return (len(digits) + exponent, exact.adjusted(), exponent + zeros)


def _runtime_divide(a: Fraction, b: Fraction) -> Fraction | None:
    """What the compiled code's _div computes for constants (exact, or rounded by the
    division rule when the quotient does not terminate); None where it raises."""
    from clausec.backends.python.runtime_eval import divide
    da, db = to_decimal(a), to_decimal(b)
    if da is None or db is None:
        raise OutOfReachError("a constant that is not a decimal number")
    try:
        return Fraction(divide(da, db, _NOWHERE))
    except ClauseRuntimeError:
        return None


def _runtime_power(base: Fraction, exponent: int) -> Fraction | None:
    """What the compiled code's _pow computes for constants; None where it raises."""
    from clausec.backends.python.runtime_eval import exponentiate
    b = to_decimal(base)
    if b is None:
        raise OutOfReachError("a constant that is not a decimal number")
    try:
        return Fraction(exponentiate(b, exponent, _NOWHERE))
    except ClauseRuntimeError:
        return None


# ------------------------------------------------------------------- solving


def translate(checked: CheckedProgram, facts: Mapping[str, ir.Fact] | None = None,
              abstract: bool = False) -> Translator:
    return Translator(checked, facts, abstract=abstract)


def _solver(timeout_ms: int) -> z3.Solver:
    solver = z3.Solver()
    solver.set("timeout", int(timeout_ms))
    return solver


def nice_constraints(space: FactSpace, around: date | None) -> list[Any]:
    """What makes a model readable: amounts in cents, rates in basis points, dates within
    twenty years of the agreement's date, modest numbers."""
    out = []
    for (_, kind), var in space.values.items():
        out += _nice(var, kind, around)
    return out


def _nice(var: Any, kind: str, around: date | None) -> list[Any]:
    """What makes one fact's value readable (nice_constraints)."""
    centre = (around or date(2000, 1, 1)).toordinal()
    if kind in T.DECIMALS:
        step = 10_000 if kind == "percent" else 100
        cents = z3.FreshInt("cents")
        return [var * step == z3.ToReal(cents), cents <= 10 ** 12, cents >= -10 ** 12]
    if kind == "date":
        return [var >= centre - 1096, var <= centre + 1096]
    if kind in _INT:
        return [var <= 10 ** 6, var >= -10 ** 6]
    return []


_NICE_NONLINEAR_MS = 2000


def solve(formula: Any, space: FactSpace, timeout_ms: int, around: date | None = None
          ) -> SmtResult:
    """Proved if `formula` (what must hold) holds for all facts; else a counterexample."""
    solver = _solver(timeout_ms)
    solver.add(*space.assumptions())
    solver.add(z3.Not(formula))
    answer = solver.check()
    if answer == z3.unsat:
        return Proved()
    if answer == z3.unknown:
        reason = solver.reason_unknown() or "unknown"
        if reason in ("timeout", "canceled"):
            reason = f"no answer within the time limit ({timeout_ms / 1000:g}s)"
        return Unknown(reason)
    model = solver.model()
    # Non-linear, the readable model is a harder question than the first: it gets less
    # time, and the first model serves if it takes longer.
    nice = _solver(min(timeout_ms, _NICE_NONLINEAR_MS) if space.nonlinear else timeout_ms)
    nice.add(*space.assumptions(), z3.Not(formula), *nice_constraints(space, around))
    if nice.check() == z3.sat:
        model = nice.model()
    return Counterexample(space.to_facts(model), space.to_args(model),
                          exact=not space.approximate)


def check_invariant(checked: CheckedProgram, invariant: ir.Invariant | str,
                    timeout_ms: int = 10_000, facts: Mapping[str, ir.Fact] | None = None
                    ) -> SmtResult:
    """Prove an invariant of one version (z3: no facts satisfy the assumption and not the
    property), or give a counterexample. `facts`: the facts as the compiled module's
    Facts class has them (union_of_facts of all versions); default: this version's."""
    if isinstance(invariant, str):
        decl = checked.declarations[invariant]
        assert isinstance(decl, ir.Invariant)
        invariant = decl
    new_query()
    translator = Translator(checked, facts)
    try:
        holds = translator.holds(invariant)
    except OutOfReachError as error:
        return OutOfReach(error.reason)
    result = solve(holds, translator.space, timeout_ms, checked.header.dated)
    if isinstance(result, Counterexample):
        result = attrs.evolve(result, facts=complete(result.facts, translator.facts,
                                                     checked.header, checked))
    return result


def candidate(checked: CheckedProgram, invariant: ir.Invariant, timeout_ms: int = 10_000,
              facts: Mapping[str, ir.Fact] | None = None) -> dict[str, Any] | None:
    """Facts that may break the invariant, from its translation with what is out of reach
    replaced by free variables: to be confirmed by running the compiled code."""
    new_query()
    translator = Translator(checked, facts, abstract=True)
    try:
        holds = translator.holds(invariant)
    except OutOfReachError:
        return None
    result = solve(holds, translator.space, timeout_ms, checked.header.dated)
    if not isinstance(result, Counterexample):
        return None
    return complete(result.facts, translator.facts, checked.header, checked)


def equal(a: Sym, b: Sym) -> Any:
    """Both raise the same kind of error, or neither and both have the same value (or
    both none)."""
    same_value = z3.And(a.present == b.present, z3.Implies(a.present, a.value == b.value))
    return z3.And(a.err == b.err, z3.Implies(a.ok, same_value))


def check_equivalent(before: CheckedProgram, after: CheckedProgram, name: str,
                     timeout_ms: int = 10_000) -> SmtResult:
    """Whether `name` has the same value in both versions for all facts (see the module
    docstring); a counterexample gives facts on which they differ."""
    facts = union_of_facts([before, after])
    new_query()
    space = FactSpace(parties=tuple(p.name for p in after.header.parties))
    try:
        old = Translator(before, facts, space).provision(name)
        new = Translator(after, facts, space).provision(name)
        for parts, others in ((old, new), (new, old)):
            err = next(iter(parts.values())).err
            for key in set(others) - set(parts):
                # A part only one version has (an amount, a due date) is none in the other.
                parts[key] = Sym(others[key].value, FALSE, err)
        for parts in (old, new):
            for key, sym in parts.items():
                if sym.value is None:  # `none`, whatever the type: no value to compare
                    parts[key] = attrs.evolve(sym, value=FALSE)
        if any(old[k].value.sort() != new[k].value.sort() for k in old):
            return OutOfReach(f"'{name}' changed type")
        formula = _and(*[equal(old[k], new[k]) for k in old])
    except OutOfReachError as error:
        return OutOfReach(error.reason)
    result = solve(formula, space, timeout_ms, after.header.dated)
    if isinstance(result, Counterexample):
        result = attrs.evolve(result, facts=complete(result.facts, facts, after.header, after))
    return result


def facts_json(facts: Mapping[str, Any], types: Mapping[str, ir.Fact] | None = None,
               declarations: Mapping[str, object] | None = None) -> dict[str, Any]:
    """A facts dict as JSON-ready values that `clausec eval --facts` reads back exactly:
    amounts as strings, percentages as "7.5%", dates in ISO form, a choice's member by
    its name, a list as a list, a record as an object of its fields (`declarations`, the
    program's, give their types: a percentage in a record is "7.5%" only with them), a
    series as an object of its values by period."""
    out: dict[str, Any] = {}
    for name, value in facts.items():
        type_ = types[name].type if types and name in types else None
        out[name] = _json_value(value, type_, declarations or {})
    return out


def _json_value(value: Any, type_: T.Type | None, declarations: Mapping[str, object]) -> Any:
    kind = type_.kind if type_ is not None else ""
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return f"{_plain(value * 100)}%" if kind == "percent" else _plain(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.days
    if isinstance(value, (list, tuple)):
        element = type_.element if type_ is not None and kind == "list" else None
        return [_json_value(v, element, declarations) for v in value]
    if isinstance(value, Mapping):
        fields: dict[str, T.Type] = {}
        if kind == "record":
            record = declarations.get(type_.name or "") if type_ is not None else None
            if isinstance(record, (ir.Record, ir.Table)):
                fields = {f.name: f.type for f in record.fields}
            return {str(k): _json_value(v, fields.get(str(k)), declarations)
                    for k, v in value.items()}
        # A series: its values by period, each of the fact's type.
        return {str(k): _json_value(v, type_, declarations) for k, v in value.items()}
    return str(value)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
