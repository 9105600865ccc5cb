"""`clausec fmt` on choices, records, tables and lists: `choice`, `record`, `table` (its
columns aligned), `list of T`, lists written out and built with `for each`, aggregates,
`case`, `none`, `(X when C)`, `define x = X when C`, `allocate`, `present value of` and a
fact's `where`.

The same guarantees as for every other construct (tests/test_formatter.py): the meaning,
comments and words are kept, and formatting twice changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_formatter import assert_same_meaning, program_of

from clausec import api
from clausec.source import SourceFile
from clausec.tools import formatter
from clausec.tools.formatter import format_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "lists"
SAMPLE_IN = DATA / "every_list_construct.input.clause"
SAMPLE_OUT = DATA / "every_list_construct.expected.clause"


def fmt(text: str) -> str:
    return assert_same_meaning(text.lstrip("\n"))


# ---------------------------------------------------------------- the sample


def test_the_sample_keeps_its_meaning_and_formatting_is_idempotent() -> None:
    for path in (SAMPLE_IN, SAMPLE_OUT, *sorted(DATA.glob("credit_lists*.clause"))):
        text = SourceFile.read(path).text
        _, messages = program_of(text, path.name)
        assert messages == []
        assert assert_same_meaning(text, path.name)


def test_the_golden_sample_of_every_list_construct() -> None:
    """Input written carelessly; the expected output is the canonical layout."""
    expected = SAMPLE_OUT.read_text(encoding="utf-8")
    assert format_text(SAMPLE_IN.read_text(encoding="utf-8")) == expected
    assert format_text(expected) == expected
    for construct in ("choice", "record", "table", "list of", "case", "otherwise", " or ",
                      "none", "when", "allocate", "pro rata", "in order", "present value of",
                      "actual/360", "compounded monthly", "simple", "where", "sum of [",
                      "number of [", "first of [", "greatest of [", "none of [", "[]"):
        assert construct in expected, construct


def test_the_sample_checks_and_compiles_to_the_same_module_after_formatting() -> None:
    source = SourceFile.read(SAMPLE_IN)
    before = api.analyse(source, [])
    after = api.analyse(SourceFile(source.name, format_text(source.text, source.name)), [])
    assert before.ok and after.ok, [str(d) for d in after.diagnostics]
    assert _without_excerpts(api.generate(after)) == _without_excerpts(api.generate(before))


def _without_excerpts(code: str) -> str:
    """A generated module without positions and the excerpts of the source it quotes."""
    from test_formatter import _normalised

    code = re.sub(r'"""(?:.|\n)*?"""', '""', _normalised(code))
    return re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", code)


# ------------------------------------------------------------------ tables


def test_the_columns_of_a_table_are_aligned() -> None:
    text = """
table step_down "Leverage Step-Down" {
| ending: date | maximum: decimal |
  |2024-03-31|4.50|
| 2024-12-31 | -4.25 |   # after the first year
   | 2025-12-31      |   4.00   |
}
"""
    assert fmt(text) == """table step_down "Leverage Step-Down" {
  | ending: date | maximum: decimal |
  | 2024-03-31   | 4.50             |
  | 2024-12-31   | -4.25            |   # after the first year
  | 2025-12-31   | 4.00             |
}
"""


def test_a_wide_cell_widens_its_column_in_every_row() -> None:
    text = """
choice loan_type = [term_benchmark, base_rate]
table grid {
  | kind: loan_type | rate "the Applicable Rate": percent | floor: money |
  | term_benchmark | 7.50% | $1,000,000 |
  # the base rate
  | base_rate | 6.50% | $0 |
}
"""
    out = fmt(text)
    rows = [line for line in out.splitlines() if line.startswith("  |")]
    assert len(rows) == 3
    bars = {tuple(m.start() for m in re.finditer(r"\|", row)) for row in rows}
    assert len(bars) == 1, rows  # every bar at the same column in every row
    assert rows[1] == "  | term_benchmark  | 7.50%                               | $1,000,000   |"
    assert "  # the base rate" in out.splitlines()


def test_a_comment_inside_a_row_goes_to_the_end_of_the_row() -> None:
    text = "table t {\n  | a: integer | b: integer |\n  | 1 |  # one\n  2 |\n}\n"
    out = fmt(text)
    assert out == "table t {\n  | a: integer | b: integer |\n  | 1          | 2          |  # one\n}\n"


# ------------------------------------------------------- choices and records


def test_a_choice_is_one_line_when_it_fits_and_one_member_per_line_otherwise() -> None:
    assert fmt('choice tier"Tier"=[ low "Low" ,mid,high , ]\n') == (
        'choice tier "Tier" = [low "Low", mid, high]\n')
    text = "choice status = [\n  active,   # still outstanding\n  repaid\n]\n"
    assert fmt(text) == "choice status = [\n  active,   # still outstanding\n  repaid,\n]\n"
    long = ", ".join(f'member_{i} "Member Number {i}"' for i in range(5))
    out = fmt(f"choice c = [{long}]\n")
    assert out.splitlines()[0] == "choice c = ["
    assert out.splitlines()[1] == '  member_0 "Member Number 0",'
    assert out.splitlines()[-1] == "]"


def test_a_record_has_one_field_per_line() -> None:
    text = 'record lender "Term Lender" { name: text principal "outstanding Term Loans" : money\n' \
           "  declined:bool }\n"
    assert fmt(text) == """record lender "Term Lender" {
  name: text
  principal "outstanding Term Loans": money
  declined: bool
}
"""


def test_list_types_and_a_facts_where() -> None:
    text = """
