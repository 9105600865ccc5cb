"""The z3 translation (compiler/backends/smt.py): proofs, counterexamples, what is out of reach, the
equivalence API, and the soundness of the translation against the compiled code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import FACT_DECLARATIONS, Node, Options, environments, expressions, render

from clausec import api, ir
from clausec.backends import smt
from clausec.passes.check import CheckedProgram
from clausec.source import SourceFile

HEADER = """
agreement deal "Deal" {
  dated 2004-01-01
  party buyer "Buyer"
  party seller "Seller"
}
"""


def checked_of(text: str, name: str = "deal.clause") -> CheckedProgram:
    result = api.analyse(SourceFile(name, HEADER + text))
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.checked is not None
    return result.checked


def invariant_result(text: str, name: str = "inv") -> smt.SmtResult:
    return smt.check_invariant(checked_of(text), name, 5000)


def module_of(text: str) -> Any:
    code, diagnostics = api.compile_source(SourceFile("deal.clause", HEADER + text))
    assert code is not None, diagnostics
    return api.module_from_source(code, "deal.clause")


def fails_in_code(text: str, facts: dict[str, Any], name: str = "inv") -> bool:
    module = module_of(text)
    try:
        return module.evaluate(name, module.Facts(**facts)) is not True
    except module.MissingFactError:
        return False
    except module.ClauseRuntimeError:
        return True


MONEY = """
fact price: money
fact paid: money default $0
define remaining: money = price - paid
"""


def test_linear_money_is_proved() -> None:
    text = MONEY + "invariant inv = remaining is at least $0 when paid is at most price\n"
    assert invariant_result(text) == smt.Proved()


def test_false_money_invariant_gives_a_counterexample_the_code_fails_on() -> None:
    text = MONEY + "invariant inv = remaining is at least $0\n"
    result = invariant_result(text)
    assert isinstance(result, smt.Counterexample)
    facts = result.facts
    assert facts["paid"] > facts["price"]
    assert fails_in_code(text, facts)


DATES = """
fact start: date optional
fact flag: bool default false
define end_date: date = 10 days after start
define first_day: date = earlier of [start, 2005-01-01 when flag]
"""


def test_dates_and_optional_facts() -> None:
    assert invariant_result(DATES + "invariant inv = end_date is after start when start is given"
                            ) == smt.Proved()
    assert invariant_result(DATES + "invariant inv = first_day is on or before 2005-01-01 "
                            "when first_day is given and flag") == smt.Proved()
    text = DATES + "invariant inv = first_day is on or before 2005-01-01 when first_day is given"
    result = invariant_result(text)
    assert isinstance(result, smt.Counterexample)
    assert result.facts["start"] > date(2005, 1, 1) and not result.facts.get("flag")
    assert fails_in_code(text, result.facts)


def test_lists_and_exceptions() -> None:
    text = """
fact price: money
fact small: bool default false
fact tiny: bool default false
define capped: money = lesser of [price, $100]
exception to capped = $5 when small
exception to capped = $1 when tiny and not small
define total: money = sum of [$10 when small, $20 when tiny, capped]
invariant inv = capped is at most $100
invariant inv2 = total is at most $35 when tiny or small
invariant inv3 = total is at most $30 when tiny or small
"""
    assert invariant_result(text) == smt.Proved()
    assert smt.check_invariant(checked_of(text), "inv2", 5000) == smt.Proved()
    result = smt.check_invariant(checked_of(text), "inv3", 5000)
    assert isinstance(result, smt.Counterexample)
    assert fails_in_code(text, result.facts, "inv3")


def test_conflicting_exceptions_are_a_failure() -> None:
    text = """
fact price: money
fact a: money
define capped: money = price
exception to capped = $5 when a is at least $1
exception to capped = $6 when a is at least $2
invariant inv = capped is at least $0 when price is at least $0
"""
    result = invariant_result(text)
    assert isinstance(result, smt.Counterexample)
    assert result.facts["a"] >= 2  # both exceptions apply: ConflictError
    assert fails_in_code(text, result.facts)


def test_missing_value_that_is_not_a_fact_is_a_failure() -> None:
    text = DATES + "invariant inv = first_day is on or before 2005-01-01 when flag"
    # flag, start missing: "first_day" is 2005-01-01, fine; never NoValueError since flag holds.
    assert invariant_result(text) == smt.Proved()
    text = DATES + "invariant inv = first_day is on or before 2100-01-01"
    result = invariant_result(text)
    assert isinstance(result, smt.Counterexample)
    # Either a late start or no value at all (NoValueError): both fail in the code.
    assert fails_in_code(text, result.facts)


def test_missing_facts_are_not_failures() -> None:
    # Without `start`, end_date raises MissingFactError: the facts judge no case.
    text = DATES + "invariant inv = end_date is after start"
    assert invariant_result(text) == smt.Proved()
    assert not fails_in_code(text, {})


def test_exact_division_and_rounding() -> None:
    text = """
