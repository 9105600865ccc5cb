"""The types of the Clause language and the rules that combine them.

Values are exact at run time (`Decimal`, `date`, `int`), so what keeps a date from
being added to money is this module: the checker asks it for the type of every
operation and reports `None` answers as type errors.
"""

from __future__ import annotations

import attrs

NUMERIC = frozenset({"integer", "decimal", "percent"})
# The kinds whose values are Decimals at run time (z3: reals); an integer where one of
# them is expected becomes one.
DECIMALS = frozenset({"decimal", "money", "percent"})
DURATIONS = frozenset({"days", "business_days", "months"})
MOMENTS = frozenset({"date", "datetime"})

# How a type is spelt in clause files, diagnostics and summaries.
SPELLING = {
    "bool": "bool",
    "integer": "integer",
    "decimal": "decimal",
    "money": "money",
    "percent": "percent",
    "date": "date",
    "datetime": "datetime",
    "days": "days",
    "business_days": "business days",
    "months": "months",
    "party": "party",
    "text": "text",
    "period": "period",
    "named": "type",  # a name in a type's place, until the checker resolves it
    "obligation": "obligation",
    "power": "power",
    "choice": "choice",
    "record": "record",
    "list": "list",
    "share": "share",
    "nothing": "none",
    "error": "an erroneous value",
}


@attrs.frozen
class Type:
    kind: str
    currency: str | None = None  # money only
    optional: bool = False  # may have no value (an optional fact, an "earlier of" of nothing)
    calendar: str | None = None  # business days only: whose (None until checked: the agreement's)
    family: str | None = None  # periods only: of which family ("calendar_quarter")
    name: str | None = None  # choices and records: which ("loan_type", "lender")
    element: Type | None = None  # lists: of what; shares: of an allocation over what
    # Where a type written as a name ("royalty_quarter") is, until the checker resolves
    # it: not part of the type.
    span: object = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        name = SPELLING[self.kind]
        if self.kind == "money" and self.currency:
            name = f"money {self.currency}"
        if self.kind == "business_days" and self.calendar:
            name = f"{self.calendar} business days"
        if self.kind == "period" and self.family:
            name = self.family.replace("_", " ")
        if self.kind in ("choice", "record") and self.name:
            name = self.name.replace("_", " ")
        if self.kind == "list" and self.element:
            name = f"list of {self.element}"
        if self.kind == "share" and self.element:
            name = f"share of {self.element}"
        return name + (" (optional)" if self.optional else "")

    def required(self) -> Type:
        return attrs.evolve(self, optional=False)

    def maybe(self, optional: bool = True) -> Type:
        return attrs.evolve(self, optional=optional)

    def same(self, other: Type) -> bool:
        """Same type, ignoring whether a value may be missing."""
        return self.required() == other.required()


BOOL = Type("bool")
INTEGER = Type("integer")
DECIMAL = Type("decimal")
PERCENT = Type("percent")
DATE = Type("date")
DATETIME = Type("datetime")
DAYS = Type("days")
BUSINESS_DAYS = Type("business_days")
MONTHS = Type("months")  # a number of calendar months; "N years" is 12 × N of them
PARTY = Type("party")
TEXT = Type("text")
OBLIGATION = Type("obligation")
POWER = Type("power")
# The type of a duration written in each unit (ir.DURATION_UNITS).
DURATION_TYPES = {"days": DAYS, "business_days": BUSINESS_DAYS, "months": MONTHS,
                  "years": MONTHS}
# The type of an expression that already has an error: compatible with everything, so
# that one mistake is reported once, not at every use.
ERROR = Type("error")


# The type of `none`: a missing value of any type.
NOTHING = Type("nothing", optional=True)


def list_of(element: Type) -> Type:
    return Type("list", element=element)


def choice(name: str) -> Type:
    return Type("choice", name=name)


def record(name: str) -> Type:
    return Type("record", name=name)


def money(currency: str) -> Type:
    return Type("money", currency)


