"""The language of contracts over many things: choices and case analysis, records, lists
and tables, aggregates over lists, allocation, present value, values that exist only
under a condition (`none`, `X when C`), fact constraints, and three-valued logic over
missing facts (docs/data.md), as the checker and the compiled module see them.

Expected amounts are worked out by hand: $100,000.01 shared 4:2:1 is 57,142.862857...,
28,571.431428... and 14,285.715714...; rounded down to the cent they leave one cent,
which goes to the largest remainder (the third, .5714 of a cent).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausec import api
from clausec.backends.python.runtime_lists import in_order, pro_rata, year_fraction
from clausec.source import SourceFile

HEADER = """
agreement credit "Credit Agreement" {
  dated January 2, 2024
  party borrower "Borrower"
  party agent "Administrative Agent"
}
"""

BODY = """
section 1.01 "Defined Terms" {
  choice loan_type "Type of Loan" = [term_benchmark "Term Benchmark Loans",
                                      base_rate "Base Rate Loans"]
  fact loan_kind: loan_type
  define applicable_rate: percent = case loan_kind of [term_benchmark: 7.50%,
                                                       base_rate: 6.50%]
  record lender "Term Lender" {
    name: text
    principal "outstanding Term Loans": money
    declined "delivered a rejection notice": bool
  }
  fact lenders "Term Lenders": list of lender
  fact prepayment: money where prepayment >= $0
  define shares = allocate prepayment pro rata [l.principal for each l in lenders]
  define amounts = [s.amount for each s in shares]
  define declined_proceeds: money = sum of [s.amount for each s in shares when s.item.declined]
  define declining: integer = number of [l for each l in lenders when l.declined]
  define largest: money = greatest of [l.principal for each l in lenders]
  define everyone_declined: bool = all of [l.declined for each l in lenders]
  table step_down "Leverage Step-Down" {
    | ending: date | maximum: decimal |
    | 2024-03-31   | 4.50            |
    | 2024-12-31   | 4.25            |
    | 2025-12-31   | 4.00            |
  }
  fact test_date: date
  define maximum_ratio: decimal = first of [r.maximum for each r in step_down
                                            when test_date <= r.ending]
  define large_prepayment: money = prepayment when prepayment > $1,000
}
"""

LENDERS = [
    {"name": "A", "principal": "1000000", "declined": False},
    {"name": "B", "principal": "500000", "declined": True},
    {"name": "C", "principal": "250000", "declined": True},
]


def analyse(text: str) -> api.Result:
    return api.analyse(SourceFile("t.clause", HEADER + text))


def errors(text: str) -> list[str]:
    result = analyse(text)
    return [d.message + (f" | {d.hint}" if d.hint else "") for d in result.diagnostics
            if d.severity == "error"]


def build(text: str) -> ModuleType:
    result = analyse(text)
    assert result.ok, errors(text)
    return api.module_from_source(api.generate(result), "t.clause")


@pytest.fixture(scope="module")
def credit() -> ModuleType:
    return build(BODY)


def facts(module: ModuleType, **changes: object) -> object:
    given: dict[str, object] = {"loan_kind": "base_rate", "lenders": LENDERS,
                                "prepayment": "100000.01", "test_date": "2024-06-30"}
    given.update(changes)
    return module.Facts(**given)


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------

CHOICE = 'choice loan_type = [term_benchmark, base_rate]\nfact k: loan_type\n'
RECORD = 'record lender { principal: money  declined: bool }\nfact ls: list of lender\n'


@pytest.mark.parametrize(("text", "message"), [
    (CHOICE + "define r: percent = case k of [term_benchmark: 7.5%]",
     "this case does not say what applies for 'base_rate'"),
    (CHOICE + "define r: percent = case k of [term_benchmark: 7.5%, base_rte: 6%]",
     "'base_rte' is not a member of 'loan_type' | did you mean 'base_rate'?"),
    (CHOICE + "define r: percent = case k of [term_benchmark: 7.5%, base_rate: $6]",
     "this case is money USD, the ones before it percent"),
    ("fact x: integer\ndefine r: percent = case x of [a: 1%]", "'case' takes a choice"),
    (CHOICE + "fact term_benchmark: date",
     "'term_benchmark' is a member of 'loan_type' and also declared"),
    (CHOICE + "define same: bool = k == base_rte", "'base_rte' is not defined"),
    (CHOICE + "fact n: integer\ndefine d: bool = k == n", "cannot compare loan type with integer"),
    ("table t { | a: integer | b: money |\n | 1 | $2 | 3 | }", "this row has 3 cells"),
    ("table t { | a: integer | b: money |\n | 1 | 2% | }", "column 'b' is money USD, not percent"),
    ("fact z: integer\ntable t { | a: integer |\n | z | }", "a table's cells are values written out"),
    (RECORD + "define s: money = sum of [l.principl for each l in ls]",
     "a lender has no field 'principl' | did you mean 'principal'?"),
    (RECORD + "define s: money = sum of [l.declined for each l in ls]",
     "the items of 'sum of' must be numbers or amounts, not bool"),
    ("fact n: integer\ndefine s: integer = sum of [x for each x in n]",
     "'for each ... in' needs a list, not integer"),
    ("fact cap: money\nfact balance: money where balance <= cap",
     "a fact's 'where' may use only the fact itself, not 'cap'"),
    ("fact balance: money where balance", "a fact's 'where' must be true or false"),
    (RECORD + "define a = allocate 5% pro rata [l.principal for each l in ls]",
     "'allocate' shares out an amount of money, not percent"),
    (RECORD + "fact p: money\ndefine a = allocate p in order [l.declined for each l in ls]",
     "the items of 'allocate ... in order' must be money USD"),
    ("fact x: list of lendr", "unknown type 'lendr'"),
    ("record r { a: integer  a: money }", "'r' has two fields 'a'"),
])
def test_mistakes_are_reported(text: str, message: str) -> None:
    found = errors(text)
    assert any(message in e for e in found), found


def test_otherwise_covers_the_rest_and_is_warned_when_it_covers_nothing() -> None:
    assert not errors(CHOICE + "define r: percent = case k of [base_rate: 6%, otherwise: 7%]")
    result = analyse(CHOICE + "define r: percent = case k of "
                              "[base_rate: 6%, term_benchmark: 7%, otherwise: 8%]")
    assert any("'otherwise' never applies" in d.message for d in result.diagnostics)


def test_case_words_remain_usable_where_they_are_not_keywords() -> None:
    # "first", "number" and "none" only start a construct before "of".
    assert not errors("fact first: date\nfact number: integer\n"
                      "define later: date = 10 days after first\n"
                      "define more: integer = number + 1")


# ---------------------------------------------------------------------------
# Compiled semantics
# ---------------------------------------------------------------------------


def test_case_gives_each_member_its_value(credit: ModuleType) -> None:
    # "The Applicable Rate means (i) 7.50% for Term Benchmark Loans and (ii) 6.50% for
    # Base Rate Loans."
    assert credit.applicable_rate(facts(credit, loan_kind="term_benchmark")) == Decimal("0.075")
    assert credit.applicable_rate(facts(credit)) == Decimal("0.065")


def test_pro_rata_shares_add_up_to_the_amount(credit: ModuleType) -> None:
    case = facts(credit)
    assert credit.amounts(case) == (Decimal("57142.86"), Decimal("28571.43"),
                                    Decimal("14285.72"))
    shares = credit.shares(case)
    assert [s["item"]["name"] for s in shares] == ["A", "B", "C"]
    assert credit.declined_proceeds(case) == Decimal("42857.15")
    assert credit.declining(case) == 2
    assert credit.largest(case) == Decimal(1000000)
    assert credit.everyone_declined(case) is False


def test_lists_may_be_empty(credit: ModuleType) -> None:
    case = facts(credit, lenders=[], prepayment="0")
    assert credit.amounts(case) == ()
    assert credit.declined_proceeds(case) == Decimal(0)
    assert credit.declining(case) == 0
    assert credit.largest(case) is None
    assert credit.everyone_declined(case) is True


def test_the_row_of_a_table_that_applies(credit: ModuleType) -> None:
    assert credit.maximum_ratio(facts(credit, test_date="2024-03-31")) == Decimal("4.50")
    assert credit.maximum_ratio(facts(credit, test_date="2024-06-30")) == Decimal("4.25")
    assert credit.maximum_ratio(facts(credit, test_date="2026-01-01")) is None  # no row
    assert len(credit.step_down(facts(credit))) == 3


def test_a_value_only_under_its_condition(credit: ModuleType) -> None:
    assert credit.large_prepayment(facts(credit)) == Decimal("100000.01")
    assert credit.large_prepayment(facts(credit, prepayment="999")) is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"loan_kind": "base rate"}, "did you mean 'base_rate'?"),
    ({"loan_kind": "libor"}, "expected one of 'term_benchmark', 'base_rate'"),
    ({"prepayment": "-5"}, "-5 is not allowed: the agreement requires prepayment >= $0"),
    ({"lenders": [{"name": "A", "principl": "1", "declined": False}]},
     "fact 'lenders[0]': has no field 'principl' — did you mean 'principal'?"),
    ({"lenders": [{"name": "A", "declined": False}]}, "field 'principal' is not given"),
    ({"lenders": [{"name": "A", "principal": "ten", "declined": False}]}, "lenders[0].principal"),
    ({"lenders": {"name": "A"}}, "expected a list"),
])
def test_bad_facts_are_clear_errors(credit: ModuleType, changes: dict[str, object],
                                    message: str) -> None:
    with pytest.raises(credit.FactError) as raised:
        facts(credit, **changes)
    assert message in str(raised.value)


# ---------------------------------------------------------------------------
# Three-valued logic: an item that decides, decides
# ---------------------------------------------------------------------------

KLEENE = """
fact a: bool optional
fact b: bool
fact c: bool
condition any_items = any of [a, b, c]
condition all_items = all of [a, b, c]
condition none_items = none of [a, b, c]
condition either = a or c
condition both = a and c
condition exempt = a unless c
"""


@pytest.fixture(scope="module")
def kleene() -> ModuleType:
    return build(KLEENE)


def test_a_true_item_decides_any_of_although_another_is_unknown(kleene: ModuleType) -> None:
    case = kleene.Facts(b=False, c=True)
    assert kleene.any_items(case) is True
    assert kleene.either(case) is True
    assert kleene.none_items(case) is False
    assert kleene.exempt(case) is False  # "A unless C": C holds, so whatever A is


def test_a_false_item_decides_all_of_although_another_is_unknown(kleene: ModuleType) -> None:
    case = kleene.Facts(b=False, c=False)
    assert kleene.all_items(case) is False
    assert kleene.both(case) is False


def test_undecided_is_the_missing_fact(kleene: ModuleType) -> None:
    with pytest.raises(kleene.MissingFactError, match="'a'"):
        kleene.any_items(kleene.Facts(b=False, c=False))
    with pytest.raises(kleene.MissingFactError, match="'a'"):
        kleene.all_items(kleene.Facts(b=True, c=True))


def test_the_explanation_names_the_unknown_item(kleene: ModuleType) -> None:
    explained = kleene.explain("any_items", kleene.Facts(b=False, c=True))
    assert explained.value is True
    notes = {child.label: child.note for child in explained.children[0].children}
    assert notes["a"].startswith("unknown"), notes
    assert "unknown" in str(explained)


# ---------------------------------------------------------------------------
# Allocation, present value, day counts
# ---------------------------------------------------------------------------

AT = ("t.clause", 1, 1, None)


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=10**12, places=2),
       weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12))
def test_pro_rata_never_loses_or_creates_a_cent(amount: Decimal, weights: list[int]) -> None:
    if sum(weights) == 0:
        return
    shares = pro_rata(amount, [(i, w) for i, w in enumerate(weights)], AT)
    amounts = [s["amount"] for s in shares]
    assert sum(amounts) == amount
    total = sum(weights)
    for share, weight in zip(amounts, weights):
        exact = amount * weight / total
        assert abs(share - exact) < Decimal("0.01")  # within a cent of the exact share


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=10**9, places=2),
       caps=st.lists(st.decimals(min_value=0, max_value=10**6, places=2), max_size=10))
def test_in_order_fills_each_item_before_the_next(amount: Decimal, caps: list[Decimal]) -> None:
    shares = [s["amount"] for s in in_order(amount, [(c, c) for c in caps], AT)]
    assert sum(shares) == min(amount, sum(caps, Decimal(0)))
    for i, (share, cap) in enumerate(zip(shares, caps)):
        assert share <= cap
        if share < cap:  # only the item where the amount ran out is part-filled
            assert all(s == 0 for s in shares[i + 1:])


@pytest.mark.parametrize(("start", "end", "basis", "years"), [
    (date(2025, 1, 1), date(2026, 1, 1), "actual/365", Decimal(1)),
    (date(2025, 1, 1), date(2025, 7, 20), "actual/360", Decimal(200) / 360),
    (date(2024, 1, 31), date(2024, 3, 31), "30/360", Decimal(60) / 360),
    (date(2024, 1, 15), date(2024, 2, 15), "30/360", Decimal(30) / 360),
    (date(2023, 7, 1), date(2024, 7, 1), "actual/actual",
     Decimal(184) / 365 + Decimal(182) / 366),
])
def test_day_counts(start: date, end: date, basis: str, years: Decimal) -> None:
    assert abs(year_fraction(start, end, basis) - years) < Decimal("1E-25")


PV = """
record payment { due: date  amount: money }
fact payments: list of payment
fact prepaid_on: date
fact treasury_rate: percent
define make_whole: money = present value of [p.amount on p.due for each p in payments
                                              when p.due > prepaid_on]
                           at treasury_rate + 0.50% actual/365 compounded annually
                           on prepaid_on
