"""How the query reads a fact's value as the compiled module's `Facts` reads it: whole
numbers with their thousands separators ("1,000") and nothing else ("1.5" is not one),
amounts with a dollar sign or their currency's code ("$1,800,000.00", "USD 1,000",
"-$5"), percentages with their sign ("7.5%"). A value that does not read is NULL, which
the plan turns into the row's FactError.

The patterns hold no backslash (`[.]`, `[$]`), so that they mean the same in every
dialect's string literals, and are anchored, so that the regular-expression functions of
RE2 (DuckDB) and of Java (Spark) match them the same way.
"""

from __future__ import annotations

from sqlglot import exp

from clausec.backends.sql.base import DECIMAL_SQL, case, cast, not_null, text, try_cast

_GROUPED = "[0-9]{1,3}(?:,[0-9]{3})+"
_NUMBER = f"(?:{_GROUPED}|[0-9]+)(?:[.][0-9]+)?|[.][0-9]+"
_INTEGER = f"^ *([+-]?)({_GROUPED}|[0-9]+) *$"
_PERCENT = "^ *([+-]?)([0-9]+(?:[.][0-9]+)?|[.][0-9]+) *% *$"

WHOLE_NUMBERS = ("integer", "days", "months", "business_days", "named_business_days")


def read(raw: exp.Expr, kind: str, sql_type: str, currency: str | None = None) -> exp.Expr:
    """`raw` (a column, or a field of one) as a value of `kind`, or NULL."""
    if kind in WHOLE_NUMBERS:
        return _whole(raw, sql_type)
    if kind == "money":
        return exp.Coalesce(this=try_cast(raw, sql_type),
                            expressions=[_amount(raw, sql_type, currency or "USD")])
    if kind == "percent":
        return exp.Coalesce(this=try_cast(raw, sql_type),
                            expressions=[_percent(raw, sql_type)])
    if kind == "decimal":
        return exp.Coalesce(this=try_cast(raw, sql_type),
                            expressions=[_grouped(raw, sql_type)])
    return try_cast(raw, sql_type)


def _text(raw: exp.Expr) -> exp.Expr:
    return exp.Trim(this=cast(raw.copy(), "TEXT"))


def _group(raw: exp.Expr, pattern: str, group: int) -> exp.Expr:
    return exp.RegexpExtract(this=_text(raw), expression=text(pattern),
                             group=exp.Literal.number(group))


def _matches(raw: exp.Expr, pattern: str) -> exp.Expr:
    return exp.RegexpLike(this=_text(raw), expression=text(pattern))


def _number(sign: exp.Expr, digits: exp.Expr, sql_type: str) -> exp.Expr:
    """The number a sign and digits with thousands separators spell."""
    plain = exp.Replace(this=digits, expression=text(","), replacement=text(""))
    return try_cast(exp.Concat(expressions=[sign, plain]), sql_type)


def _whole(raw: exp.Expr, sql_type: str) -> exp.Expr:
    """Only whole numbers: engines would round "1.5" (DuckDB) or cut it (Spark). A value
    that casts to the same number as a decimal and as a whole number is one (an integer
    column's values, without a regular expression for each); text with thousands
    separators is read by its pattern."""
    whole = try_cast(raw.copy(), sql_type)
    exact = exp.EQ(this=try_cast(raw.copy(), DECIMAL_SQL), expression=whole.copy())
    grouped = case((exp.and_(not_null(raw.copy()), _matches(raw, _INTEGER)),
                    _number(_group(raw, _INTEGER, 1), _group(raw, _INTEGER, 2), sql_type)))
    return exp.Coalesce(this=case((exact, whole)), expressions=[grouped])


def _grouped(raw: exp.Expr, sql_type: str) -> exp.Expr:
    """A number with thousands separators ("1,000.5"), which a cast does not read."""
    pattern = f"^ *([+-]?)({_NUMBER}) *$"
    return case((_matches(raw, pattern),
                 _number(_group(raw, pattern, 1), _group(raw, pattern, 2), sql_type)))


def _code(currency: str) -> str:
    """A currency's code, in capitals or not."""
    return "".join(f"[{c.upper()}{c.lower()}]" for c in currency)


def _amount(raw: exp.Expr, sql_type: str, currency: str) -> exp.Expr:
    """An amount in `currency`: one sign at most, before or after its code or dollar
    sign ("-$5", "$-5", "USD -5"); its code before or after the number, not both; the
    dollar sign for USD only."""
    code = _code(currency)
    dollar = "[$]?" if currency == "USD" else ""
    pattern = (f"^ *([+-]?) *({code})? *([+-]?) *{dollar} *([+-]?) *({_NUMBER}) *"
               f"({code})? *$")
    signs = exp.Concat(expressions=[_group(raw, pattern, i) for i in (1, 3, 4)])
    codes = exp.Concat(expressions=[_group(raw, pattern, i) for i in (2, 6)])
    one_sign = exp.LTE(this=exp.Length(this=signs), expression=exp.Literal.number(1))
    one_code = exp.LTE(this=exp.Length(this=codes), expression=exp.Literal.number(3))
    return case((exp.and_(_matches(raw, pattern), one_sign, one_code),
                 _number(signs.copy(), _group(raw, pattern, 5), sql_type)))


def _percent(raw: exp.Expr, sql_type: str) -> exp.Expr:
    """"7.5%" as the fraction 0.075."""
    number = _number(_group(raw, _PERCENT, 1), _group(raw, _PERCENT, 2), sql_type)
    return case((_matches(raw, _PERCENT),
                 cast(exp.Div(this=number, expression=exp.Literal.number(100)), sql_type)))
