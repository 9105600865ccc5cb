"""The interpreter on contracts over many things (docs/data.md): choices and `case`,
records and lists of records as facts, tables, lists written out and built from others,
aggregates with filters, allocations pro rata and in order, present values, `none` and
`(X when C)`, facts' `where`, and three-valued `and`, `or`, `unless`, `any of`, `all of`
and `none of` (over items, lists and ranges of periods). Every answer is checked against
the compiled module too: the same value, or the same error."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from test_differential import _compile, normal, outcome

from clausec.backends.interpret import Agreement
from clausec.backends.python.runtime import FactError, MissingFactError
from clausec.backends.python.runtime_eval import ClauseRuntimeError, NoValueError

PROGRAM = '''
agreement credit "Credit Agreement" {
  dated 2024-01-02
  party borrower "Borrower"
  party agent "Administrative Agent"
}

choice loan_type "Type of Loan" = [term_benchmark "Term Benchmark Loan", base_rate "Base Rate Loan",
                                   daily_simple]
record lender "Term Lender" {
  name: text
  principal "outstanding Term Loans": money
  declined "delivered a rejection notice": bool
  kind: loan_type
}
record installment "Installment" {
  amount: money
  due: date
}
table step_down "Leverage Step-Down" {
  | ending: date | maximum: decimal | kind: loan_type |
  | 2024-03-31   | 4.50            | base_rate      |
  | 2024-12-31   | 4.25            | term_benchmark |
  | 2025-12-31   | 4.00            | base_rate      |
}

fact loan_kind "Type of the Loan": loan_type
fact other_kind: loan_type optional
fact lenders "Term Lenders": list of lender
fact installments: list of installment where all of [i.amount >= $0 for each i in installments]
fact prepayment "amount of the prepayment": money where prepayment >= $0
fact cap: money optional
fact a: bool optional
fact b: bool optional
fact c: bool optional
fact test_date: date
fact sales: money per calendar_quarter

define applicable_rate "Applicable Rate": percent =
  case loan_kind of [term_benchmark: 7.50%, base_rate or daily_simple: 6.50%]
define margin: percent = case loan_kind of [base_rate: 1%, otherwise: 2.25%]
define other_rate: percent = case other_kind of [term_benchmark: 7.50%, otherwise: 6.50%]
define other_or_none: percent = case loan_kind of [term_benchmark: 7.50%, otherwise: none]
condition is_benchmark = loan_kind is term_benchmark
define kind_of_first: loan_type = (first of [l.kind for each l in lenders])

define shares = allocate prepayment pro rata [l.principal for each l in lenders]
define by_weight = allocate prepayment pro rata [4, 2, 1]
define weights_of_shares = [s.item for each s in by_weight]
define declined_proceeds "Declined Proceeds": money =
  sum of [s.amount for each s in shares when s.item.declined]
define declining "number of declining lenders": integer =
  number of [l for each l in lenders when l.declined]
define lender_count: integer = number of lenders
define largest: money = greatest of [l.principal for each l in lenders]
define smallest: money = least of [l.principal for each l in lenders when not l.declined]
define first_declining: text = (first of [l.name for each l in lenders when l.declined])
define first_lender_principal: money = ((first of lenders).principal)
define names = [l.name for each l in lenders]
define written = [1, 2.5, 3]
define maybe_written = [1, none, (2.5 when a)]

define maximum_ratio: decimal =
  (first of [r.maximum for each r in step_down when test_date <= r.ending])
define base_rate_steps: integer = number of [r for each r in step_down when r.kind is base_rate]

define waterfall = allocate prepayment in order [i.amount for each i in installments]
define applied: money = sum of [s.amount for each s in waterfall]
define present: money = present value of [i.amount on i.due for each i in installments]
  at 10% actual/360 simple on 2024-01-01
define present_annual: money = present value of [i.amount on i.due for each i in installments
  when i.amount > $0] at 5% on 2024-01-01

define bonus: money = prepayment when prepayment > $1,000
define nada: money = none
define capped: money = (cap when a)
define capped_or_zero: money = if (cap when a) is given then cap else $0

condition any_abc = any of [a, b, c]
condition all_abc = all of [a, b, c]
condition none_abc = none of [a, b, c]
condition guarded_any = any of [(i) a when b, (ii) c]
condition a_or_b = a or b
condition a_and_b = a and b
condition a_unless_b = a unless b
condition not_a = not a
condition anyone_declined = any of [l.declined for each l in lenders]
condition everyone_declined = all of [l.declined for each l in lenders]
condition nobody_declined = none of [l.declined for each l in lenders]
condition anyone_over_cap = any of [l.principal > cap for each l in lenders]
condition everyone_under_cap = all of [l.principal < cap for each l in lenders when not l.declined]
condition a_good_quarter = any of [sales(q) > $100 for each calendar_quarter q
                                   from 2024-01-01 through 2024-12-31]
condition every_quarter_good = all of [sales(q) > $100 for each calendar_quarter q
                                       from 2024-01-01 through 2024-12-31]
'''

LENDERS = [
    {"name": "A", "principal": "$1,000,000", "declined": False, "kind": "base_rate"},
    {"name": "B", "principal": "500000", "declined": True, "kind": "term_benchmark"},
    {"name": "C", "principal": Decimal(250000), "declined": True, "kind": "base_rate"},
]
INSTALLMENTS = [{"amount": "$110", "due": "2024-12-26"},  # 360 days after January 1, 2024
                {"amount": "$40,000", "due": "2025-01-01"}]
FACTS: dict[str, Any] = {
    "loan_kind": "base_rate", "lenders": LENDERS, "installments": INSTALLMENTS,
    "prepayment": "$100,000.01", "test_date": date(2024, 6, 30),
    "sales": {"2024-01-01": 50, "2024-04-01": 150, "2024-07-01": 120, "2024-10-01": 130},
}


@pytest.fixture(scope="module")
def compiled() -> tuple[Any, Agreement]:
    return _compile(PROGRAM, "credit.clause")


def both(compiled: tuple[Any, Agreement], name: str, **changes: Any) -> Any:
    """`name` evaluated on FACTS with `changes` (None: left out) by the interpreter, after
    checking that the compiled module gives the same value or raises the same error; the
    interpreter's value, or its error raised again."""
    module, agreement = compiled
    values = {k: v for k, v in {**FACTS, **changes}.items() if v is not None}
    interpreted = outcome(lambda: agreement.evaluate(name, values))
    assert outcome(lambda: module.evaluate(name, module.Facts(**values))) == interpreted, name
    return agreement.evaluate(name, values)


