"""Money is never rounded silently (README, "Conventions where contracts are silent").

The rules, checked here against `fractions.Fraction` (exact rational arithmetic), through
a compiled module and through the interpreter, whatever the caller's decimal context:

- `+`, `-`, `*`, negation and `sum of` are exact, at any size;
- every nonzero result lies between 1E-999999 and 1E+1000000 in magnitude, or the
  clause raises an error saying the result is too small or too large;
- `x ^ n` (an integer n) is exact while it has at most 10,000 significant digits, and an
  error beyond; `x ^ -n` is `1 / x ^ n` under the division rule;
- a quotient is exact when it terminates; otherwise it is rounded half-even, keeping its
  whole-number part and 28 significant digits after it;
- `round(x, n)` rounds half up.

The rules written in Fraction, independently of the runtime, are in
tests/exact_reference.py; the compiled-arithmetic properties of tests/test_fuzz.py use
them as well.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import ROUND_DOWN, Decimal, Inexact, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from exact_reference import (
    TooLarge,
    TooManyDigits,
    TooSmall,
    Undefined,
    coefficient,
    digits,
    magnitude,
    reference_power,
    reference_quotient,
    reference_round,
    terminates,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import clausec
from clausec import api
from clausec.backends.interpret import interpret
from clausec.backends.python.runtime import ClauseRuntimeError
from clausec.backends.python.runtime_eval import _div
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
PATENT = ROOT / "clauses" / "patent_purchase"

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# The rules themselves, on worked examples
# ---------------------------------------------------------------------------


def test_the_reference_rules_on_worked_examples() -> None:
    assert reference_quotient(1, 8) == Fraction(1, 8)
    assert reference_quotient(1, 3) == Fraction(int("3" * 28), 10**28)
    assert reference_quotient(100, 3) == Fraction(int("33" + "3" * 28), 10**28)
    assert reference_quotient(1, 300) == Fraction(int("3" * 28), 10**30)
    assert reference_quotient(2, 3) == Fraction(int("6" * 27 + "7"), 10**28)
    assert reference_power(Decimal("1.5"), 2) == Fraction(9, 4)
    assert reference_power(2, -3) == Fraction(1, 8)
    assert reference_round(Decimal("2.345"), 2) == Fraction(235, 100)
    assert reference_round(Decimal("-2.345"), 2) == Fraction(-235, 100)
    assert reference_round(Decimal("2.5"), 0) == 3
    with pytest.raises(TooManyDigits):
        reference_power(2, 33220)  # 2^33220 has 10,001 digits
    assert digits(coefficient(reference_power(2, 33219))[0]) == 10_000
    assert reference_power(10, 20000) == 10**20000  # one significant digit
    assert coefficient(Decimal("1.2300E+5")) == (123, 3)
    assert magnitude(Fraction(1, 300)) == -3 and magnitude(Fraction(10**5000)) == 5000
    with pytest.raises(TooSmall):
        reference_power(10, -1_000_000)


# ---------------------------------------------------------------------------
# A program with every arithmetic operation, compiled and interpreted
# ---------------------------------------------------------------------------

PROGRAM = """\
fact a: money
fact b: money
fact d: decimal
fact e: decimal
fact p: percent
fact n: integer