record lender { principal: money }
fact lenders: list   of
  lender
fact balance: money where  balance >= $0
fact ratio: decimal
   where ratio >= 0 and ratio <= 10
define total(ls: list of lender): money = sum of [l.principal for each l in ls]
"""
    assert fmt(text) == """record lender {
  principal: money
}
fact lenders: list of lender
fact balance: money where balance >= $0
fact ratio: decimal
    where ratio >= 0 and ratio <= 10
define total(ls: list of lender): money = sum of [l.principal for each l in ls]
"""


# ------------------------------------------------------------------- lists


def test_records_a_test_gives_a_fact() -> None:
    text = """
test "t" {
  given { lenders = [ {name: "A", principal: $5,declined:false} ] }
  given {
    one = { name: "C" , principal: $1 }
    lenders = [{name: "A", principal: $600, declined: false}, {name: "B", principal: $400, declined: true}]
  }
}
"""
    assert fmt(text) == """test "t" {
  given { lenders = [{name: "A", principal: $5, declined: false}] }
  given {
    one = {name: "C", principal: $1}
    lenders = [
      {name: "A", principal: $600, declined: false},
      {name: "B", principal: $400, declined: true},
    ]
  }
}
"""


def test_lists_written_out() -> None:
    assert fmt("define a = [ 1, 2 , 3, ]\ndefine b = [ ]\n") == (
        "define a = [1, 2, 3]\ndefine b = []\n")
    assert fmt("define a = [1,\n 2]\n") == "define a = [\n  1,\n  2,\n]\n"


def test_for_each_is_one_line_when_it_fits() -> None:
    text = ("define n = [ l.name  for  each l in lenders   when not l.declined ]\n"
            "define t = sum  of [ l.principal for each l in lenders ]\n"
            "define k = number of [l for each l in lenders when l.declined]\n"
            "define f = first of [l.name for each l in lenders]\n"
            "condition c = none of [l.declined for each l in lenders]\n")
    assert fmt(text) == (
        "define n = [l.name for each l in lenders when not l.declined]\n"
        "define t = sum of [l.principal for each l in lenders]\n"
        "define k = number of [l for each l in lenders when l.declined]\n"
        "define f = first of [l.name for each l in lenders]\n"
        "condition c = none of [l.declined for each l in lenders]\n")


def test_for_each_too_long_is_broken_before_for_and_when_under_the_value() -> None:
    long = "the_outstanding_principal_amount_of(l)"
    out = fmt(f"define t: money =\n  sum of [{long} for each l in the_lenders_of_record "
              f"when not l.declined and l.principal > $0]\n")
    assert out == f"""define t: money =
  sum of [{long}
          for each l in the_lenders_of_record
          when not l.declined and l.principal > $0]
"""


def test_for_each_broken_by_the_author_keeps_its_breaks() -> None:
    text = "define t = [l.principal\nfor each l in lenders\n    when l.declined]\n"
    assert fmt(text) == (
        "define t = [l.principal\n            for each l in lenders\n            when l.declined]\n")


# ---------------------------------------------------------- case, none, when


def test_case_is_one_line_when_it_fits_and_one_arm_per_line_otherwise() -> None:
    assert fmt("define r = case k of [ a : 1%;b or c:2% ; ]\n") == (
        "define r = case k of [a: 1%; b or c: 2%]\n")
    text = "define margin: percent =\n  case level of [\n    low: 0.5%,  # the floor\n" \
           "otherwise: 1%]\n"
    assert fmt(text) == ("define margin: percent =\n  case level of [\n"
                         "    low: 0.5%,  # the floor\n    otherwise: 1%,\n  ]\n")
    arms = ", ".join(f"member_number_{i}: {i}.25%" for i in range(6))
    out = fmt(f"define r = case the_kind_of_loan of [{arms}]\n")
    assert out.splitlines()[0] == "define r = case the_kind_of_loan of ["
    assert out.splitlines()[1] == "  member_number_0: 0.25%,"
    assert out.splitlines()[-1] == "]"
    assert all(len(line) <= formatter.MAX_WIDTH for line in out.splitlines())


def test_none_when_and_a_definitions_when() -> None:
    text = ("define nada: money = none\n"
            "define bonus: money = ( prepayment  when prepayment > $1,000 )\n"
            "define capped: money = prepayment   when prepayment <= $5,000,000\n")
    assert fmt(text) == ("define nada: money = none\n"
                         "define bonus: money = (prepayment when prepayment > $1,000)\n"
                         "define capped: money = prepayment when prepayment <= $5,000,000\n")


def test_a_long_when_value_puts_when_under_the_value() -> None:
    value = "the_amount_of_the_mandatory_prepayment_of_the_term_loans"
    out = fmt(f"define bonus: money = ({value} when {value} > $1,000,000)\n")
    assert out == (f"define bonus: money = ({value}\n"
                   f"                       when {value} > $1,000,000)\n")


# ------------------------------------------------ allocation and present value


def test_allocate_pro_rata_and_in_order() -> None:
    text = ("define s = allocate  prepayment pro\n  rata [l.principal for each l in lenders]\n"
            "define o = allocate prepayment in   order [i.amount for each i in installments]\n"
            "define w = allocate prepayment pro rata [1, 2, 3]\n")
    assert fmt(text) == (
        "define s = allocate prepayment pro rata [l.principal for each l in lenders]\n"
        "define o = allocate prepayment in order [i.amount for each i in installments]\n"
        "define w = allocate prepayment pro rata [1, 2, 3]\n")


def test_present_value() -> None:
    text = ("define pv: money = present  value of [ i.amount on i.due for each i in "
            "installments ] at 5% actual/360 compounded  monthly on 2024-06-30\n")
    assert fmt(text) == (
        "define pv: money = present value of [i.amount on i.due for each i in installments]\n"
        "  at 5% actual/360 compounded monthly on 2024-06-30\n")
    short = "define pv = present value of [a on d for each i in xs] at 5% simple on d\n"
    assert fmt(short) == short


def test_present_value_too_long_is_broken_before_for_when_and_at() -> None:
    text = ("define pv: money = present value of [i.amount on i.due for each i in installments "
            "when i.due > 2024-06-30] at 5% 30/360 compounded semiannually on 2024-06-30\n")
    assert fmt(text) == """define pv: money = present value of [i.amount on i.due
                                     for each i in installments
                                     when i.due > 2024-06-30]
  at 5% 30/360 compounded semiannually on 2024-06-30