def raises(compiled: tuple[Any, Agreement], error: type[Exception], name: str,
           **changes: Any) -> Exception:
    with pytest.raises(error) as raised:
        both(compiled, name, **changes)
    return raised.value


def refused(compiled: tuple[Any, Agreement], **changes: Any) -> str:
    """The message with which both refuse the facts (a FactError)."""
    module, agreement = compiled
    values = {k: v for k, v in {**FACTS, **changes}.items() if v is not None}
    with pytest.raises(FactError) as error:
        agreement.facts(values)
    # The module's FactError is its own class (the runtime pasted into it), of that name.
    assert outcome(lambda: module.Facts(**values)) == ("error", "FactError")
    try:
        module.Facts(**values)
    except Exception as compiled_error:  # noqa: BLE001 - compared by its message
        assert str(compiled_error) == str(error.value)
    return str(error.value)


# ------------------------------------------------------------------ choices


def test_a_case_gives_the_value_for_the_member(compiled: Any) -> None:
    assert both(compiled, "applicable_rate") == Decimal("0.0650")
    assert both(compiled, "applicable_rate", loan_kind="term_benchmark") == Decimal("0.0750")
    assert both(compiled, "applicable_rate", loan_kind="daily_simple") == Decimal("0.0650")
    assert both(compiled, "margin") == Decimal("0.01")
    assert both(compiled, "margin", loan_kind="daily_simple") == Decimal("0.0225")
    assert both(compiled, "other_or_none") is None
    assert both(compiled, "is_benchmark") is False
    assert both(compiled, "is_benchmark", loan_kind="term_benchmark") is True
    assert both(compiled, "kind_of_first") == "base_rate"