define plus: money = a + b
define minus: money = a - b
define times: money = a * d
define share: money = a * p
define negated: money = -a
define total: money = sum of [a, b, a * p, -b]
define poly: decimal = d * e - d + e * e
define mixed: decimal = d * n + e - n
define ratio: decimal = a / b
define per: money = a / d
define whole: decimal = n / 7
define power(k: integer): decimal = d ^ k
define grown(k: integer): money = a * (1 + p) ^ k
define rounded(k: integer): decimal = round(d, k)
define huge: decimal = d ^ 1000 * d ^ 1000
define tiny: decimal = 10 ^ (0 - n * 1000000000)
"""

EXPECTED: dict[str, Callable[..., Fraction]] = {
    "plus": lambda f: f["a"] + f["b"],
    "minus": lambda f: f["a"] - f["b"],
    "times": lambda f: f["a"] * f["d"],
    "share": lambda f: f["a"] * f["p"],
    "negated": lambda f: -f["a"],
    "total": lambda f: f["a"] + f["b"] + f["a"] * f["p"] - f["b"],
    "poly": lambda f: f["d"] * f["e"] - f["d"] + f["e"] * f["e"],
    "mixed": lambda f: f["d"] * f["n"] + f["e"] - f["n"],
    "ratio": lambda f: reference_quotient(f["a"], f["b"]),
    "per": lambda f: reference_quotient(f["a"], f["d"]),
    "whole": lambda f: reference_quotient(f["n"], 7),
}


def _build() -> tuple[Any, Any]:
    source = SourceFile("money.clause", PROGRAM)
    result = api.analyse(source)
    assert result.ok, [d.message for d in result.diagnostics]
    return api.module_from_source(api.generate(result), source.name), interpret(result)


MODULE, INTERPRETER = _build()

# The application's decimal context must not matter (README: results never depend on it).
CALLER_CONTEXTS: list[dict[str, Any]] = [
    {}, {"prec": 6}, {"prec": 28, "traps": [Inexact]}, {"Emax": 12, "Emin": -12},
    {"rounding": ROUND_DOWN, "traps": []},
]


def outcomes(name: str, facts: dict[str, Any], *args: Any) -> list[tuple[str, Any]]:
    """What the compiled module and the interpreter give, in every caller context."""
    results: list[tuple[str, Any]] = []
    for context in CALLER_CONTEXTS:
        with localcontext(**context):
            runs: list[Callable[[], Any]] = [
                lambda: MODULE.evaluate(name, MODULE.Facts(**facts), *args),
                lambda: INTERPRETER.evaluate(name, facts, *args)]
            for run in runs:
                try:
                    results.append(("value", run()))
                except (ClauseRuntimeError, MODULE.ClauseRuntimeError) as error:
                    results.append(("error", error.message))
    return results


def _show(value: object) -> str:
    """A value for a failure message (str() refuses ints of more than 4,300 digits)."""
    try:
        text = str(value)
    except ValueError:
        return f"<a {type(value).__name__} too long to print>"
    return text if len(text) <= 200 else text[:200] + "..."


def assert_all(name: str, facts: dict[str, Any], expected: Fraction | type[ArithmeticError],
               *args: Any) -> None:
    for kind, got in outcomes(name, facts, *args):
        def where(kind: str = kind, got: Any = got) -> str:
            return (f"{name}{args} with {facts}: expected {_show(expected)}, "
                    f"got {kind} {_show(got)}")
        if isinstance(expected, type):
            assert kind == "error", where()
            words = {TooLarge: "too large", TooSmall: "too small",
                     TooManyDigits: "more than 10,000 significant digits",
                     ZeroDivisionError: "division by zero",
                     Undefined: "0 to the power of 0 is undefined"}[expected]
            assert words in got, where()
        else:
            assert kind == "value" and isinstance(got, Decimal), where()
            assert Fraction(got) == expected, where()


def _decimal(sign: int, coefficient: int, exponent: int) -> Decimal:
    return Decimal((sign, tuple(map(int, str(coefficient))), exponent))


def _fits(value: Decimal) -> bool:
    """Facts accept exponents and magnitudes up to 1000 (runtime._MAX_EXPONENT)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return abs(exponent) <= 1000 and abs(value.adjusted()) <= 1000


