"""The interpreter and the compiled module agree on contracts that run over time: periods,
series facts, aggregates over ranges of periods, balances carried forward, recurring
obligations and powers, their fields and lateness (docs/time.md), on programs written
here and on the encoded contracts' own scenario tests."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_differential import _compile, outcome

from clausec.backends.interpret import interpret
from clausec.backends.python.runtime_periods import add_months
from clausec.tools import testing

ROOT = Path(__file__).resolve().parent.parent

HEADER = """
agreement deal "Deal" {
  dated 2008-01-01
  party licensee "Licensee"
  party licensor "Licensor"
  calendar us_federal
}
"""

PROGRAM = HEADER + """
fact commencement: date
fact term_end: date optional
fact as_of: date
fact sales: money per royalty_quarter
fact units: integer per calendar_quarter optional
fact fees: money per contract_year default $0
fact paid_on: date per royalty_quarter optional
fact notice_on: date optional
periods royalty_quarter "royalty quarter" = calendar quarters from commencement
periods fiscal_quarter "fiscal quarter" = fiscal quarters beginning April 1
periods fiscal_year "fiscal year" = fiscal years beginning April 1
periods contract_year "contract year" = contract years from commencement
periods contract_month "contract month" = contract months from commencement

define current: royalty_quarter = royalty_quarter containing as_of
define opening: royalty_quarter = first royalty_quarter
define current_start: date = start of current
define current_end: date = end of current
define following: royalty_quarter = next current
define preceding: royalty_quarter = previous current
define quarter_number: integer = number of current
define fiscal_number: integer = number of (fiscal_year containing as_of)
define contract_number: integer = number of (contract_year containing as_of)
define month_number: integer = number of (contract_month containing as_of)
define last_day: date = last business day of current
define first_day: date = first business day of (fiscal_quarter containing as_of) in us_federal
define notice_quarter: royalty_quarter = royalty_quarter containing notice_on
define notice_quarter_end: date = end of (royalty_quarter containing notice_on)
condition later = current is after opening
condition same = current == (royalty_quarter containing current_start)

define to_date: money =
  sum of [sales(q) for each royalty_quarter q from commencement through as_of]
define before_end: money =
  sum of [sales(q) for each royalty_quarter q from commencement until term_end]
define trailing: money = sum of [sales(q) for each royalty_quarter q in the 4 ending with as_of]
define big_quarters: integer =
  sum of [1 for each royalty_quarter q from opening through current when sales(q) > $100]
define units_so_far: integer =
  sum of [units(p) for each calendar_quarter p from start of (calendar_year containing as_of)
          through as_of when units(p) is given]
define best: money = greatest of [sales(q) for each royalty_quarter q in the 3 ending with current]
define worst: money = least of [sales(q) for each royalty_quarter q from commencement through as_of]
define first_paid: date = earliest of [paid_on(q) for each royalty_quarter q
                                       from commencement through as_of when paid_on(q) is given]
condition all_big = all of [sales(q) > $50 for each royalty_quarter q in the 2 ending with as_of]
condition any_big = any of [sales(q) > $500 for each royalty_quarter q from commencement through as_of]
condition none_paid = none of [paid_on(q) is given for each royalty_quarter q
                               from commencement through as_of]
define year_fees: money = sum of [fees(y) for each contract_year y from commencement through as_of]

define credit(q: royalty_quarter): money =
  if q is after first royalty_quarter
  then greater of [$0, credit(previous q) + $100 - sales(q)]
  else greater of [$0, $100 - sales(q)]
define credit_now: money = credit(current)
define balance(q: calendar_quarter): integer =
  if q is on or before calendar_quarter containing commencement then 0
  else balance(previous q) + 1
define quarter_sales(q: royalty_quarter): money = sales(q)
define maybe_units(q: calendar_quarter): integer = units(q)

obligation royalty "the royalty"
    for each royalty_quarter q from commencement until term_end:
  licensee must pay sales(q) / 10 to licensor within 30 days after end of q
    performed on paid_on(q)
obligation report for each fiscal_quarter f in the 2 ending with as_of:
  licensee must deliver "a report" to licensor promptly, but in any event by end of f
obligation flat: licensee must pay $10 to licensor by as_of performed on notice_on
power quota_termination "termination for a missed quota"
    for each contract_year y from commencement:
  licensor may terminate within 6 months after end of y when fees(y) is less than $1,000
  then licensee must pay $5 to licensor within 10 days after end of y

define royalty_due: date = royalty(current).due
define royalty_amount: money = royalty(current).amount
define royalty_paid: date = royalty(current).performed_on
condition royalty_active = royalty(current).active
condition royalty_late = royalty(preceding) is late on as_of
condition any_late = any of [royalty(q) is late on as_of for each royalty_quarter q
                             from commencement through as_of]
condition cured = royalty(current).performed_on is not given
  or royalty(current).performed_on is after 30 days after notice_on