def test_a_case_of_an_optional_choice_not_given_needs_it(compiled: Any) -> None:
    error = raises(compiled, MissingFactError, "other_rate")
    assert error.fact == "other_kind"  # type: ignore[attr-defined]
    assert both(compiled, "other_rate", other_kind="daily_simple") == Decimal("0.0650")


def test_a_choice_fact_is_one_of_its_members(compiled: Any) -> None:
    message = refused(compiled, loan_kind="base rate")
    assert "did you mean 'base_rate'" in message
    assert "expected one of 'term_benchmark', 'base_rate', 'daily_simple'" in message


# ------------------------------------------------------------ lists of records


def test_lists_of_records_filtered_and_aggregated(compiled: Any) -> None:
    assert both(compiled, "declining") == 2
    assert both(compiled, "lender_count") == 3
    assert both(compiled, "largest") == Decimal(1000000)
    assert both(compiled, "smallest") == Decimal(1000000)
    assert both(compiled, "first_declining") == "B"
    assert both(compiled, "first_lender_principal") == Decimal(1000000)
    assert both(compiled, "names") == ("A", "B", "C")
    assert both(compiled, "anyone_declined") is True
    assert both(compiled, "everyone_declined") is False
    assert both(compiled, "nobody_declined") is False


def test_aggregates_of_an_empty_list(compiled: Any) -> None:
    assert both(compiled, "lender_count", lenders=[]) == 0
    assert both(compiled, "declined_proceeds", lenders=[], prepayment="$0") == Decimal(0)
    assert both(compiled, "anyone_declined", lenders=[]) is False
    assert both(compiled, "everyone_declined", lenders=[]) is True
    assert both(compiled, "nobody_declined", lenders=[]) is True
    # No first item, no greatest: the term has no value; a field of the first lender
    # needs one.
    assert both(compiled, "first_declining", lenders=[]) is None
    assert both(compiled, "largest", lenders=[]) is None
    raises(compiled, NoValueError, "first_lender_principal", lenders=[])


def test_lists_written_out(compiled: Any) -> None:
    written = both(compiled, "written")
    assert normal(written) == normal((Decimal(1), Decimal("2.5"), Decimal(3)))
    assert normal(both(compiled, "maybe_written", a=True)) == \
        normal((Decimal(1), None, Decimal("2.5")))
    assert normal(both(compiled, "maybe_written", a=False)) == normal((Decimal(1), None, None))
    # The guard of an item needs its fact.
    raises(compiled, MissingFactError, "maybe_written")


def test_a_table_is_a_list_of_records(compiled: Any) -> None:
    rows = both(compiled, "step_down")
    assert rows[1] == {"ending": date(2024, 12, 31), "maximum": Decimal("4.25"),
                       "kind": "term_benchmark"}
    assert both(compiled, "maximum_ratio") == Decimal("4.25")
    assert both(compiled, "maximum_ratio", test_date=date(2024, 1, 1)) == Decimal("4.50")
    assert both(compiled, "maximum_ratio", test_date=date(2026, 1, 1)) is None
    assert both(compiled, "base_rate_steps") == 2
    with pytest.raises(TypeError):
        compiled[1].evaluate("step_down", FACTS, 1)


def test_records_are_read_as_the_module_reads_them(compiled: Any) -> None:
    lender = {"name": "D", "principal": "$1", "declined": False, "kind": "base_rate"}
    assert "has no field 'principl'" in refused(
        compiled, lenders=[{**lender, "principl": "$1"}])
    assert "field 'declined' is not given" in refused(
        compiled, lenders=[{k: v for k, v in lender.items() if k != "declined"}])
    assert refused(compiled, lenders=[{**lender, "kind": "Base Rate"}]).startswith(
        "fact 'lenders[0].kind'")
    assert "expected a list" in refused(compiled, lenders=lender)
    assert "expected a record" in refused(compiled, lenders=["D"])
    assert refused(compiled, lenders=[{**lender, "principal": "one dollar"}]).startswith(
        "fact 'lenders[0].principal'")