def period(family: str) -> Type:
    return Type("period", family=family)


def _numeric_join(a: Type, b: Type) -> Type:
    if a.kind == b.kind:
        return Type(a.kind)
    return DECIMAL


def arithmetic(op: str, a: Type, b: Type) -> Type | None:
    """The type of `a op b` for op in + - * / ^, or None when the operation is meaningless."""
    ak, bk = a.kind, b.kind
    if ERROR.kind in (ak, bk):
        return ERROR
    optional = a.optional or b.optional
    result: Type | None = None
    if op in ("+", "-"):
        if ak in NUMERIC and bk in NUMERIC:
            result = _numeric_join(a, b)
        elif ak == bk == "money" and a.currency == b.currency or ak in MOMENTS and bk in DURATIONS:
            result = a
        elif op == "+" and ak in DURATIONS and bk in MOMENTS:
            result = b
        elif ak == bk and ak in DURATIONS and a.calendar == b.calendar:
            # Days add to days, months to months, and business days of one calendar to
            # business days of the same calendar: no other sum counts anything.
            result = a
        elif op == "-" and ak == bk == "date":
            result = DAYS
    elif op == "*":
        if ak in NUMERIC and bk in NUMERIC:
            result = PERCENT if ak == bk == "percent" else _numeric_join(a, b)
        elif ak == "money" and bk in NUMERIC:
            result = a
        elif ak in NUMERIC and bk == "money" or ak == "integer" and bk in DURATIONS:
            result = b
        elif ak in DURATIONS and bk == "integer":
            result = a
    elif op == "/":
        if ak in NUMERIC and bk in NUMERIC or ak == bk == "money" and a.currency == b.currency:
            result = DECIMAL
        elif ak == "money" and bk in NUMERIC:
            result = a
    elif op == "^" and ak in NUMERIC and bk == "integer":
        result = DECIMAL
    if result is None:
        return None
    return result.maybe(optional)


def comparable(op: str, a: Type, b: Type) -> bool:
    """Whether `a op b` is a meaningful comparison (op in == != < <= > >=)."""
    ak, bk = a.kind, b.kind
    if ERROR.kind in (ak, bk):
        return True
    if ak in NUMERIC and bk in NUMERIC:
        return True
    if ak == bk == "money":
        return a.currency == b.currency
    if ak != bk or a.calendar != b.calendar:  # business days of two calendars: not one count
        return False
    if ak in ("choice", "record", "list", "share"):  # equal or not, never ordered
        return op in ("==", "!=") and a.same(b)
    if a.family != b.family:  # a calendar quarter is not a fiscal quarter
        return False
    if op in ("==", "!="):
        return ak not in ("obligation", "power")
    return ak in MOMENTS or ak in DURATIONS or ak == "period"


def join(a: Type, b: Type) -> Type | None:
    """The type of a value that is either an `a` or a `b` (the branches of an if)."""
    optional = a.optional or b.optional
    if a.kind == ERROR.kind or b.kind == ERROR.kind:
        return ERROR
    if a.same(b):
        return a.maybe(optional)
    if a.kind == NOTHING.kind:  # "X when C" and none: an X, or no value
        return b.maybe()
    if b.kind == NOTHING.kind:
        return a.maybe()
    if a.kind in NUMERIC and b.kind in NUMERIC:
        return _numeric_join(a, b).maybe(optional)
    if a.kind == b.kind == "list" and a.element and b.element:
        element = join(a.element, b.element)
        return list_of(element).maybe(optional) if element else None
    return None


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type `value` may stand where `target` is declared."""
    if ERROR.kind in (value.kind, target.kind):
        return True
    if value.same(target) or value.kind == NOTHING.kind:  # no value: of any type
        return True
    if value.kind == target.kind == "list" and value.element and target.element:
        return assignable(value.element, target.element)
    # An integer is a decimal; nothing else converts silently.
    return value.kind == "integer" and target.kind == "decimal"