condition flat_late = flat is late on 2011-06-30
define flat_due: date = flat.due
"""

# The definitions that take a period, and the obligations and powers that recur.
PARAMETRISED = ("credit", "balance", "quarter_sales", "maybe_units", "royalty", "report",
                "quota_termination")
# The fields and lateness of an obligation that does not recur, named without a period:
# the compiled module evaluates the name as a party's ('flat'.due raises AttributeError),
# see test_a_field_of_an_obligation_that_does_not_recur.
BY_NAME = ("flat_late", "flat_due")


@st.composite
def fact_sets(draw: st.DrawFn) -> dict[str, Any]:
    commencement = date(2008, 1, 1) + timedelta(days=draw(st.integers(0, 900)))
    values: dict[str, Any] = {
        "commencement": commencement,
        "as_of": commencement + timedelta(days=draw(st.integers(-100, 1500))),
    }
    if draw(st.booleans()):
        values["term_end"] = commencement + timedelta(days=draw(st.integers(-30, 1500)))
    if draw(st.booleans()):
        values["notice_on"] = commencement + timedelta(days=draw(st.integers(-30, 1500)))
    amounts = st.integers(0, 2000).map(Decimal)
    quarters = draw(st.integers(0, 20))
    skip = draw(st.sets(st.integers(0, 20), max_size=4))
    # Named by any date inside each quarter (a quarter's last day, its first, or a label).
    values["sales"] = {add_months(commencement, 3 * i).isoformat(): draw(amounts)
                       for i in range(quarters) if i not in skip}
    if draw(st.booleans()):
        first = date(commencement.year, 1, 1)
        values["units"] = {f"{(add_months(first, 3 * i)).year}-Q"
                           f"{(add_months(first, 3 * i).month - 1) // 3 + 1}":
                           draw(st.integers(0, 50)) for i in range(draw(st.integers(0, 12)))}
    if draw(st.booleans()):
        values["fees"] = {f"contract year {i + 1}": draw(amounts)
                          for i in range(draw(st.integers(0, 5)))}
    if draw(st.booleans()):
        values["paid_on"] = {
            add_months(commencement, 3 * i).isoformat():
                add_months(commencement, 3 * i + 3) + timedelta(days=draw(st.integers(-40, 60)))
            for i in range(draw(st.integers(0, 12)))}
    return values


_CACHE: dict[str, Any] = {}


def _program() -> tuple[Any, Any]:
    if "program" not in _CACHE:
        _CACHE["program"] = _compile(PROGRAM, "deal.clause")
    return _CACHE["program"]  # type: ignore[no-any-return]


def _agree(module: Any, one: Any, values: dict[str, Any], name: str,
           args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    facts = outcome(lambda: module.Facts(**values))
    if facts[0] == "error":
        assert outcome(lambda: one.facts(values)) == facts
        return facts
    compiled_facts = module.Facts(**values)
    compiled = outcome(lambda: module.evaluate(name, compiled_facts, *args))
    interpreted = outcome(lambda: one.evaluate(name, values, *args))
    assert compiled == interpreted, (f"facts: {values}\n{name}{args}:\n"
                                     f"  compiled:    {compiled}\n  interpreted: {interpreted}")
    return compiled


@settings(max_examples=25)
@given(fact_sets(), st.lists(st.integers(-8, 24), min_size=1, max_size=3))
def test_every_construct_agrees_on_many_fact_sets(values: dict[str, Any],
                                                   offsets: list[int]) -> None:
    module, agreement = _program()
    (one,) = agreement.versions
    for name in one.names:
        if name not in PARAMETRISED + BY_NAME:
            _agree(module, one, values, name)
    for offset in offsets:
        day = add_months(values["commencement"], 3 * offset)
        for name in PARAMETRISED:
            # A period given as a date inside it, or as the label of one.
            _agree(module, one, values, name, (day,))
        _agree(module, one, values, "balance", (f"{day.year}-Q{(day.month - 1) // 3 + 1}",))


def test_what_the_program_says_worked_out_by_hand() -> None:
    module, agreement = _program()
    (one,) = agreement.versions
    values = {"commencement": date(2009, 2, 10), "as_of": date(2009, 8, 15),
              "term_end": date(2010, 1, 1),
              "sales": {"2009-03-31": "50", "2009-Q2": "200", "2009-09-30": "80"},
              "paid_on": {"2009-Q1": "2009-04-20"}}
    assert one.evaluate("current_start", values) == date(2009, 7, 1)
    assert one.evaluate("opening", values).label == "2009-Q1 (from 2009-02-10)"
    assert one.evaluate("to_date", values) == Decimal(330)
    assert one.evaluate("credit_now", values) == Decimal(20)  # 50, then 0, then 20
    assert one.evaluate("credit", values, "2009-Q2") == Decimal(0)
    assert one.evaluate("royalty_amount", values) == Decimal(8)
    assert one.evaluate("royalty_late", values) is True  # Q2's, due July 30, not paid
    assert one.evaluate("royalty", values, "2009-Q1").performed_on == date(2009, 4, 20)
    assert one.evaluate("royalty", values, "2010-Q1").active is False  # after the term
    assert one.evaluate("flat_late", {**values, "notice_on": "2009-08-01"}) is False
    assert one.evaluate("flat_late", values) is True
    assert one.evaluate("flat_due", values) == date(2009, 8, 15)
    power = one.evaluate("quota_termination", values, date(2009, 3, 1))
    assert (power.available, power.closes, power.period) == (True, date(2010, 8, 9),
                                                             "contract year 1")
    # A value the clause needs and the facts do not give: named with its period.
    missing = outcome(lambda: one.evaluate("to_date", {**values, "as_of": date(2009, 12, 1)}))
    assert missing[:2] == ("error", "MissingFactError")
    assert "sales[2009-Q4]" in missing[2]
    for name in ("to_date", "trailing", "credit_now", "any_late"):
        _agree(module, one, {**values, "as_of": date(2009, 12, 1)}, name)


def test_a_balance_carried_over_centuries_needs_no_deep_stack() -> None:
    module, agreement = _program()
    (one,) = agreement.versions
    values = {"commencement": date(1900, 1, 1), "as_of": date(2099, 12, 31),
              "sales": {f"{y}-Q{k}": "60" for y in range(1900, 2100) for k in range(1, 5)}}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the default: hundreds of periods, without raising it
    try:
        # 800 quarters, each carrying the credit of the one before.
        assert _agree(module, one, values, "credit_now") == \
            ("value", ("Decimal", Decimal(32000).as_tuple()))
        assert _agree(module, one, values, "balance", (date(2099, 12, 31),))[0] == "value"
    finally:
        sys.setrecursionlimit(limit)


def test_errors_are_the_same() -> None:
    module, agreement = _program()
    (one,) = agreement.versions
    values = {"commencement": date(2009, 2, 10), "as_of": date(2009, 1, 15), "sales": {}}
    for name in ("current", "to_date", "credit_now", "notice_quarter", "notice_quarter_end"):
        _agree(module, one, values, name)
    for bad in ("2008-Q4", "not a period", 7, None):
        _agree(module, one, {**values, "as_of": date(2009, 5, 1)}, "credit", (bad,))
    _agree(module, one, {**values, "sales": {"2009-Q2": "1", "2009-05-01": "2"}}, "to_date")
    _agree(module, one, {**values, "sales": ["2009-Q2"]}, "to_date")
    _agree(module, one, {**values, "sales": {"2009-Q2": "lots"}}, "to_date")


def test_a_field_of_an_obligation_that_does_not_recur() -> None:
    module, agreement = _program()
    (one,) = agreement.versions
    values = {"commencement": date(2009, 2, 10), "as_of": date(2009, 8, 15), "sales": {}}
    for name in BY_NAME:
        _agree(module, one, values, name)


# ---------------------------------------------------------- the encoded contracts


def _scenarios(folder: str) -> list[tuple[Any, Any, Any, Any]]:
    found = testing.discover([ROOT / "clauses" / folder])
    cases = []
    for suite in found.suites:
        prepared = testing.prepare(suite)
        assert prepared.ok, [d.message for d in prepared.diagnostics if d.severity == "error"]
        cases.append((prepared, prepared.module, interpret(prepared.result),
                      prepared.result.versions))
    return cases


@pytest.mark.parametrize("folder", ["intricon_license", "neon_distributor"])
def test_the_encoded_contracts_agree_on_the_facts_of_their_tests(folder: str) -> None:
    compared = 0
    for prepared, module, agreement, versions in _scenarios(folder):
        for located in prepared.tests:
            test = located.test
            index = testing.version_index(versions, test.as_of)
            header = versions[index][1].header
            values = testing.given_facts(test, header)
            facts = module.Facts.from_dict(values)
            compiled, interpreter = module.VERSIONS[index], agreement.versions[index]
            probes = {(e.probe.name, tuple(testing.constant(a, header)[0]
                                           for a in e.probe.args))
                      for e in test.expectations}
            for name in interpreter.names:  # and everything that takes no argument
                decl = interpreter.decls[name]
                if not getattr(decl, "params", ()) and getattr(decl, "recurrence", None) \
                        is None:
                    probes.add((name, ()))
            for name, args in sorted(probes, key=str):
                expected = outcome(lambda n=name, a=args, c=compiled, f=facts:
                                   c.evaluate(n, f, *a))
                actual = outcome(lambda n=name, a=args, i=interpreter, v=values:
                                 i.evaluate(n, v, *a))
                assert expected == actual, (f"{test.description}: {name}{args}\n"
                                            f"  compiled:    {expected}\n"
                                            f"  interpreted: {actual}")
                compared += 1
    assert compared > 500