fact price: money
define half: money = price / 2
define rounded: money = round(price, 0)
invariant inv = half * 2 == price
invariant inv2 = rounded - price is at most $0.50 and price - rounded is at most $0.50
invariant inv3 = rounded == price
"""
    checked = checked_of(text)
    assert smt.check_invariant(checked, "inv", 5000) == smt.Proved()
    assert smt.check_invariant(checked, "inv2", 5000) == smt.Proved()
    result = smt.check_invariant(checked, "inv3", 5000)
    assert isinstance(result, smt.Counterexample)
    assert fails_in_code(text, result.facts, "inv3")


REACH = """
fact start: date
fact price: money
fact rate: percent
fact n: integer
fact k: integer
"""


@pytest.mark.parametrize("definition, reason", [
    ("define d: date = 2 business days after start", "business-day"),
    ("define d: money = price * (1 + rate) ^ n", "exponent that is not a constant"),
    ("define d: decimal = rate ^ 40", "'^ 40'"),
])
def test_out_of_reach(definition: str, reason: str) -> None:
    result = invariant_result(f"{REACH}{definition}\ninvariant inv = d == d\n")
    assert isinstance(result, smt.OutOfReach)
    assert reason in result.reason


TIME = REACH + """
periods quarter "quarter" = calendar quarters from start
fact sales: money per quarter
fact paid_on: date per quarter optional
obligation fee for each quarter q from start until 2030-01-01:
  buyer must pay sales(q) to seller by end of q performed on paid_on(q)
obligation once: buyer must pay price to seller by start performed on start
"""


@pytest.mark.parametrize("definition, reason", [
    ("define d: date = start of (quarter containing start)", "periods"),
    ("define d: date = end of first quarter", "periods"),
    ("define d: integer = number of (calendar month containing start)", "periods"),
    ("define d: date = last business day of (calendar quarter containing start)",
     "business day of a period"),
    ("define d: money = sales(quarter containing start)", "values per period"),
    ("define d: money = sum of [sales(q) for each quarter q from start through 2010-12-31]",
     "aggregates over a range of periods"),
    ("define d: bool = fee(quarter containing start).active", "'.active'"),
    ("define d: date = once.due", "'.due'"),
    ("define d: bool = once is late on 2020-01-01", "late"),
])
def test_periods_series_and_recurring_duties_are_out_of_reach(definition: str,
                                                              reason: str) -> None:
    checked = checked_of(f"{TIME}{definition}\ninvariant inv = d == d\n")
    result = smt.check_invariant(checked, "inv", 5000)
    assert isinstance(result, smt.OutOfReach), result
    assert reason in result.reason
    # Left free, they still give z3 something to search (candidates, never proofs).
    translator = smt.Translator(checked, abstract=True)
    translator.holds(checked.declarations["inv"])  # type: ignore[arg-type]
    assert translator.abstracted


def test_recurring_provisions_and_period_parameters_are_out_of_reach() -> None:
    checked = checked_of(TIME + "define per_quarter(q: quarter): money = sales(q)\n")
    for name in ("fee", "per_quarter"):
        result = smt.check_equivalent(checked, checked, name, 5000)
        assert isinstance(result, smt.OutOfReach), (name, result)
    with pytest.raises(smt.OutOfReachError, match="values per period"):
        smt.translate(checked).value("sales")
    # A counterexample gives a required series no values, not a value of its type.
    assert smt.simple_value(checked.declarations["sales"], checked.header) == {}  # type: ignore[arg-type]
    # What does not use them is still in reach.
    assert smt.check_equivalent(checked, checked, "once", 5000) == smt.Proved()


@pytest.mark.parametrize("definition", [
    "define d: money = price / 3",  # rounded: in reach as a bounded error
    "define d: money = price * rate",
    "define d: integer = n * k",
    "define d: decimal = n / k",
    "define d: decimal = rate ^ 3",
    "define d: decimal = rate / rate ^ -2",
])
def test_non_linear_arithmetic_is_in_reach(definition: str) -> None:
    # Where the divisor is 0, the code raises: that is the only way d == d fails.
    text = f"{REACH}{definition}\ninvariant inv = d == d when k != 0 and rate != 0%\n"
    assert invariant_result(text) == smt.Proved()


def test_non_linear_proofs_and_counterexamples() -> None:
    text = REACH + """