"""


# ------------------------------------------------------- random layouts of them

DECLARATIONS = [
    'choice loan_type "Type of Loan" = [term_benchmark "Term Benchmark Loan", base_rate]',
    "choice tier = [low, mid, high,]",
    'record lender "Lender" { name: text principal "principal": money declined: bool }',
    "record installment { due: date amount: money }",
    ("table step_down \"Step-Down\" { | ending: date | maximum: decimal | "
     "| 2024-03-31 | 4.50 | | 2024-12-31 | -4.25 | }"),
    "table grid { | kind: loan_type | rate: percent | | term_benchmark | 7.5% | }",
    "fact loan_kind: loan_type",
    "fact level: tier default mid",
    "fact lenders: list of lender",
    "fact installments: list of installment",
    "fact prepayment: money where prepayment >= $0 and prepayment < $1000",
    "define rate: percent = case loan_kind of [term_benchmark: 7.5%; base_rate: 6.5%]",
    "define m: percent = case level of [low: 1%, mid or high: 2%, ]",
    "define n: percent = case level of [low: 1%, otherwise: 2%]",
    "define shares = allocate prepayment pro rata [l.principal for each l in lenders]",
    ("define paid = allocate prepayment in order [i.amount for each i in installments "
     "when i.due > 2024-01-01]"),
    "define declined: money = sum of [s.amount for each s in shares when s.item.declined]",
    "define k: integer = number of [l for each l in lenders when l.declined]",
    "define f: decimal = (first of [r.maximum for each r in step_down when r.ending > d])",
    "define names = [l.name for each l in lenders]",
    "define some = [1, 2, 3]",
    "define bonus: money = (prepayment when prepayment > $1)",
    "define capped: money = prepayment when prepayment < $5",
    "define nada: money = none",
    "condition all_in = all of [not l.declined for each l in lenders] or none of [true]",
    ("define pv: money = present value of [i.amount on i.due for each i in installments "
     "when i.due > d] at 5% actual/360 compounded quarterly on d"),
    ("define pv2: money = present value of [i.amount on i.due for each i in installments] "
     "at 5% simple on d"),
]
GIVEN = ('test "t" { given { lenders = [{name: "A", principal: $1, declined: true}, '
         '{name: "B", principal: $2, declined: false},] one = {name: "C"} } '
         "expect names = [1, 2] }")
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n", "\n\n", "\n\n\n    ", "\t",
                              " # note\n", "\n# note\n", "\n\n  # note\n\n  "])
_TOKEN = re.compile(r'"[^"]*"|\$\d+|\d+-\d+-\d+|(?:first|none|number|present value) of\b'
                    r"|actual/\d+|[<>=!]=|\d+\.\d+%?|[\w%]+|[^\s\w]")


@st.composite
def laid_out(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(st.sampled_from(DECLARATIONS), min_size=1, max_size=5))
    tokens = ["section", "1", "{", *[t for d in chosen for t in _TOKEN.findall(d)], "}",
              *_TOKEN.findall(GIVEN)]
    out = []
    for i, token in enumerate(tokens):
        out.append(token)
        out.append(draw(SEPARATORS).replace("note", f"note {i}"))
    return "".join(out)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(laid_out())
def test_random_layouts_of_list_constructs_keep_their_meaning(text: str) -> None:
    formatter._lark().parse(text)
    assert_same_meaning(text)