def test_a_facts_where_is_checked_when_facts_are_read(compiled: Any) -> None:
    assert refused(compiled, prepayment="-5") == \
        "fact 'prepayment': -5 is not allowed: the agreement requires prepayment >= $0"
    assert "is not allowed" in refused(
        compiled, installments=[{"amount": "-$1", "due": "2024-01-01"}])
    assert both(compiled, "prepayment", prepayment="$0") == Decimal(0)


# -------------------------------------------------------------- allocation


def test_pro_rata_by_the_largest_remainder(compiled: Any) -> None:
    shares = both(compiled, "by_weight")
    assert [s["amount"] for s in shares] == \
        [Decimal("57142.86"), Decimal("28571.43"), Decimal("14285.72")]
    assert sum(s["amount"] for s in shares) == Decimal("100000.01")
    assert both(compiled, "weights_of_shares") == (4, 2, 1)
    # The same by the lenders' principals: each share's item is the lender.
    by_lender = both(compiled, "shares")
    assert [(s["item"]["name"], s["amount"]) for s in by_lender] == \
        [("A", Decimal("57142.86")), ("B", Decimal("28571.43")), ("C", Decimal("14285.72"))]
    assert both(compiled, "declined_proceeds") == Decimal("42857.15")


def test_pro_rata_ties_go_to_the_earlier_item(compiled: Any) -> None:
    even = [{**lender, "principal": "$1"} for lender in LENDERS]
    amounts = [s["amount"] for s in both(compiled, "shares", lenders=even, prepayment="$1")]
    assert amounts == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]


def test_pro_rata_refuses_what_cannot_be_shared(compiled: Any) -> None:
    negative = [{**LENDERS[0], "principal": "-$1"}, LENDERS[1]]
    assert "negative" in str(raises(compiled, ClauseRuntimeError, "shares", lenders=negative))
    zero = [{**lender, "principal": "$0"} for lender in LENDERS]
    assert "add up to zero" in str(raises(compiled, ClauseRuntimeError, "shares", lenders=zero))
    assert "empty" in str(raises(compiled, ClauseRuntimeError, "shares", lenders=[]))
    assert both(compiled, "shares", lenders=[], prepayment="$0") == ()


def test_in_order_fills_each_item_in_turn(compiled: Any) -> None:
    shares = both(compiled, "waterfall", prepayment="$1,000")
    assert [s["amount"] for s in shares] == [Decimal(110), Decimal(890)]
    assert both(compiled, "applied", prepayment="$1,000") == Decimal(1000)
    # What is left after the last item is not allocated.
    assert both(compiled, "applied", prepayment="$50,000") == Decimal(40110)


# ----------------------------------------------------------- present value


def test_present_value(compiled: Any) -> None:
    # $110 due 360 days on, at 10% simple interest on an actual/360 basis: $100; $40,000
    # due 366 days on: 40,000 / (1 + 0.1 * 366/360) = $36,308.62, to the cent.
    assert both(compiled, "present",
                installments=INSTALLMENTS[:1]) == Decimal("100.00")
    assert both(compiled, "present") == Decimal("36408.62")
    assert both(compiled, "present_annual", installments=[]) == Decimal("0.00")
    assert both(compiled, "present_annual") == both(compiled, "present_annual")


# ------------------------------------------------------------- no value


def test_none_and_when(compiled: Any) -> None:
    assert both(compiled, "bonus") == Decimal("100000.01")
    assert both(compiled, "bonus", prepayment="$1,000") is None
    assert both(compiled, "nada") is None
    assert both(compiled, "capped", cap="$5", a=True) == Decimal(5)
    assert both(compiled, "capped", cap="$5", a=False) is None
    assert both(compiled, "capped", a=True) is None  # the value is not there: none
    raises(compiled, MissingFactError, "capped", cap="$5")  # the condition needs its fact
    assert both(compiled, "capped_or_zero", cap="$5", a=False) == Decimal(0)
    assert both(compiled, "capped_or_zero", cap="$5", a=True) == Decimal(5)


# -------------------------------------------------------- three-valued logic


def test_any_of_is_true_when_one_item_is_although_another_is_unknown(compiled: Any) -> None:
    assert both(compiled, "any_abc", c=True) is True
    assert both(compiled, "any_abc", b=False, c=True) is True
    error = raises(compiled, MissingFactError, "any_abc", b=False, c=False)
    assert error.fact == "a"  # type: ignore[attr-defined]
    error = raises(compiled, MissingFactError, "any_abc", c=False)
    assert error.fact == "a"  # type: ignore[attr-defined]  # the first unknown item
    assert both(compiled, "any_abc", a=False, b=False, c=False) is False