invariant inv = n * k != 391 when n > 1 and k > 1
invariant square = n * n >= 0
invariant share = price * rate is at most price when rate is at most 100% and price >= $0
invariant cube = rate ^ 3 >= 0 when rate >= 0%
invariant inverse = rate ^ -2 > 0 when rate > 0%
invariant shares = n / k is at most 1 when n <= k and k > 0 and n >= 0
"""
    checked = checked_of(text)
    result = smt.check_invariant(checked, "inv", 5000)
    assert isinstance(result, smt.Counterexample) and result.exact
    assert result.facts["n"] * result.facts["k"] == 391 and fails_in_code(text, result.facts)
    for name in ("square", "share", "cube", "inverse", "shares"):
        assert smt.check_invariant(checked, name, 5000) == smt.Proved(), name


def test_rounded_quotients_are_sound() -> None:
    """A quotient that does not terminate is rounded to 28 digits after the whole-number
    part: z3 may neither prove that m / (m + 1) stays below 1, nor that a third of m
    times 3 is m, and its counterexamples fail in the code. Exact quotients are exact."""
    text = REACH + """
invariant below_one = price / (price + $1) is less than 1 when price is at least $0
invariant third = (price / 3) * 3 == price
invariant near = (price / 3) * 3 - price is at most $0.0001 and price - (price / 3) * 3 is at most $0.0001
invariant half = (price / 2) * 2 == price
invariant exact = (n / k) * k == n when k != 0 and (n == 2 * k or n == 3 * k)
invariant zero = price / (price - price) == 0
"""
    checked = checked_of(text)
    for name in ("below_one", "third", "zero"):
        result = smt.check_invariant(checked, name, 5000)
        assert isinstance(result, smt.Counterexample), name
        # A candidate where z3 chose the digits of a rounded quotient (the code confirms
        # it); price - price is 0, a constant: a division by zero, exactly.
        assert result.exact == (name == "zero")
        assert fails_in_code(text, result.facts, name), (name, result.facts)
    for name in ("near", "half", "exact"):
        assert smt.check_invariant(checked, name, 5000) == smt.Proved(), name


def test_results_beyond_the_limits_of_numbers_are_never_proved_away() -> None:
    """Squared ten times, a money fact of 1E+1000 leaves the limits of numbers and the
    code raises: z3 must not prove the result of the squarings is at least 0."""
    text = "fact m: decimal\ndefine p0: decimal = m * m\n" + "".join(
        f"define p{i}: decimal = p{i - 1} * p{i - 1}\n" for i in range(1, 10)) + \
        "invariant inv = p9 is at least 0\n"
    assert fails_in_code(text, {"m": Decimal("1E+1000")})
    assert not isinstance(invariant_result(text), smt.Proved)


def test_year_variables_of_two_versions_are_distinct() -> None:
    # Each translator named its year() variables "_year1", ...: in one z3 context, the two
    # versions' years of different dates were one variable.
    before = checked_of("fact a: date\nfact b: date\ncondition c = year(a) > 2000\n")
    after = checked_of("fact a: date\nfact b: date\ncondition c = year(b) > 2000\n")
    assert isinstance(smt.check_equivalent(before, after, "c"), smt.Counterexample)


def test_constants_convert_exactly() -> None:
    q = Fraction(12345678901234567890123456789012345, 100)
    assert smt.to_decimal(q) == Decimal("123456789012345678901234567890123.45")


def test_year_is_exact() -> None:
    text = """