# Any size: 40-digit amounts, tiny and huge exponents, and everyday cents.
amounts = st.builds(
    _decimal, st.integers(0, 1),
    st.one_of(st.integers(0, 10**40), st.integers(0, 10**6), st.just(1)),
    st.one_of(st.integers(-40, 10), st.sampled_from([-2, -30, -1000, -960, 500, 900])),
).filter(_fits)
facts_values = st.fixed_dictionaries({
    "a": amounts, "b": amounts, "d": amounts, "e": amounts, "p": amounts,
    "n": st.one_of(st.integers(-10**6, 10**6), st.integers(-10**40, 10**40)),
})


@SETTINGS
@given(facts_values)
@example({"a": Decimal("12345678901234567890123456789.01"), "b": Decimal("1E-30"),
          "d": Decimal("1E-30"), "e": Decimal("98765432109876543210987654321.99"),
          "p": Decimal("0.075"), "n": 10**30})
def test_addition_subtraction_multiplication_are_exact(facts: dict[str, Any]) -> None:
    exact = {k: Fraction(v) for k, v in facts.items()}
    for name in ("plus", "minus", "times", "share", "negated", "total", "poly", "mixed"):
        assert_all(name, facts, EXPECTED[name](exact))


@SETTINGS
@given(facts_values)
@example({"a": Decimal("12345678901234567890123456789.01"), "b": Decimal(2),
          "d": Decimal("0.125"), "e": Decimal(1), "p": Decimal(0), "n": 7})
@example({"a": Decimal(1), "b": Decimal(3), "d": Decimal(300), "e": Decimal(1),
          "p": Decimal(0), "n": 100})
def test_division_is_exact_or_rounded_by_the_rule(facts: dict[str, Any]) -> None:
    exact = {k: Fraction(v) for k, v in facts.items()}
    for name in ("ratio", "per", "whole"):
        try:
            expected: Fraction | type[ArithmeticError] = EXPECTED[name](exact)
        except ZeroDivisionError:
            expected = ZeroDivisionError
        assert_all(name, facts, expected)


moderate = st.builds(_decimal, st.integers(0, 1), st.integers(1, 10**30), st.integers(-20, 10))


@SETTINGS
@given(moderate, moderate, st.integers(0, 60), st.integers(0, 40), st.integers(-30, 30))
@example(Decimal("12345678901234567890123456789.01"), Decimal(1), 1, 0, 0)
def test_terminating_quotients_are_exact(a: Decimal, b: Decimal, twos: int, fives: int,
                                         shift: int) -> None:
    # (a * b) / (b * 2^i * 5^j * 10^k) is a / (2^i * 5^j * 10^k): it terminates.
    dividend = Fraction(a) * Fraction(b)
    divisor = Fraction(b) * 2**twos * 5**fives * Fraction(10) ** shift
    assert terminates(dividend / divisor)
    facts = {"a": _exactly(dividend), "b": _exactly(divisor), "d": Decimal(1),
             "e": Decimal(1), "p": Decimal(0), "n": 0}
    assert_all("ratio", facts, dividend / divisor)


def _exactly(value: Fraction) -> Decimal:
    c, k = coefficient(value)
    return _decimal(int(value < 0), c, k) if c else Decimal(0)


bases = st.builds(_decimal, st.integers(0, 1),
                  st.one_of(st.integers(0, 2000), st.sampled_from([1, 10, 2, 5, 1075, 3])),
                  st.integers(-4, 3))
exponents = st.one_of(st.integers(-40, 40), st.integers(-3000, 3000),
                      st.sampled_from([33219, 33220, -33220, 10**9, -10**9, 10**30]))


@SETTINGS
@given(bases, exponents)
@example(Decimal("1.075"), 996)
@example(Decimal(2), 33219)
@example(Decimal(2), 33220)
@example(Decimal(10), -10**9)
@example(Decimal(-1), 10**30 + 1)
@example(Decimal(0), -1)
def test_integer_powers_are_exact_or_an_error(base: Decimal, exponent: int) -> None:
    try:
        expected: Fraction | type[ArithmeticError] = reference_power(base, exponent)
    except (ArithmeticError) as error:
        expected = type(error)
    facts = {"a": Decimal(1), "b": Decimal(1), "d": base, "e": Decimal(1), "p": Decimal(0),
             "n": 0}
    assert_all("power", facts, expected, exponent)