define simple_value: money = present value of [p.amount on p.due for each p in payments]
                             at 10% 30/360 simple on prepaid_on
"""


def test_present_value_of_the_remaining_payments() -> None:
    module = build(PV)
    case = module.Facts(payments=[{"due": "2024-01-01", "amount": "50000"},
                                  {"due": "2026-01-01", "amount": "1100"},
                                  {"due": "2027-01-01", "amount": "1210"}],
                        prepaid_on="2025-01-01", treasury_rate="9.5%")
    # 1,100 one year (365 days) ahead and 1,210 two years (730 days) ahead at 10% a year
    # are each worth 1,000 today; the payment of 2024 is not remaining.
    assert module.make_whole(case) == Decimal("2000.00")
    # Simple interest, 30/360: 1,100/1.1 + 1,210/1.2 + 50,000/0.9 (a year before).
    expected = (Decimal(1000) + Decimal(1210) / Decimal("1.2") + Decimal(50000) / Decimal("0.9"))
    assert module.simple_value(case) == expected.quantize(Decimal("0.01"))


def test_lists_of_any_length_evaluate() -> None:
    module = build(BODY)
    many = [{"name": str(i), "principal": str(i + 1), "declined": i % 2 == 0}
            for i in range(50_000)]
    case = module.Facts(loan_kind="base_rate", lenders=many, prepayment="1000000",
                        test_date="2024-06-30")
    assert module.declining(case) == 25_000
    assert sum(module.amounts(case)) == Decimal(1000000)


# ---------------------------------------------------------------------------
# Scenario tests, the command line and the schema
# ---------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "credit_prepayment.clause"


def test_the_reference_example_passes_its_scenario_tests(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("test", EXAMPLE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 0 failed" in done.stdout


def test_a_wrong_list_expectation_fails_and_says_both_lists(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wrong = tmp_path / "credit.clause"
    wrong.write_text(EXAMPLE.read_text(encoding="utf-8").replace(
        "[$250,000, $110,000, $0]", "[$250,000, $100,000, $10,000]"), encoding="utf-8")
    done = run_cli("test", wrong)
    assert done.returncode == 1
    assert "expected: [250000, 100000, 10000]" in done.stdout, done.stdout
    assert "actual:   [250000, 110000, 0]" in done.stdout, done.stdout


@pytest.mark.parametrize(("given", "message"), [
    ("loan_kind = base_rte",
     "'base_rte' is not a member of 'loan_type'|did you mean 'base_rate'?"),
    ('term_lenders = [{name: "A", principl: $1, declined: false}]',
     "a lender has no field 'principl'|did you mean 'principal'?"),
    ('term_lenders = [{name: "A", declined: false}]', "this record has no 'principal'"),
    ("term_lenders = [{name: 1, principal: $1, declined: false}]",
     "'name' is text, but this value is integer"),
    ('accrued_interest = [{name: "A"}]', "records are given for a fact that is money"),
])
def test_mistakes_in_the_facts_a_test_gives(given: str, message: str, run_cli,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    name = given.split(" = ")[0]
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(name + " ="))
    end = start
    while lines[end].count("[") > lines[end].count("]") or \
            (end > start and not lines[end].rstrip().endswith("]")) and end + 1 < len(lines):
        end += 1
    lines[start:end + 1] = ["    " + given]
    wrong = tmp_path / "credit.clause"
    wrong.write_text("\n".join(lines), encoding="utf-8")
    done = run_cli("check", wrong)
    assert done.returncode == 1
    for part in message.split("|"):
        assert part in done.stdout + done.stderr, done.stdout + done.stderr


def test_eval_prints_a_list_as_data(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps({
        "loan_kind": "base_rate", "prepayment": "100000.01", "payment": "0",
        "accrued_interest": "0", "installments": [], "test_date": "2024-06-30",
        "leverage_ratio": "4", "term_lenders": LENDERS}), encoding="utf-8")
    done = run_cli("eval", EXAMPLE, "prepayment_shares", "--facts", facts_file,
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [s["amount"] for s in out["data"]] == ["57142.86", "28571.43", "14285.72"]
    assert out["data"][1]["item"] == {"name": "B", "principal": "500000", "declined": True}


def test_the_schema_describes_choices_records_lists_and_constraints(run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("schema", EXAMPLE)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)["properties"]
    assert schema["loan_kind"]["enum"] == ["term_benchmark", "base_rate"]
    lenders = schema["term_lenders"]
    assert lenders["type"] == "array"
    assert lenders["items"]["required"] == ["name", "principal", "declined"]
    assert "prepayment >= $0" in schema["prepayment"]["$comment"]