fact start: date
invariant inv = year(start + 366 days) is more than year(start)
invariant inv2 = year(start + 365 days) is more than year(start)
"""
    checked = checked_of(text)
    assert smt.check_invariant(checked, "inv", 5000) == smt.Proved()
    result = smt.check_invariant(checked, "inv2", 5000)
    # 365 days after January 1 of a leap year is December 31 of the same year.
    assert isinstance(result, smt.Counterexample)
    start = result.facts["start"]
    assert (start.month, start.day) == (1, 1) and start.year % 4 == 0
    assert fails_in_code(text, result.facts, "inv2")


# ------------------------------------------------------------- equivalence


BEFORE = """
fact price: money
fact paid: money default $0
fact late: bool default false
define remaining: money = price - paid
define fee: money = if late then $10 else $0
obligation pay: buyer must pay remaining to seller on 2004-02-01 when price is more than $0
"""
AFTER_SAME = BEFORE.replace("price - paid", "-paid + price")
AFTER_FEE = BEFORE.replace("then $10", "then $12")
AFTER_DUE = BEFORE.replace("on 2004-02-01", "on 2004-02-02")


def test_equivalence_of_versions() -> None:
    before = checked_of(BEFORE)
    assert smt.check_equivalent(before, checked_of(AFTER_SAME), "remaining") == smt.Proved()
    assert smt.check_equivalent(before, checked_of(AFTER_SAME), "pay") == smt.Proved()
    differ = smt.check_equivalent(before, checked_of(AFTER_FEE), "fee")
    assert isinstance(differ, smt.Counterexample) and differ.facts["late"] is True
    assert smt.check_equivalent(before, checked_of(AFTER_FEE), "remaining") == smt.Proved()
    due = smt.check_equivalent(before, checked_of(AFTER_DUE), "pay")
    assert isinstance(due, smt.Counterexample)


def test_equivalence_with_parameters() -> None:
    before = checked_of("define twice(n: integer): integer = n * 2\n")
    after = checked_of("define twice(n: integer): integer = n + n\n")
    wrong = checked_of("define twice(n: integer): integer = n + 2\n")
    assert smt.check_equivalent(before, after, "twice") == smt.Proved()
    differ = smt.check_equivalent(before, wrong, "twice")
    assert isinstance(differ, smt.Counterexample) and differ.args["n"] != 2


def test_facts_json_round_trips_through_the_compiled_facts() -> None:
    text = """
fact price: money
fact rate: percent
fact on: date
fact n: days
fact who: party
invariant inv = price is at least $0
"""
    module = module_of(text)
    facts = {"price": Decimal("12.50"), "rate": Decimal("0.075"), "on": date(2004, 3, 31),
             "n": 3, "who": "seller"}
    data = smt.facts_json(facts, {d.name: d for d in checked_of(text).program.declarations
                                  if isinstance(d, ir.Fact)})
    assert data == {"price": "12.5", "rate": "7.5%", "on": "2004-03-31", "n": 3,
                    "who": "seller"}
    loaded = module.Facts.from_dict(data)
    assert loaded.price == facts["price"] and loaded.rate == facts["rate"]


# --------------------------------------------------------------- soundness


def _invariant_of(node: Node) -> str:
    """A yes/no property of a random expression."""
    if node.kind == "bool":
        return render(node)
    zero = "$0" if node.kind == "money" else "0"
    return f"{render(node)} is at least {zero}"


SOUND = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SOUND
@given(st.data())
def test_translation_is_sound(data: st.DataObject) -> None:
    """Whenever z3 proves an invariant of a random program, the compiled code holds on
    random facts; whenever it gives a counterexample, the compiled code fails on it."""
    node = data.draw(expressions(Options(guards=True, rounding=True)))
    text = FACT_DECLARATIONS + f"invariant inv = {_invariant_of(node)}\n"
    code, _ = api.compile_source(SourceFile("random.clause", text))
    if code is None:
        return  # a type the checker refuses (e.g. comparing with a list of no value)
    module = api.module_from_source(code, "random.clause")
    result = api.analyse(SourceFile("random.clause", text))
    assert result.checked is not None
    answer = smt.check_invariant(result.checked, "inv", 2000)

    def fails(facts: dict[str, Any]) -> bool:
        try:
            return module.evaluate("inv", module.Facts(**facts)) is not True
        except module.MissingFactError:
            return False
        except module.ClauseRuntimeError:
            return True

    if isinstance(answer, smt.Proved):
        for _ in range(3):
            env = data.draw(environments)
            assert not fails(env), (text, env)
    elif isinstance(answer, smt.Counterexample) and answer.exact:
        # Where the translation approximates (a rounded quotient, a result that may leave
        # the limits of numbers), a model is a candidate only: verify confirms it.
        assert fails(answer.facts), (text, answer.facts)


def test_seed_rights_agreement_invariants_translate() -> None:
    root = Path(__file__).resolve().parents[1] / "clauses" / "rights_agreement"
    agreement, found = api.group([root])[0]
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in found])
    assert result.versions is not None
    original = result.versions[0][1]
    assert smt.check_invariant(original, "flip_in_needs_acquiring_person", 5000) == smt.Proved()