@SETTINGS
@given(amounts, st.integers(-5, 40))
@example(Decimal("2.345"), 2)
@example(Decimal("-2.345"), 2)
@example(Decimal("0.5"), 0)
@example(Decimal(1250), -2)
def test_round_is_half_up(value: Decimal, places: int) -> None:
    facts = {"a": Decimal(1), "b": Decimal(1), "d": value, "e": Decimal(1), "p": Decimal(0),
             "n": 0}
    assert_all("rounded", facts, reference_round(value, places), places)


def test_results_beyond_the_limits_are_errors_not_infinity_or_zero() -> None:
    base = {"a": Decimal(1), "b": Decimal(1), "d": Decimal(1), "e": Decimal(1),
            "p": Decimal(0), "n": 1}
    assert_all("huge", {**base, "d": Decimal("1E+900")}, TooLarge)
    assert_all("huge", {**base, "d": Decimal("1E-900")}, TooSmall)
    assert_all("huge", {**base, "d": Decimal("1E+49")}, Fraction(10) ** 98000)
    # 10 ^ (0 - x * 1000000000) was 0, without an error.
    assert_all("tiny", base, TooSmall)
    assert_all("tiny", {**base, "n": -1}, TooLarge)
    assert_all("tiny", {**base, "n": 0}, Fraction(1))


def test_compounding_for_a_thousand_years_is_exact() -> None:
    facts = {"a": Decimal("10000000.00"), "b": Decimal(1), "d": Decimal(1), "e": Decimal(1),
             "p": Decimal("0.075"), "n": 0}
    assert_all("grown", facts, Fraction(10**7) * Fraction(1075, 1000) ** 996, 996)
    assert_all("grown", facts, 10**7 * reference_quotient(1, Fraction(1075, 1000) ** 4), -4)


# ---------------------------------------------------------------------------
# The seed Patent Purchase Agreement
# ---------------------------------------------------------------------------

_PPA = clausec.load(PATENT)
((_AGREEMENT, _AMENDMENTS),) = api.group([PATENT])
_PPA_INTERPRETED = interpret(api.analyse(SourceFile.read(_AGREEMENT),
                                         [SourceFile.read(a) for a in _AMENDMENTS]))
_PPA_FACTS = {"board_approved_by_written_consent_on": date(2004, 3, 31),
              "license_first_transferred_on": date(2004, 6, 1)}


def _ppa(name: str, facts: dict[str, Any], *args: Any) -> list[Any]:
    values = []
    for context in CALLER_CONTEXTS:
        with localcontext(**context):
            values.append(_PPA.evaluate(name, _PPA.Facts(**facts), *args))
            values.append(_PPA_INTERPRETED.evaluate(name, facts, *args))
    return values


@pytest.mark.parametrize(("deposit", "payment"), [
    ("12345678901234567890123456789.01", "-12345678901234567890121656789.01"),
    (Decimal("1E-30"), "1799999.999999999999999999999999999999"),
    ("$900,000.000000000000000000000000000001", "899999.999999999999999999999999999999"),
])
def test_closing_payment_is_exact(deposit: str | Decimal, payment: str) -> None:
    facts = {**_PPA_FACTS, "deposit_received": deposit}
    for value in _ppa("closing_payment", facts):
        assert value == Decimal(payment), value
    # From JSON-like strings and through Facts.from_dict too.
    parsed = _PPA.Facts.from_dict({**facts, "deposit_received": deposit})
    assert _PPA.closing_payment(parsed) == Decimal(payment)
    assert _PPA.format_money(Decimal(payment)) in str(_PPA.closing_payment_due(parsed))