def test_all_of_is_false_when_one_item_is_although_another_is_unknown(compiled: Any) -> None:
    assert both(compiled, "all_abc", b=False) is False
    assert both(compiled, "all_abc", c=False) is False
    error = raises(compiled, MissingFactError, "all_abc", b=True, c=True)
    assert error.fact == "a"  # type: ignore[attr-defined]
    assert both(compiled, "all_abc", a=True, b=True, c=True) is True


def test_none_of_and_not_of_unknown(compiled: Any) -> None:
    assert both(compiled, "none_abc", c=True) is False
    raises(compiled, MissingFactError, "none_abc", b=False, c=False)
    assert both(compiled, "none_abc", a=False, b=False, c=False) is True
    raises(compiled, MissingFactError, "not_a")
    assert both(compiled, "not_a", a=False) is True


def test_a_guard_that_is_unknown_leaves_its_item_unknown(compiled: Any) -> None:
    assert both(compiled, "guarded_any", c=True) is True
    raises(compiled, MissingFactError, "guarded_any", a=True, c=False)
    assert both(compiled, "guarded_any", b=False, c=False) is False


def test_and_or_unless_decide_on_either_side(compiled: Any) -> None:
    assert both(compiled, "a_or_b", b=True) is True
    assert both(compiled, "a_or_b", a=True) is True
    raises(compiled, MissingFactError, "a_or_b", b=False)
    assert both(compiled, "a_and_b", b=False) is False
    raises(compiled, MissingFactError, "a_and_b", b=True)
    assert both(compiled, "a_unless_b", b=True) is False  # a and not b
    raises(compiled, MissingFactError, "a_unless_b", b=False)
    assert both(compiled, "a_unless_b", a=True, b=False) is True


def test_three_valued_over_a_list(compiled: Any) -> None:
    # cap is not given: each comparison is unknown, and nothing decides.
    raises(compiled, MissingFactError, "anyone_over_cap")
    assert both(compiled, "anyone_over_cap", cap="$600,000") is True
    assert both(compiled, "everyone_under_cap", cap="$2,000,000") is True
    assert both(compiled, "everyone_under_cap", cap="$10") is False
    raises(compiled, MissingFactError, "everyone_under_cap")
    # No lender to ask about: nothing is unknown.
    assert both(compiled, "anyone_over_cap", lenders=[]) is False


def test_three_valued_over_a_range_of_periods(compiled: Any) -> None:
    # The first quarter's sales are not given; a later quarter's decide "any of".
    sales = {"2024-04-01": 150}
    assert both(compiled, "a_good_quarter", sales=sales) is True
    # Nothing decides: the first missing quarter is the error.
    error = raises(compiled, MissingFactError, "a_good_quarter", sales={"2024-04-01": 50})
    assert "2024" in error.fact  # type: ignore[attr-defined]
    assert both(compiled, "every_quarter_good", sales={"2024-04-01": 50}) is False
    raises(compiled, MissingFactError, "every_quarter_good", sales=sales)
    assert both(compiled, "every_quarter_good") is False
    assert both(compiled, "a_good_quarter") is True


def test_every_name_agrees_on_these_facts(compiled: Any) -> None:
    module, agreement = compiled
    variations: list[dict[str, Any]] = [
        {}, {"a": True}, {"a": False, "b": True, "c": False}, {"cap": "$700,000", "a": True},
        {"lenders": [], "prepayment": "$0"}, {"loan_kind": "term_benchmark",
                                              "other_kind": "base_rate"},
    ]
    names: list[str] = list(agreement.versions[0].names)
    for change in variations:
        values = {**FACTS, **change}
        facts = module.Facts(**values)
        for name in names:
            compiled_outcome = outcome(functools.partial(module.evaluate, name, facts))
            interpreted = outcome(functools.partial(agreement.evaluate, name, values))
            assert compiled_outcome == interpreted, (name, change)
