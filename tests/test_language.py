"""The Clause language, construct by construct: each snippet is compiled with
`clausec.load` and the generated module is evaluated on facts.

Expected values are worked out by hand (calendars, exact decimal arithmetic), not by
running the compiler.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest

import clausec
from clausec.passes import check

NY = ZoneInfo("America/New_York")
FILE = "contract.clause"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of `needle` in clause text as conftest.write_clause writes it."""
    lines = textwrap.dedent(text).lstrip("\n").split("\n")
    seen = 0
    for number, line in enumerate(lines, start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the clause text")


def column_of(text: str, needle: str) -> int:
    """The 1-based column of `needle` on its line."""
    lines = textwrap.dedent(text).lstrip("\n").split("\n")
    return lines[line_of(text, needle) - 1].index(needle) + 1


def nodes(explanation):
    """Every node of an explanation tree, depth first."""
    stack = [explanation]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def node(explanation, label):
    """The first node whose label is exactly `label` (or starts with it, for "(c)")."""
    for candidate in nodes(explanation):
        if candidate.label == label:
            return candidate
    for candidate in nodes(explanation):
        if label.startswith("(") and candidate.label.startswith(label):
            return candidate
    raise AssertionError(f"no node {label!r} in\n{explanation}")


PARTIES_HEADER = """
agreement demo "Demo Agreement" {
  party purchaser "Purchaser": "Thalveg Data Flow LLC, a Delaware limited liability company"
  party seller "Seller": "Net Perceptions, Inc., a Delaware corporation"
  time zone America/New_York "New York City time"
}
"""


# =============================================================================
# Header and sections
# =============================================================================

HEADER = """
agreement patent_purchase "Patent Purchase Agreement" {
  dated March 30, 2004
  governing law "the State of New York"
  party purchaser "Purchaser": "Thalveg Data Flow LLC, a Delaware limited liability company"
  party seller "Seller": "Net Perceptions, Inc., a Delaware corporation"
  party escrow_agent
}

fact price: money

section 3.1 "Purchase Price" {
  text \"\"\"
    The purchase price for the Patents shall be
    One Million Eight Hundred Thousand Dollars.
  \"\"\"
  define purchase_price "Purchase Price": money = price
}

section 1(d) {
  text "A short text."
  define one = 1
}

section 11(a)(ii) "Deep" {
  define two = 2
}

section (ll) "Lettered" {
  text \"\"\"Double letters.\"\"\"
  define three = 3
}
"""


def test_header_title_date_law(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    assert m.AGREEMENT["name"] == "patent_purchase"
    assert m.AGREEMENT["title"] == "Patent Purchase Agreement"
    assert m.AGREEMENT["kind"] == "agreement"
    assert m.AGREEMENT["dated"] == "2004-03-30"
    assert m.AGREEMENT["governing_law"] == "the State of New York"
    assert m.AGREEMENT["currency"] == "USD"
    assert m.AGREEMENT["calendar"] == "us_federal"
    assert m.AGREEMENT["time_zone"] is None


def test_header_iso_date(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        agreement a "A" {
          dated 2003-12-30
          effective December 31, 2003
        }
        fact n: integer
        define x = n
    """)
    assert m.AGREEMENT["dated"] == "2003-12-30"
    assert m.AGREEMENT["effective"] == "2003-12-31"
    assert m.AGREEMENT["governing_law"] is None


def test_file_without_facts_compiles(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        define x = 1 + 1
    """)
    facts = m.Facts()
    assert m.x(facts) == 2
    with pytest.raises(m.FactError):
        m.Facts(anything=1)


def test_parties_with_roles(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    assert m.PARTIES == {
        "purchaser": ("Purchaser", "Thalveg Data Flow LLC, a Delaware limited liability company"),
        "seller": ("Seller", "Net Perceptions, Inc., a Delaware corporation"),
        # No role: the name, title-cased, stands in for it.
        "escrow_agent": ("Escrow Agent", ""),
    }


def test_sections_numbers_headings_and_text(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    assert m.SECTIONS == {
        "3.1": ("Purchase Price", ("The purchase price for the Patents shall be\n"
                                   "One Million Eight Hundred Thousand Dollars.")),
        "1(d)": (None, "A short text."),
        "11(a)(ii)": ("Deep", ""),
        "(ll)": ("Lettered", "Double letters."),
    }


def test_definitions_in_sections_evaluate(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    facts = m.Facts(price="$1,800,000")
    assert m.purchase_price(facts) == Decimal(1800000)
    assert (m.one(facts), m.two(facts), m.three(facts)) == (1, 2, 3)


def test_docstring_has_section_number_line_and_text(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    doc = m.purchase_price.__doc__
    assert "Section 3.1" in doc
    assert "Purchase Price" in doc
    assert f"{FILE}:{line_of(HEADER, 'define purchase_price')}" in doc
    assert "The purchase price for the Patents shall be" in doc
    assert "One Million Eight Hundred Thousand Dollars." in doc
    assert "Section 1(d)" in m.one.__doc__
    assert "A short text." in m.one.__doc__
    assert "Section (ll)" in m.three.__doc__


def test_fact_types_table(tmp_path, compile_text):
    m = compile_text(tmp_path, HEADER)
    assert m.FACT_TYPES == {"price": "money USD"}


# =============================================================================
# Facts
# =============================================================================

FACTS = """
agreement demo "Demo" {
  party purchaser "Purchaser"
  party seller "Seller"
}

fact price "Purchase Price": money "The price in dollars."
fact ownership: percent
fact closing_on: date optional
fact installments: integer default 3
fact approved: bool default false
fact memo: text optional

define report = price * ownership
define when_closing = closing_on
define count = installments
define ok = approved
define note = memo
"""


def test_required_fact_values(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts(price="1,800,000.00", ownership="15%")
    assert facts.price == Decimal("1800000.00")
    assert facts.ownership == Decimal("0.15")
    assert m.report(facts) == Decimal(270000)


def test_optional_fact_defaults_to_none(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts(price=1, ownership="1%")
    assert facts.closing_on is None
    assert facts.memo is None
    assert m.when_closing(facts) is None
    given = m.Facts(price=1, ownership="1%", closing_on="2004-03-30", memo="hello")
    assert given.closing_on == date(2004, 3, 30)
    assert m.when_closing(given) == date(2004, 3, 30)
    assert m.note(given) == "hello"


def test_default_values(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts(price=1, ownership="1%")
    assert facts.installments == 3
    assert facts.approved is False
    assert m.count(facts) == 3
    assert m.ok(facts) is False
    other = m.Facts(price=1, ownership="1%", installments=5, approved=True)
    assert (m.count(other), m.ok(other)) == (5, True)


def test_percent_as_decimal_fraction(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    assert m.Facts(price=1, ownership=Decimal("0.075")).ownership == Decimal("0.075")
    assert m.Facts(price=1, ownership="7.5%").ownership == Decimal("0.075")


def test_float_money_is_rejected(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    with pytest.raises(m.FactError) as info:
        m.Facts(price=1800000.0, ownership="15%")
    assert info.value.fact == "price"
    assert "'price'" in str(info.value)
    assert isinstance(info.value, m.ClauseError)


@pytest.mark.parametrize("fact, value", [
    ("ownership", "fifteen"),
    ("ownership", 0.15),
    ("closing_on", "March 30"),
    ("closing_on", datetime(2004, 3, 30, 12, 0, tzinfo=UTC)),
    ("installments", "three"),
    ("installments", True),
    ("approved", "yes"),
    ("approved", 1),
    ("memo", 42),
])
def test_wrong_type_names_the_fact(tmp_path, compile_text, fact, value):
    m = compile_text(tmp_path, FACTS)
    given = {"price": "1", "ownership": "15%", fact: value}
    with pytest.raises(m.FactError) as info:
        m.Facts(**given)
    assert info.value.fact == fact
    assert f"'{fact}'" in str(info.value)


def test_missing_required_fact(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    with pytest.raises(m.FactError) as info:
        m.Facts(ownership="15%")
    assert info.value.fact == "price"
    assert "'price'" in str(info.value)


def test_unknown_fact_did_you_mean(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    with pytest.raises(m.FactError) as info:
        m.Facts(prise="1", ownership="15%")
    assert info.value.fact == "prise"
    assert "did you mean 'price'" in str(info.value)


def test_facts_are_frozen(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts(price="1", ownership="15%")
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.price = Decimal(2)  # type: ignore[misc]
    assert facts.price == Decimal(1)


def test_facts_from_dict(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts.from_dict({"price": "$2,000", "ownership": "20%", "approved": True})
    assert facts.price == Decimal(2000)
    assert facts.ownership == Decimal("0.2")
    assert facts.approved is True


def test_evaluate_by_name_and_fact(tmp_path, compile_text):
    m = compile_text(tmp_path, FACTS)
    facts = m.Facts(price="100", ownership="50%")
    assert m.evaluate("report", facts) == Decimal(50)
    assert m.evaluate("price", facts) == Decimal(100)
    with pytest.raises(m.ClauseError, match="did you mean 'report'"):
        m.evaluate("reprot", facts)


# =============================================================================
# Definitions
# =============================================================================

DEFINITIONS = """
agreement demo "Demo" {
  party seller "Seller"
}

fact first_year: integer default 2004
fact deposit: money
fact shares: integer

section 2.1 "Definitions" {
  define purchase_price "Purchase Price": money = $1,800,000
  define closing_payment: money = purchase_price - deposit
  define revenue_limitation(year: integer): money = $10,000,000 * (1 + 7.5%) ^ (year - first_year)
  define limit_sum: money = revenue_limitation(2005) + revenue_limitation(first_year)
  define untyped = 2 + 3 * 4
  define per_share = purchase_price / shares
  define scaled(amount: money, factor: percent): money = amount * factor
  condition large_deposit "Large Deposit" = deposit is more than $100,000
  condition large_and_paid(minimum: money) = deposit is at least minimum
}
"""


def test_plain_definition(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="100000", shares=1)
    assert m.purchase_price(facts) == Decimal(1800000)
    assert isinstance(m.purchase_price(facts), Decimal)
    assert m.untyped(facts) == 14
    assert type(m.untyped(facts)) is int


def test_definition_by_reference(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="$100,000", shares=1)
    assert m.closing_payment(facts) == Decimal(1700000)


def test_parametrised_definition_is_exact(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="0", shares=1)
    result = m.revenue_limitation(facts, 2008)
    assert result == Decimal("13354691.40625")
    assert isinstance(result, Decimal)
    assert m.revenue_limitation(facts, 2004) == Decimal(10000000)
    assert m.revenue_limitation(facts, 2005) == Decimal(10750000)
    assert m.evaluate("revenue_limitation", facts, 2008) == Decimal("13354691.40625")
    # The parameter counts from a fact.
    later = m.Facts(deposit="0", shares=1, first_year=2006)
    assert m.revenue_limitation(later, 2008) == Decimal(11556250)


def test_parametrised_definition_called_from_clause(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="0", shares=1)
    assert m.limit_sum(facts) == Decimal(20750000)
    assert m.scaled(facts, Decimal(1000), Decimal("0.25")) == Decimal(250)


def test_exact_division(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="0", shares=8)
    assert m.per_share(facts) == Decimal(225000)
    assert m.per_share(m.Facts(deposit="0", shares=3)) == Decimal(600000)


def test_conditions(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    assert m.large_deposit(m.Facts(deposit="100000.01", shares=1)) is True
    assert m.large_deposit(m.Facts(deposit="100000", shares=1)) is False
    facts = m.Facts(deposit="500", shares=1)
    assert m.large_and_paid(facts, Decimal(500)) is True
    assert m.large_and_paid(facts, Decimal("500.01")) is False


# =============================================================================
# Logic: all of / any of / none of, not, unless, thresholds
# =============================================================================

LOGIC = """
fact a: bool
fact b: bool
fact c: bool
fact ownership: percent

section 1 {
  condition all_three = all of [(a) a, (b) b, (c) c]
  condition any_two = any of [(i) a, (ii) b]
  condition none_two = none of [(a) a, (b) b]
  condition nested = all of [
    (a) a,
    (b) any of [
      (i) b,
      (ii) not c,
    ],
  ]
  condition with_semicolons = any of [(a) a and b; (b) c]
  condition not_a = not a
  condition a_unless_b = a unless b
  condition a_or_b_and_c = a or b and c
  condition acquiring = ownership is at least 15%
  condition at_most = ownership is at most 15%
  condition more_than = ownership is more than 15%
  condition less_than = ownership is less than 15%
  condition symbols = ownership >= 15% and ownership != 20%
  condition exactly = ownership is 15%
  condition not_exactly = ownership is not 15%
}
"""


@pytest.fixture
def logic(tmp_path, compile_text):
    return compile_text(tmp_path, LOGIC)


def _bools(m, a, b, c, ownership="10%"):
    return m.Facts(a=a, b=b, c=c, ownership=ownership)


@pytest.mark.parametrize("a, b, c", [(x, y, z) for x in (False, True) for y in (False, True)
                                     for z in (False, True)])
def test_boolean_lists_truth_table(logic, a, b, c):
    facts = _bools(logic, a, b, c)
    assert logic.all_three(facts) is (a and b and c)
    assert logic.any_two(facts) is (a or b)
    assert logic.none_two(facts) is (not a and not b)
    assert logic.nested(facts) is (a and (b or not c))
    assert logic.with_semicolons(facts) is ((a and b) or c)
    assert logic.not_a(facts) is (not a)
    assert logic.a_unless_b(facts) is (a and not b)
    assert logic.a_or_b_and_c(facts) is (a or (b and c))


@pytest.mark.parametrize("ownership, at_least, at_most, more, less", [
    ("15%", True, True, False, False),
    ("14.99%", False, True, False, True),
    ("15.01%", True, False, True, False),
    (Decimal("0.15"), True, True, False, False),
])
def test_thresholds(logic, ownership, at_least, at_most, more, less):
    facts = _bools(logic, False, False, False, ownership)
    assert logic.acquiring(facts) is at_least
    assert logic.at_most(facts) is at_most
    assert logic.more_than(facts) is more
    assert logic.less_than(facts) is less


def test_equality_words_and_symbols(logic):
    fifteen = _bools(logic, False, False, False, "15%")
    twenty = _bools(logic, False, False, False, "20%")
    assert logic.exactly(fifteen) is True
    assert logic.not_exactly(fifteen) is False
    assert logic.exactly(twenty) is False
    assert logic.not_exactly(twenty) is True
    assert logic.symbols(fifteen) is True
    assert logic.symbols(twenty) is False


# =============================================================================
# earlier of / later of / lesser of / greater of / sum of, guards, if
# =============================================================================

CHOICES = """
fact offer_on: date optional
fact announcement_on: date optional
fact announced_on: date
fact tender_on: date
fact creates_acquiring_person: bool
fact price: money
fact approved: bool
fact a: bool
fact b: bool
fact c: bool

section 3 "Distribution Date" {
  define trigger: date = earlier of [(i) offer_on, (ii) announcement_on]
  define last_event: date = later of [(i) offer_on, (ii) announcement_on]
  define deadline: date = trigger + 5 days
  define distribution_date: date = earlier of [
    (i) 10 days after announced_on,
    (ii) 10 business days after tender_on when creates_acquiring_person,
  ]
  define cap: money = lesser of [(a) $5,000,000, (b) price * 10%]
  define floor_amount: money = greater of [(a) $100,000, (b) price * 1%]
  define total: money = sum of [(a) price, (b) $250, (c) $1,000 when approved]
  condition all_guarded = all of [(a) a, (b) b when c]
  condition any_guarded = any of [(a) a, (b) b when c]
  define fee: money = if approved then $100 else $0
  define mixed: decimal = if approved then 1 else 2.5
  define chained: text = if a then "first" else if b then "second" else "third"
}
"""


@pytest.fixture
def choices(tmp_path, compile_text):
    return compile_text(tmp_path, CHOICES)


def _choice_facts(m, **extra):
    facts = {"announced_on": "2004-03-10", "tender_on": "2004-03-01",
             "creates_acquiring_person": False, "price": "$20,000,000", "approved": False,
             "a": False, "b": False, "c": False}
    facts.update(extra)
    return m.Facts(**facts)


def test_earlier_and_later_of_with_both_given(choices):
    facts = _choice_facts(choices, offer_on="2004-05-01", announcement_on="2004-04-15")
    assert choices.trigger(facts) == date(2004, 4, 15)
    assert choices.last_event(facts) == date(2004, 5, 1)
    assert choices.deadline(facts) == date(2004, 4, 20)


def test_earlier_of_skips_missing_optional_facts(choices):
    facts = _choice_facts(choices, announcement_on="2004-04-15")
    assert choices.trigger(facts) == date(2004, 4, 15)
    assert choices.last_event(facts) == date(2004, 4, 15)
    facts = _choice_facts(choices, offer_on="2004-05-01")
    assert choices.trigger(facts) == date(2004, 5, 1)
    assert choices.last_event(facts) == date(2004, 5, 1)


def test_earlier_of_nothing_is_none_and_using_it_fails_at_the_clause(choices):
    facts = _choice_facts(choices)
    assert choices.trigger(facts) is None
    assert choices.last_event(facts) is None
    with pytest.raises(choices.ClauseRuntimeError) as info:
        choices.deadline(facts)
    error = info.value
    assert error.file == FILE
    assert error.line == line_of(CHOICES, "define deadline")
    assert error.section == "3"
    assert "trigger" in str(error)
    assert f"{FILE}:{line_of(CHOICES, 'define deadline')}:" in str(error)


def test_guarded_item_counts_only_when_its_guard_holds(choices):
    # (i) 10 days after March 10, 2004 = March 20; (ii) 10 business days after Monday,
    # March 1, 2004 = Monday, March 15 (no holidays in between).
    assert choices.distribution_date(_choice_facts(choices)) == date(2004, 3, 20)
    facts = _choice_facts(choices, creates_acquiring_person=True)
    assert choices.distribution_date(facts) == date(2004, 3, 15)


def test_lesser_greater_sum(choices):
    facts = _choice_facts(choices)
    assert choices.cap(facts) == Decimal(2000000)
    assert choices.floor_amount(facts) == Decimal(200000)
    assert choices.total(facts) == Decimal(20000250)
    assert choices.total(_choice_facts(choices, approved=True)) == Decimal(20001250)
    big = _choice_facts(choices, price="$100,000,000")
    assert choices.cap(big) == Decimal(5000000)
    small = _choice_facts(choices, price="$1,000")
    assert choices.floor_amount(small) == Decimal(100000)


@pytest.mark.parametrize("a, b, c, all_, any_", [
    (True, False, False, True, True),    # (b) does not apply when c is false
    (True, False, True, False, True),
    (False, True, False, False, False),  # b is ignored without c
    (False, True, True, False, True),
    (True, True, True, True, True),
])
def test_guarded_items_in_boolean_lists(choices, a, b, c, all_, any_):
    facts = _choice_facts(choices, a=a, b=b, c=c)
    assert choices.all_guarded(facts) is all_
    assert choices.any_guarded(facts) is any_


def test_if_then_else(choices):
    assert choices.fee(_choice_facts(choices, approved=True)) == Decimal(100)
    assert choices.fee(_choice_facts(choices)) == Decimal(0)
    one = choices.mixed(_choice_facts(choices, approved=True))
    assert one == Decimal(1) and isinstance(one, Decimal)
    assert choices.mixed(_choice_facts(choices)) == Decimal("2.5")
    assert choices.chained(_choice_facts(choices, a=True)) == "first"
    assert choices.chained(_choice_facts(choices, b=True)) == "second"
    assert choices.chained(_choice_facts(choices)) == "third"


# =============================================================================
# Exceptions
# =============================================================================

EXCEPTION = """
agreement rights "Rights Agreement" {
  party company "Company"
}

fact owns_shares: bool
fact solely_voting_agreement: bool

section 1(d) "Beneficial Ownership" {
  condition beneficially_owns = owns_shares
}

section 1(d)(ii) "Revocable proxies" {
  text "Notwithstanding anything to the contrary, ..."
  exception to beneficially_owns = false when solely_voting_agreement
}
"""


def test_exception_overrides_general_rule(tmp_path, compile_text):
    m = compile_text(tmp_path, EXCEPTION)
    f = m.Facts
    assert m.beneficially_owns(f(owns_shares=True, solely_voting_agreement=False)) is True
    assert m.beneficially_owns(f(owns_shares=True, solely_voting_agreement=True)) is False
    assert m.beneficially_owns(f(owns_shares=False, solely_voting_agreement=False)) is False


def test_explain_names_the_exception_section(tmp_path, compile_text):
    m = compile_text(tmp_path, EXCEPTION)
    facts = m.Facts(owns_shares=True, solely_voting_agreement=True)
    x = m.explain("beneficially_owns", facts)
    assert x.value is False
    assert x.section == "1(d)"
    exception = x.find("exception")
    assert exception is not None
    assert exception.section == "1(d)(ii)"
    assert exception.line == line_of(EXCEPTION, "exception to beneficially_owns")
    assert exception.value is True
    assert "Section 1(d)(ii)" in str(x)
    # Without the exception's condition, the general rule decides and is shown.
    general = m.explain("beneficially_owns",
                        m.Facts(owns_shares=True, solely_voting_agreement=False))
    assert general.value is True
    assert general.find("owns_shares") is not None


CONFLICT_BOOL = """
fact x: bool
fact y: bool

section 5.1 { define fee: money = $0 }
section 5.2 {
  exception to fee = $1 when x
}
section 5.3 {
  exception to fee = $2 when y
}
"""


def test_decidable_conflict_is_a_compile_error(tmp_path, diagnostics_of, compile_text):
    diagnostics = diagnostics_of(tmp_path, CONFLICT_BOOL)
    errors = [d for d in diagnostics if d.severity == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert "two exceptions" in error.message and "'fee'" in error.message
    assert error.span.line == line_of(CONFLICT_BOOL, "$2 when y")
    assert [r.span.line for r in error.related] == [line_of(CONFLICT_BOOL, "$1 when x")]
    with pytest.raises(clausec.CompileError) as info:
        compile_text(tmp_path, CONFLICT_BOOL)
    text = str(info.value)
    assert f"{FILE}:{line_of(CONFLICT_BOOL, '$2 when y')}:" in text
    assert f"{FILE}:{line_of(CONFLICT_BOOL, '$1 when x')}:" in text


def test_exclusive_exceptions_compile_and_apply(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact x: bool
        fact y: bool
        define fee: money = $0
        exception to fee = $1 when x
        exception to fee = $2 when y and not x
    """)
    assert m.fee(m.Facts(x=False, y=False)) == Decimal(0)
    assert m.fee(m.Facts(x=True, y=True)) == Decimal(1)
    assert m.fee(m.Facts(x=False, y=True)) == Decimal(2)


CONFLICT_MONEY = """
fact price: money

section 5.1 { define fee: money = $0 }
section 5.2 {
  exception big to fee = $1 when price > $100
}
section 5.3 {
  exception huge to fee = $2 when price > $1,000
}
"""


def test_undecidable_conflict_is_a_run_time_error(tmp_path, compile_text):
    m = compile_text(tmp_path, CONFLICT_MONEY)
    assert m.fee(m.Facts(price="50")) == Decimal(0)
    assert m.fee(m.Facts(price="500")) == Decimal(1)
    with pytest.raises(m.ConflictError) as info:
        m.fee(m.Facts(price="5000"))
    message = str(info.value)
    first, second = line_of(CONFLICT_MONEY, "exception big"), line_of(CONFLICT_MONEY,
                                                                        "exception huge")
    assert f"{FILE}:{first}:3 (Section 5.2)" in message
    assert f"{FILE}:{second}:3 (Section 5.3)" in message
    assert "'fee'" in message
    assert isinstance(info.value, m.ClauseRuntimeError)


def test_same_value_exceptions_never_conflict_at_compile_time(tmp_path, compile_text,
                                                             diagnostics_of):
    text = """
        fact x: bool
        fact y: bool
        define fee: money = $0
        exception to fee = $1 when x
        exception to fee = $1 when y
    """
    assert [d for d in diagnostics_of(tmp_path, text) if d.severity == "error"] == []
    m = compile_text(tmp_path, text)
    assert m.fee(m.Facts(x=True, y=True)) == Decimal(1)


def test_same_value_exceptions_never_conflict_at_run_time(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact price: money
        define fee: money = $0
        exception big to fee = $1 when price > $100
        exception huge to fee = $1 when price > $1,000
    """)
    assert m.fee(m.Facts(price="5000")) == Decimal(1)


# =============================================================================
# Obligations and powers
# =============================================================================

OBLIGATIONS = PARTIES_HEADER + """
fact closing_on: date
fact closing_conditions_met: bool
fact breach_date: date optional
fact deposit: money default $100,000
fact outside_date_passed: bool

section 3.4 "Closing Payment" {
  define closing_payment: money = $1,800,000 - deposit
  obligation closing_payment_due "Closing Payment": purchaser must pay closing_payment to seller
    on closing_on when closing_conditions_met
}

section 6.3 "Cure" {
  obligation cure: seller must "cure the breach" within 2 business days after breach_date
  obligation notice: seller and purchaser jointly must "give notice" by 10 days after closing_on
}

section 8.2 "Termination" {
  power terminate "Termination": either party may terminate when outside_date_passed
    then seller must pay $100,000 to purchaser
  power waive: purchaser may waive
}
"""


@pytest.fixture
def duties(tmp_path, compile_text):
    return compile_text(tmp_path, OBLIGATIONS)


def _duty_facts(m, **extra):
    facts = {"closing_on": "2004-03-30", "closing_conditions_met": True,
             "outside_date_passed": False}
    facts.update(extra)
    return m.Facts(**facts)


def test_obligation_fields(duties):
    ob = duties.closing_payment_due(_duty_facts(duties))
    assert isinstance(ob, duties.Obligation)
    assert ob.name == "closing_payment_due"
    assert ob.section == "3.4"
    assert ob.obligor == "Purchaser"
    assert ob.action == "pay"
    assert ob.object == Decimal(1700000)
    assert ob.beneficiary == "Seller"
    assert ob.due == date(2004, 3, 30)
    assert ob.active is True
    assert str(ob) == ("Purchaser must pay $1,700,000.00 to Seller on March 30, 2004 "
                       "(Section 3.4)")


def test_obligation_inactive_when_condition_false(duties):
    ob = duties.closing_payment_due(_duty_facts(duties, closing_conditions_met=False))
    assert ob.active is False
    assert ob.object == Decimal(1700000)
    assert str(ob).startswith("[not in effect] ")


def test_within_business_days_skips_weekend_and_observed_holiday(duties):
    # Friday, July 2, 2004 + 2 business days: Saturday and Sunday are weekend days, and
    # Monday, July 5 was the observed Independence Day (July 4 was a Sunday).
    ob = duties.cure(_duty_facts(duties, breach_date="2004-07-02"))
    assert ob.due == date(2004, 7, 7)
    assert ob.obligor == "Seller"
    assert ob.action == "cure the breach"
    assert ob.object is None
    assert ob.beneficiary is None
    assert ob.active is True
    assert ob.section == "6.3"


def test_within_with_missing_event_has_no_due_date(duties):
    ob = duties.cure(_duty_facts(duties))
    assert ob.due is None


def test_joint_obligation_by_date(duties):
    ob = duties.notice(_duty_facts(duties))
    assert ob.obligor == "Seller and Purchaser"
    assert ob.due == date(2004, 4, 9)
    assert ob.action == "give notice"
    assert str(ob) == "Seller and Purchaser must give notice by April 9, 2004 (Section 6.3)"


def test_power_with_consequence(duties):
    power = duties.terminate(_duty_facts(duties, outside_date_passed=True))
    assert isinstance(power, duties.Power)
    assert power.name == "terminate"
    assert power.section == "8.2"
    # Either party: any one of the parties may use it.
    assert power.holders == ("Purchaser", "Seller")
    assert power.action == "terminate"
    assert power.available is True
    assert len(power.consequences) == 1
    then = power.consequences[0]
    assert then.obligor == "Seller"
    assert then.action == "pay"
    assert then.object == Decimal(100000)
    assert then.beneficiary == "Purchaser"
    assert then.active is True


def test_power_not_available(duties):
    power = duties.terminate(_duty_facts(duties, outside_date_passed=False))
    assert power.available is False
    assert power.consequences[0].active is False
    assert str(power).startswith("Purchaser or Seller may terminate (Section 8.2): "
                                 "not available")


def test_power_of_one_party_without_condition(duties):
    power = duties.waive(_duty_facts(duties))
    assert power.holders == ("Purchaser",)
    assert power.available is True
    assert power.consequences == ()


def test_evaluate_obligation_by_name(duties):
    ob = duties.evaluate("closing_payment_due", _duty_facts(duties))
    assert ob.obligor == "Purchaser"


# =============================================================================
# Types
# =============================================================================

TYPES = """
agreement demo "Demo" {
  party purchaser "Purchaser"
  party seller "Seller"
  time zone America/New_York "New York City time"
}

fact notice_at: datetime
fact closing_on: date
fact signed_on: date
fact terminating_party: party
fact memo: text
fact cure_period: days
fact response_period: business days
fact extra_days: integer
fact amount: decimal
fact price: money

section 9 "Times" {
  define expiration: datetime = 2011-06-14 5:00 PM America/New_York
  define naive_expiration: datetime = 2011-06-14 17:00
  define utc_moment: datetime = 2011-06-14 21:00 UTC
  condition timely = notice_at is on or before expiration
  condition late = notice_at is after expiration
  define close_on_closing: datetime = close of business on closing_on
  condition before_close = notice_at is before close of business on closing_on
  define closing_year: integer = year(closing_on)
  define closing_month: integer = month(closing_on)
  define closing_day: integer = day(closing_on)
  define elapsed: days = closing_on - signed_on
  define elapsed_fn: integer = days_between(signed_on, closing_on)
  define cure_by: date = cure_period after closing_on
  define cure_by_plus: date = closing_on + cure_period
  define respond_by: date = response_period after closing_on
  define extra_by: date = extra_days days after closing_on
  define two_before: date = 2 business days before closing_on
  define ten_before: date = closing_on - 10 days
  condition seller_terminated = terminating_party is seller
  condition not_purchaser = terminating_party is not purchaser
  condition memo_says_hello = memo == "hello"
  define rounded = round(amount, 2)
  define rounded_money: money = round(price / 3, 2)
  define literal_round: money = round($2.675, 2)
}
"""


@pytest.fixture
def typed(tmp_path, compile_text):
    return compile_text(tmp_path, TYPES)


def _typed_facts(m, **extra):
    facts = {"notice_at": "2011-06-14T21:00:00+00:00", "closing_on": "2004-07-02",
             "signed_on": "2004-06-01", "terminating_party": "seller", "memo": "hello",
             "cure_period": 10, "response_period": 2, "extra_days": 3, "amount": "2.345",
             "price": "$100"}
    facts.update(extra)
    return m.Facts(**facts)


def test_datetime_literal_with_zone(typed):
    value = typed.expiration(_typed_facts(typed))
    assert value == datetime(2011, 6, 14, 17, 0, tzinfo=NY)
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(hours=-4)


def test_naive_datetime_takes_agreement_zone(typed):
    value = typed.naive_expiration(_typed_facts(typed))
    assert value == datetime(2011, 6, 14, 17, 0, tzinfo=NY)
    assert value.utcoffset() == timedelta(hours=-4)
    assert typed.utc_moment(_typed_facts(typed)) == datetime(2011, 6, 14, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("notice_at, timely", [
    ("2011-06-14T21:00:00+00:00", True),      # 5:00 P.M. in New York, exactly
    ("2011-06-14T21:00:01+00:00", False),
    ("2011-06-14T17:00:00-04:00", True),
    ("2011-06-14T16:59:00-05:00", False),     # 5:59 P.M. in New York
    (datetime(2011, 6, 14, 20, 59, tzinfo=UTC), True),
])
def test_aware_datetime_in_another_zone_compares_by_instant(typed, notice_at, timely):
    facts = _typed_facts(typed, notice_at=notice_at)
    assert typed.timely(facts) is timely
    assert typed.late(facts) is (not timely)


def test_naive_datetime_fact_is_rejected(typed):
    with pytest.raises(typed.FactError) as info:
        _typed_facts(typed, notice_at="2011-06-14T17:00:00")
    assert info.value.fact == "notice_at"


def test_close_of_business(typed):
    facts = _typed_facts(typed)
    assert typed.close_on_closing(facts) == datetime(2004, 7, 2, 17, 0, tzinfo=NY)
    assert typed.before_close(_typed_facts(typed, notice_at="2004-07-02T20:59:00+00:00")) is True
    assert typed.before_close(_typed_facts(typed, notice_at="2004-07-02T21:00:00+00:00")) is False


def test_close_of_business_time_from_header(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        agreement demo "Demo" {
          time zone Europe/London
          close of business 5:30 P.M.
        }
        fact day: date
        define cob: datetime = close of business on day
    """)
    assert m.cob(m.Facts(day="2004-01-05")) == datetime(2004, 1, 5, 17, 30,
                                                        tzinfo=ZoneInfo("Europe/London"))


def test_date_parts(typed):
    facts = _typed_facts(typed)
    assert (typed.closing_year(facts), typed.closing_month(facts),
            typed.closing_day(facts)) == (2004, 7, 2)


def test_days_and_date_arithmetic(typed):
    facts = _typed_facts(typed)
    assert typed.elapsed(facts) == 31
    assert typed.elapsed_fn(facts) == 31
    assert typed.cure_by(facts) == date(2004, 7, 12)
    assert typed.cure_by_plus(facts) == date(2004, 7, 12)
    assert typed.extra_by(facts) == date(2004, 7, 5)
    assert typed.ten_before(facts) == date(2004, 6, 22)


def test_business_days(typed):
    facts = _typed_facts(typed)
    # Friday, July 2, 2004 + 2 business days = Wednesday, July 7 (July 5 observed holiday).
    assert typed.respond_by(facts) == date(2004, 7, 7)
    # Two business days before Friday, July 2 = Wednesday, June 30.
    assert typed.two_before(facts) == date(2004, 6, 30)
    # Two business days before Wednesday, July 7 = Friday, July 2.
    assert typed.two_before(_typed_facts(typed, closing_on="2004-07-07")) == date(2004, 7, 2)


def test_party_facts(typed):
    assert typed.seller_terminated(_typed_facts(typed)) is True
    assert typed.not_purchaser(_typed_facts(typed)) is True
    assert typed.seller_terminated(_typed_facts(typed, terminating_party="purchaser")) is False
    assert typed.not_purchaser(_typed_facts(typed, terminating_party="purchaser")) is False
    with pytest.raises(typed.FactError) as info:
        _typed_facts(typed, terminating_party="buyer")
    assert info.value.fact == "terminating_party"


def test_text_facts(typed):
    assert typed.memo_says_hello(_typed_facts(typed)) is True
    assert typed.memo_says_hello(_typed_facts(typed, memo="Hello")) is False


@pytest.mark.parametrize("amount, expected", [
    ("2.345", "2.35"),     # half up, not to even
    ("2.3449", "2.34"),
    ("0.125", "0.13"),
    ("-2.345", "-2.35"),
    ("7", "7.00"),
])
def test_round_half_up(typed, amount, expected):
    result = typed.rounded(_typed_facts(typed, amount=amount))
    assert result == Decimal(expected)
    assert str(result) == expected


def test_round_money(typed):
    assert typed.rounded_money(_typed_facts(typed)) == Decimal("33.33")
    assert typed.rounded_money(_typed_facts(typed, price="$200")) == Decimal("66.67")
    assert typed.literal_round(_typed_facts(typed)) == Decimal("2.68")


def test_other_currency(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        agreement demo "Demo" {
          currency EUR
        }
        fact price: money
        define fee: money = price + EUR 10.50
    """)
    assert m.fee(m.Facts(price="EUR 1,000")) == Decimal("1010.50")
    with pytest.raises(m.FactError):
        m.Facts(price="$1,000")


# =============================================================================
# The calendar configuration
# =============================================================================

CALENDAR_BODY = """
fact breach_date: date
define cure_by: date = 2 business days after breach_date
define is_business(d: date): bool = 0 business days after d == d
"""


@pytest.mark.parametrize("header, expected", [
    ("", date(2004, 7, 7)),
    ('agreement a "A" {\n  calendar us_federal\n}\n', date(2004, 7, 7)),
    ('agreement a "A" {\n  calendar weekends_only\n}\n', date(2004, 7, 6)),
    ('agreement a "A" {\n  holidays [2004-07-06]\n}\n', date(2004, 7, 8)),
    ('agreement a "A" {\n  calendar weekends_only\n  holidays [2004-07-06, July 8, 2004]\n}\n',
     date(2004, 7, 7)),
])
def test_calendar_configuration(tmp_path, compile_text, header, expected):
    m = compile_text(tmp_path, header + textwrap.dedent(CALENDAR_BODY))
    assert m.cure_by(m.Facts(breach_date="2004-07-02")) == expected


def test_business_days_around_thanksgiving_and_christmas(tmp_path, compile_text):
    m = compile_text(tmp_path, CALENDAR_BODY)
    # Thanksgiving 2004: Thursday, November 25. Wednesday + 2 = Monday, November 29.
    assert m.cure_by(m.Facts(breach_date="2004-11-24")) == date(2004, 11, 29)
    # Christmas 2004 (a Saturday) observed Friday, December 24; New Year's Day 2005 (a
    # Saturday) observed Friday, December 31, 2004.
    assert m.cure_by(m.Facts(breach_date="2004-12-23")) == date(2004, 12, 28)
    assert m.cure_by(m.Facts(breach_date="2004-12-30")) == date(2005, 1, 4)


# =============================================================================
# Run-time errors point at the clause
# =============================================================================

RUNTIME = """
fact a: decimal
fact b: decimal
fact closing_on: date optional

section 4.2 "Ratio" {
  define ratio = a / b
  define deadline: date = 5 days after closing_on
}
"""


def test_division_by_zero_points_at_the_clause(tmp_path, compile_text):
    m = compile_text(tmp_path, RUNTIME)
    facts = m.Facts(a="1", b="0")
    with pytest.raises(m.ClauseRuntimeError) as info:
        m.ratio(facts)
    error = info.value
    assert error.file == FILE
    assert error.line == line_of(RUNTIME, "define ratio")
    assert error.column == column_of(RUNTIME, "a / b")
    assert error.section == "4.2"
    assert "division by zero" in str(error)
    assert str(error).startswith(f"{FILE}:{error.line}:{error.column} (Section 4.2)")
    assert isinstance(error, m.ClauseError)
    with pytest.raises(m.ClauseRuntimeError):
        m.explain("ratio", facts)
    assert m.ratio(m.Facts(a="1", b="4")) == Decimal("0.25")


def test_missing_optional_fact_error(tmp_path, compile_text):
    m = compile_text(tmp_path, RUNTIME)
    with pytest.raises(m.MissingFactError) as info:
        m.deadline(m.Facts(a="1", b="1"))
    error = info.value
    assert error.fact == "closing_on"
    assert error.file == FILE
    assert error.line == line_of(RUNTIME, "define deadline")
    assert error.section == "4.2"
    assert "'closing_on'" in str(error)
    assert isinstance(error, m.ClauseRuntimeError)
    assert m.deadline(m.Facts(a="1", b="1", closing_on="2004-03-30")) == date(2004, 4, 4)


# =============================================================================
# explain()
# =============================================================================

EXPLAIN = """
fact a: bool
fact b: bool
fact c: bool
fact deposit: money

section 2.1 "Conditions" {
  condition ready = all of [
    (a) a,
    (b) b,
    (c) c,
  ]
}

section 3.1 "Price" {
  define purchase_price: money = $1,800,000
}

section 3.4 "Closing Payment" {
  define closing_payment: money = purchase_price - deposit
}
"""


@pytest.fixture
def explained(tmp_path, compile_text):
    return compile_text(tmp_path, EXPLAIN)


def test_explain_tree_values_sections_lines(explained):
    m = explained
    facts = m.Facts(a=True, b=True, c=True, deposit="$100,000")
    x = m.explain("closing_payment", facts)
    assert isinstance(x, m.Explanation)
    assert x.value == Decimal(1700000)
    assert x.section == "3.4"
    assert x.line == line_of(EXPLAIN, "define closing_payment")
    assert x.file == FILE
    expression = x.children[0]
    assert expression.label == "purchase_price - deposit"
    assert expression.value == Decimal(1700000)
    assert (expression.section, expression.line) == ("3.4", x.line)
    price, deposit = expression.children
    assert price.label == "purchase_price"
    assert price.value == Decimal(1800000)
    assert price.section == "3.1"
    assert price.line == line_of(EXPLAIN, "define purchase_price")
    assert deposit.label == "deposit"
    assert deposit.value == Decimal(100000)
    assert deposit.line == line_of(EXPLAIN, "fact deposit")
    assert deposit.note == "fact"


def test_explain_failing_all_of_marks_later_items(explained):
    m = explained
    x = m.explain("ready", m.Facts(a=True, b=False, c=True, deposit="0"))
    assert x.value is False
    assert x.section == "2.1"
    assert x.line == line_of(EXPLAIN, "condition ready")
    all_of = x.children[0]
    assert all_of.value is False
    labels = [child.label for child in all_of.children]
    assert labels[0].startswith("(a)") and labels[1].startswith("(b)")
    first, failing, skipped = all_of.children
    assert first.value is True
    assert failing.value is False
    assert failing.line == line_of(EXPLAIN, "fact b")
    assert skipped.label.startswith("(c)")
    assert "not evaluated" in skipped.note
    assert skipped.value is None


def test_explain_renders(explained):
    m = explained
    x = m.explain("ready", m.Facts(a=True, b=False, c=True, deposit="0"))
    text = str(x)
    assert text == x.render()
    lines = text.split("\n")
    assert lines[0].startswith("ready = false")
    assert f"Section 2.1, {FILE}:{line_of(EXPLAIN, 'condition ready')}" in lines[0]
    assert any("(b) b = false" in line for line in lines)
    assert any("not evaluated" in line for line in lines)
    money = str(m.explain("closing_payment", m.Facts(a=True, b=True, c=True, deposit="100000")))
    assert money.split("\n")[0].startswith("closing_payment = $1,700,000.00")
    assert "purchase_price = $1,800,000.00" in money


def test_explain_to_dict_is_json(explained):
    m = explained
    x = m.explain("closing_payment", m.Facts(a=True, b=True, c=True, deposit="100000"))
    data = json.loads(json.dumps(x.to_dict()))
    assert data["label"] == "closing_payment"
    assert data["value"] == "$1,700,000.00"
    assert data["kind"] == "money"
    assert data["section"] == "3.4"
    assert data["file"] == FILE
    assert data["line"] == line_of(EXPLAIN, "define closing_payment")
    assert isinstance(data["children"], list) and data["children"]
    flat = json.dumps(data)
    assert '"value": "$1,800,000.00"' in flat


def test_explain_value_matches_fast_function(explained):
    m = explained
    for a in (False, True):
        for b in (False, True):
            facts = m.Facts(a=a, b=b, c=True, deposit="1")
            assert m.explain("ready", facts).value is m.ready(facts)


def test_explain_fact_and_unknown_name(explained):
    m = explained
    facts = m.Facts(a=True, b=False, c=True, deposit="5")
    x = m.explain("deposit", facts)
    assert x.value == Decimal(5)
    assert x.note == "fact"
    with pytest.raises(m.ClauseError, match="did you mean 'ready'"):
        m.explain("readdy", facts)


def test_explain_obligation_and_power(duties):
    facts = _duty_facts(duties, outside_date_passed=True)
    x = duties.explain("closing_payment_due", facts)
    assert x.kind == "obligation"
    assert x.value == duties.closing_payment_due(facts)
    assert x.section == "3.4"
    assert x.line == line_of(OBLIGATIONS, "obligation closing_payment_due")
    assert node(x, "closing_conditions_met").value is True
    assert node(x, "closing_payment").value == Decimal(1700000)
    power = duties.explain("terminate", facts)
    assert power.kind == "power"
    assert power.value.available is True
    assert node(power, "outside_date_passed").value is True


def test_explain_guarded_item_that_does_not_apply_is_labelled(choices):
    facts = _choice_facts(choices)
    x = choices.explain("total", facts)
    for each in nodes(x):
        assert each.label.strip(), f"a node without a label in\n{x}"
    assert node(x, "(c)").note == "does not apply"


def test_explain_unlabelled_guarded_item_is_labelled(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact flag: bool
        define total = sum of [1, 2, 3 when flag]
    """)
    facts = m.Facts(flag=False)
    assert m.total(facts) == 3
    x = m.explain("total", facts)
    assert all(each.label.strip() for each in nodes(x)), str(x)
    assert "\n└──  = " not in str(x)


# =============================================================================
# More constructs
# =============================================================================


def test_exception_to_parametrised_definition(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact first_year: integer default 2004
        section 2 {
          define limit(year: integer): money = $10 * (year - first_year)
        }
        section 2(a) {
          exception to limit = $0 when year > 2010
        }
    """)
    facts = m.Facts()
    assert m.limit(facts, 2008) == Decimal(40)
    assert m.limit(facts, 2011) == Decimal(0)
    x = m.explain("limit", facts, 2011)
    assert x.label.startswith("limit(2011)")
    assert x.value == Decimal(0)
    assert x.find("exception ").section == "2(a)"


def test_numeric_lists_and_mixed_numbers(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact flag: bool
        define ints = sum of [1, 2, 3 when flag]
        define least = lesser of [1, 2.5]
        define most = greater of [1, 2.5, 7.5%]
        define growth = (1 + 7.5%) ^ 2
        define half = 7 / 2
    """)
    facts = m.Facts(flag=False)
    assert m.ints(facts) == 3 and type(m.ints(facts)) is int
    assert m.ints(m.Facts(flag=True)) == 6
    assert m.least(facts) == Decimal(1) and isinstance(m.least(facts), Decimal)
    assert m.most(facts) == Decimal("2.5")
    assert m.growth(facts) == Decimal("1.155625")
    assert m.half(facts) == Decimal("3.5")


def test_datetime_shifts_keep_the_time(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        agreement demo "Demo" {
          time zone America/New_York
        }
        fact notice_at: datetime
        fact d: date
        define answer_by: datetime = 2 business days after notice_at
        define cob: datetime = close of business on (2 business days after d)
    """)
    facts = m.Facts(notice_at="2004-07-02T15:30:00-04:00", d="2004-07-02")
    assert m.answer_by(facts) == datetime(2004, 7, 7, 15, 30, tzinfo=NY)
    assert m.cob(facts) == datetime(2004, 7, 7, 17, 0, tzinfo=NY)


def test_is_given_on_optional_terms(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact offer_on: date optional
        define trigger: date = earlier of [offer_on]
        condition offered = offer_on is given
        condition not_offered = offer_on is not given
        condition triggered = trigger is given
    """)
    missing, given = m.Facts(), m.Facts(offer_on="2004-01-02")
    assert (m.offered(missing), m.not_offered(missing), m.triggered(missing)) == \
        (False, True, False)
    assert (m.offered(given), m.not_offered(given), m.triggered(given)) == (True, False, True)


def test_text_with_quotes_and_backslashes(tmp_path, compile_text):
    m = compile_text(tmp_path, r'''
        agreement demo "Demo \"Q\" Agreement" {
          party seller "Seller": "Acme \\ Co. \"the Seller\""
        }
        fact n: integer
        section 1 "Quotes \"here\"" {
          text "He said \"stop\" \\ then left\""
          define x = n
        }
    ''')
    assert m.AGREEMENT["title"] == 'Demo "Q" Agreement'
    assert m.PARTIES["seller"] == ("Seller", 'Acme \\ Co. "the Seller"')
    assert m.SECTIONS["1"] == ('Quotes "here"', 'He said "stop" \\ then left"')
    assert 'He said "stop" \\ then left"' in m.x.__doc__
    assert m.x(m.Facts(n=2)) == 2


# =============================================================================
# Generated code and the caller's environment
# =============================================================================


def test_results_do_not_depend_on_the_callers_decimal_context(tmp_path, compile_text):
    m = compile_text(tmp_path, DEFINITIONS)
    facts = m.Facts(deposit="$100,000", shares=3)
    with localcontext() as context:
        context.prec = 6
        assert m.revenue_limitation(facts, 2008) == Decimal("13354691.40625")
        assert m.per_share(facts) == Decimal(600000)
        third = m.per_share(m.Facts(deposit="0", shares=7))
    # A quotient that does not terminate keeps its whole-number part and 28 digits after
    # it, whatever the caller's context says.
    assert third == Decimal("257142.8571428571428571428571428571")
    assert len(third.as_tuple().digits) == 6 + 28


def test_parameter_named_value_is_explained_with_its_argument(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact n: integer
        define double(value: integer) = value * 2 + n
    """)
    facts = m.Facts(n=0)
    assert m.double(facts, 3) == 6
    x = m.explain("double", facts, 3)
    assert x.label == "double(3)"
    assert x.value == 6
    assert x.children[0].value == 6
    assert node(x, "value").value == 3


def test_parameter_shadowing_a_definition_or_fact_in_explain(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact rate: integer
        fact n: integer
        define base = n
        define scaled(base: integer) = base * 10
        define rated(rate: integer) = rate + 1
    """)
    facts = m.Facts(rate=100, n=1)
    assert m.scaled(facts, 3) == 30
    assert m.rated(facts, 3) == 4
    scaled = m.explain("scaled", facts, 3)
    assert scaled.children[0].value == 30
    assert node(scaled, "base").value == 3
    rated = m.explain("rated", facts, 3)
    assert rated.children[0].value == 4
    assert node(rated, "rate").value == 3


def test_definition_named_value_can_be_explained(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact n: integer
        define value = n + 1
        define twice = value * 2
    """)
    facts = m.Facts(n=1)
    assert m.value(facts) == 2
    assert m.explain("value", facts).value == 2
    assert m.explain("twice", facts).value == 4


def test_definition_named_like_a_python_builtin(tmp_path, compile_text):
    # "the Float" is a term of art; naming a definition after a Python builtin must not
    # break the module's own machinery (validation, formatting, explanations).
    m = compile_text(tmp_path, """
        agreement demo "Demo" {
          party seller "Seller"
        }
        fact price: money
        fact who: party
        define float: money = price
        define map = 1
        define abs = 2
        define reversed = 3
        condition seller_acts = who is seller
    """)
    facts = m.Facts(price="10", who="seller")
    assert m.evaluate("float", facts) == Decimal(10)
    assert m.evaluate("map", facts) == 1
    with pytest.raises(m.FactError) as info:
        m.Facts(price=1.5, who="seller")
    assert info.value.fact == "price"
    with pytest.raises(m.FactError) as info:
        m.Facts(price="1", who="buyer")
    assert info.value.fact == "who"
    x = m.explain("seller_acts", facts)
    assert node(x, "who").value == "seller"


def test_fact_named_like_a_python_keyword(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact yield: percent
        define doubled = yield * 2
    """)
    facts = m.Facts.from_dict({"yield": "5%"})
    assert m.doubled(facts) == Decimal("0.10")
    assert m.evaluate("yield", facts) == Decimal("0.05")
    assert node(m.explain("doubled", facts), "yield").value == Decimal("0.05")
    assert m.FACT_TYPES == {"yield": "percent"}
    # The clause's own name is accepted as a keyword argument too.
    assert m.doubled(m.Facts(**{"yield": "5%"})) == Decimal("0.10")


# =============================================================================
# Literal forms
# =============================================================================


@pytest.mark.parametrize("literal, expected", [
    ("2011-06-14 12:00 AM UTC", datetime(2011, 6, 14, 0, 0, tzinfo=UTC)),
    ("2011-06-14 12:30 P.M.", datetime(2011, 6, 14, 12, 30, tzinfo=NY)),
    ("2011-06-14T17:00:30 UTC", datetime(2011, 6, 14, 17, 0, 30, tzinfo=UTC)),
    ("2011-12-14 5:00 p.m. America/Los_Angeles",
     datetime(2011, 12, 14, 17, 0, tzinfo=ZoneInfo("America/Los_Angeles"))),
    ("2011-06-14 17:00 Europe/London", datetime(2011, 6, 14, 17, 0,
                                                tzinfo=ZoneInfo("Europe/London"))),
])
def test_datetime_literals(tmp_path, compile_text, literal, expected):
    m = compile_text(tmp_path, f"""
        agreement demo "Demo" {{
          time zone America/New_York
        }}
        fact n: integer
        define moment: datetime = {literal}
        define x = n
    """)
    value = m.moment(m.Facts(n=1))
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("literal, expected", [
    ("$1,800,000", Decimal(1800000)),
    ("$1,800,000.50", Decimal("1800000.50")),
    ("$.01", Decimal("0.01")),
    ("USD 5", Decimal(5)),
    ("$0", Decimal(0)),
])
def test_money_literals(tmp_path, compile_text, literal, expected):
    m = compile_text(tmp_path, f"""
        fact n: integer
        define amount: money = {literal}
        define x = n
    """)
    value = m.amount(m.Facts(n=1))
    assert value == expected and isinstance(value, Decimal)


@pytest.mark.parametrize("literal, expected", [
    ("15%", Decimal("0.15")),
    ("7.5%", Decimal("0.075")),
    ("0.01%", Decimal("0.0001")),
    ("27_037_814", 27037814),
    ("2.5", Decimal("2.5")),
    ("March 30, 2004", date(2004, 3, 30)),
    ("2004-02-29", date(2004, 2, 29)),
    ('"some text"', "some text"),
])
def test_other_literals(tmp_path, compile_text, literal, expected):
    m = compile_text(tmp_path, f"""
        fact n: integer
        define value_of_literal = {literal}
        define x = n
    """)
    value = m.value_of_literal(m.Facts(n=1))
    assert value == expected
    assert type(value) is type(expected)


def test_a_parenthesised_word_starting_an_item_is_an_expression_not_a_label(
        tmp_path, compile_text):
    # Item labels are letters like (a), (ll), roman numerals like (viii), (A) or (1);
    # "(true)" is an expression, so "(true) and approved" is the item.
    m = compile_text(tmp_path, """
        fact approved: bool
        condition c = all of [(true) and approved, (ll) approved, (viii) approved]
    """)
    assert m.c(m.Facts(approved=True)) is True
    assert m.c(m.Facts(approved=False)) is False


def test_a_long_chain_of_small_terms_compiles(tmp_path, compile_text):
    # Each term uses the one before it (as a price schedule does): small terms are computed
    # in place where used, which must not unfold the whole chain into one expression.
    # As long a chain as the checker allows (check.MAX_TERM_CHAIN).
    n = check.MAX_TERM_CHAIN
    chain = "\n".join(f"define price_{i}: money = price_{i - 1} + $100" for i in range(1, n))
    m = compile_text(tmp_path, "fact base: money\ndefine price_0: money = base\n" + chain)
    assert getattr(m, f"price_{n - 1}")(m.Facts(base="1000")) == Decimal(1000 + (n - 1) * 100)


# ====================================================================== invariants


INVARIANTS = """
    agreement a "A" { party p "P" party q "Q" }
    fact price: money
    fact paid: money optional
    section 1 {
      text "The price is paid in full."
      define net: money = price - $10
      invariant net_floor "the net price is at least -$10" = net >= -$10
      invariant paid_in_full "paid at most the price" = paid <= price when paid is given
    }
"""


def test_an_invariant_compiles_to_a_condition_that_holds_where_the_property_does(
        compile_text, tmp_path):
    module = compile_text(tmp_path, INVARIANTS)
    assert module.net_floor(module.Facts(price=Decimal(0))) is True
    assert module.paid_in_full(module.Facts(price=Decimal(5), paid=Decimal(7))) is False
    assert module.paid_in_full(module.Facts(price=Decimal(5), paid=Decimal(5))) is True
    # Where the assumption fails, the invariant holds (vacuously).
    assert module.paid_in_full(module.Facts(price=Decimal(5))) is True
    assert "Invariant: paid at most the price (paid_in_full), Section 1." in \
        module.paid_in_full.__doc__
    why = module.explain("paid_in_full", module.Facts(price=Decimal(5), paid=Decimal(7)))
    assert [child.label for child in why.children[0].children] == \
        ["paid is given", "paid <= price"]


def test_an_invariant_must_be_a_condition_and_is_not_a_value(diagnostics_of, tmp_path):
    found = diagnostics_of(tmp_path, """
        fact price: money
        invariant wrong = price + $1
        invariant bad_assumption = price > $0 when price
        define uses = wrong
    """)
    messages = [d.message for d in found if d.severity == "error"]
    assert "an invariant must be true or false, not money USD" in messages
    assert "an invariant's assumption must be true or false, not money USD" in messages
    assert "'wrong' is an invariant, not a value" in messages


# ====================================================================== scenario tests


def test_scenario_tests_are_parsed_into_the_ir():
    from clausec import api, ir
    from clausec.source import SourceFile

    source = SourceFile("t.clause", textwrap.dedent("""
        tests for patent_purchase

        test "board approval suffices" {
          as of March 31, 2004
          given {
            deposit_received = $900,000
            approved = true
          }
          expect closing_conditions_met = true
          expect revenue_limitation(2008, 1).limit = $13,354,691.40625
          expect termination raises NotInForceError
        }
    """))
    from clausec.diagnostics import Diagnostics

    program = api._front(source, diagnostics := Diagnostics())
    assert not diagnostics.items
    assert program.tests_for == "patent_purchase" and not program.sections
    (test,) = program.tests
    assert test.description == "board approval suffices"
    assert test.as_of == date(2004, 3, 31)
    assert [(g.name, g.value.value) for g in test.given] == \
        [("deposit_received", Decimal(900000)), ("approved", True)]
    first, second, third = test.expectations
    assert (first.probe.name, first.probe.args, first.probe.field, first.value.value) == \
        ("closing_conditions_met", (), None, True)
    assert second.probe.describe() == "revenue_limitation(2008, 1).limit"
    assert (third.probe.name, third.value, third.error) == \
        ("termination", None, "NotInForceError")
    assert isinstance(third, ir.Expectation)


def test_a_file_of_tests_holds_tests_only(diagnostics_of, tmp_path):
    found = diagnostics_of(tmp_path, """
        tests for a
        section 1 { text "No." }
        test "one" { as of 2004-01-01 as of 2004-01-02 }
    """)
    messages = [d.message for d in found]
    assert "a file of tests for 'a' holds tests only" in messages
    assert "a test has one 'as of' date" in messages


def test_files_of_tests_are_not_compiled_as_agreements(tmp_path):
    from clausec import api

    (tmp_path / "a.clause").write_text('agreement a "A" { }\n')
    (tmp_path / "a.tests.clause").write_text('tests for a\n')
    assert api.group([tmp_path]) == [(tmp_path / "a.clause", [])]