def test_revenue_limitation_is_not_rounded() -> None:
    # Section 7.2: "The amount is not rounded: the Agreement says nothing of rounding."
    exact = Decimal("31807931.54270204097552113258279860019683837890625")
    for value in _ppa("revenue_limitation", _PPA_FACTS, 2020):
        assert value == exact
    assert Fraction(exact) == 10**7 * Fraction(1075, 1000) ** 16


def test_revenue_limitation_of_year_3000_is_exact() -> None:
    # It was "the arithmetic is undefined (InvalidOperation)": 10,000,000 x 1.075^996 has
    # 39 digits before the point, more than the old 28-digit context could quantize.
    exact = 10**7 * Fraction(1075, 1000) ** 996
    for value in _ppa("revenue_limitation", _PPA_FACTS, 3000):
        assert Fraction(value) == exact
        assert 1.9e38 < value < 2e38


def test_revenue_limitation_too_far_out_is_a_clear_error() -> None:
    # 1.075 ^ 8000 has 24,000 significant digits: more than the documented 10,000.
    with pytest.raises(_PPA.ClauseRuntimeError, match="more than 10,000 significant digits"):
        _PPA.revenue_limitation(_PPA.Facts(**_PPA_FACTS), 10004)


# ---------------------------------------------------------------------------
# Facts are taken exactly
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "text", "value"), [
    ("money", "12345678901234567890123456789.01", "12345678901234567890123456789.01"),
    ("money", "$12,345,678,901,234,567,890,123,456,789.01", "12345678901234567890123456789.01"),
    ("money", "USD 0.000000000000000000000000000001", "1E-30"),
    ("decimal", "1E-30", "1E-30"),
    ("decimal", "3.14159265358979323846264338327950288419716939937510",
     "3.14159265358979323846264338327950288419716939937510"),
    ("percent", "12.3456789012345678901234567890123%", "0.123456789012345678901234567890123"),
])
def test_facts_from_strings_are_not_rounded(kind: str, text: str, value: str) -> None:
    code, _ = api.compile_source(SourceFile("f.clause", f"fact x: {kind}\ndefine y = x\n"))
    assert code is not None
    module = api.module_from_source(code, "f.clause")
    with localcontext(prec=3):
        facts = module.Facts.from_dict({"x": text})
    assert facts.x.as_tuple() == Decimal(value).as_tuple()


def test_negative_defaults_are_not_rounded_by_the_callers_context() -> None:
    code, _ = api.compile_source(SourceFile("d.clause", (
        "fact x: money default -$12,345,678,901,234,567,890,123,456,789.01\n"
        "define y: money = x\n")))
    assert code is not None
    module = api.module_from_source(code, "d.clause")
    with localcontext(prec=3):
        assert module.Facts().x == Decimal("-12345678901234567890123456789.01")


def test_percent_literals_are_not_rounded() -> None:
    """A percent literal is its digits moved two places, not a division in 28 digits."""
    code, _ = api.compile_source(SourceFile("p.clause", (
        "define p: percent = 12.3456789012345678901234567890123%\n")))
    assert code is not None
    module = api.module_from_source(code, "p.clause")
    assert module.p(module.Facts()) == Decimal("0.123456789012345678901234567890123")


def test_divisions_in_threads_agree() -> None:
    # The runtime shares its division contexts between threads: no result may depend on
    # what another thread divides at the same time.
    at = ("t.clause", 1, 1, None)
    pairs = [(Decimal(n), Decimal(d)) for n in (1, 2, 100, 12345678901234567890123456789)
             for d in (3, 7, 8, 64, Decimal("0.3"), 1024)]

    def work(_: int) -> list[Decimal]:
        return [_div(a, b, at) for a, b in pairs * 50]

    expected = work(0)
    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(work, range(8)):
            assert [(v, v.as_tuple()) for v in result] == [(v, v.as_tuple()) for v in expected]
    assert all(Fraction(v) == reference_quotient(a, b) for v, (a, b) in zip(expected, pairs * 50))
