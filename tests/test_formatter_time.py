"""`clausec fmt` on the constructs of contracts that run over time: period families,
series facts, recurring duties and powers, ranges, `for each` aggregates, fields, `is late
on`, standards of performance, `performed on` and the keys of series facts in tests.

The same guarantees as for every other construct (tests/test_formatter.py): the meaning,
comments and words are kept, and formatting twice changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_formatter import _normalised, assert_same_meaning

from clausec import api
from clausec.source import SourceFile
from clausec.tools import formatter
from clausec.tools.formatter import format_text

ROOT = Path(__file__).resolve().parents[1]
TIME_SEEDS = sorted([*(ROOT / "clauses" / "intricon_license").glob("*.clause"),
                     *(ROOT / "clauses" / "neon_distributor").glob("*.clause")])


def fmt(text: str) -> str:
    return assert_same_meaning(text.lstrip("\n"))


# ------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("path", TIME_SEEDS, ids=lambda p: p.name)
def test_time_seeds_keep_their_meaning_and_formatting_is_idempotent(path: Path) -> None:
    assert_same_meaning(SourceFile.read(path).text, path.name)


@pytest.mark.parametrize("folder", ["intricon_license", "neon_distributor"])
def test_time_seed_modules_are_the_same_after_formatting(folder: str) -> None:
    for agreement, amendments in api.group([ROOT / "clauses" / folder]):
        sources = [SourceFile.read(p) for p in [agreement, *amendments]]
        before = api.analyse(sources[0], sources[1:])
        formatted = [SourceFile(s.name, format_text(s.text, s.name)) for s in sources]
        after = api.analyse(formatted[0], formatted[1:])
        assert before.ok and after.ok
        assert _expressions(after) == _expressions(before)


def _expressions(analysis: object) -> str:
    """The generated module without the excerpts of the source it quotes (an exploded
    list is quoted as `[ a, b, ]`, and long excerpts are cut where the layout puts them)."""
    code = _normalised(api.generate(analysis))  # type: ignore[arg-type]
    code = re.sub(r'"""(?:.|\n)*?"""', '""', code)
    return re.sub(r"'(?:[^'\\\n]|\\.)*'", "''", code)


def test_formatted_time_seeds_have_no_space_inside_fields_keys_or_brackets() -> None:
    for path in TIME_SEEDS:
        out = format_text(SourceFile.read(path).text, path.name)
        code = re.sub(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', '""', out)
        assert not re.search(r"\w\) *\. +\w|\w \.\w", code), path
        assert "[ " not in code, path
        assert not re.search(r"^\s*\w+ \[", code, re.MULTILINE), path


# ------------------------------------------------------------------ layout rules


def test_field_of_a_recurring_duty_is_glued() -> None:
    assert fmt("define d: date = statement(q) . due\n") == "define d: date = statement(q).due\n"
    assert fmt("define d: date = earlier of [a, statement(q).due]\n") == (
        "define d: date = earlier of [a, statement(q).due]\n")


def test_a_series_fact_key_is_glued_to_its_name() -> None:
    text = """
test "t" {
  given { royalties [ "2009-Q1" ] = $1 }
  given { royalties[2008-12-31]=$2
    hours [ "2009-01"] = 3 }
}
"""
    assert fmt(text) == """test "t" {
  given { royalties["2009-Q1"] = $1 }
  given {
    royalties[2008-12-31] = $2
    hours["2009-01"] = 3
  }
}
"""


def test_each_aggregate_is_one_line_when_it_fits() -> None:
    assert fmt("define t: money = sum of [ fee(m)  for  each calendar  month m "
               "from start of q through end of q ]\n") == (
        "define t: money = sum of [fee(m) for each calendar month m from start of q "
        "through end of q]\n")


def test_each_aggregate_broken_puts_for_each_and_when_under_the_value() -> None:
    text = """
condition c =
  any of [
    any of [access_fee(q) is late on as_of
    for each royalty_quarter q from commencement_date through as_of
    when excess_payable_by(q) is before as_of],
  ]
"""
    assert fmt(text) == """condition c =
  any of [
    any of [access_fee(q) is late on as_of
            for each royalty_quarter q from commencement_date through as_of
            when excess_payable_by(q) is before as_of],
  ]
"""


def test_each_aggregate_too_long_is_broken_before_for_and_when() -> None:
    long = "a_rather_long_name_for_the_amount(x)"
    out = fmt(f"define t: money =\n  sum of [{long} for each royalty_quarter x in the 4 "
              f"ending with end of q when number of x is at least 2]\n")
    assert out == f"""define t: money =
  sum of [{long}
          for each royalty_quarter x in the 4 ending with end of q
          when number of x is at least 2]
"""


def test_a_duty_on_the_line_after_its_header_is_indented_like_a_body() -> None:
    text = """
section 4 {
obligation statement "the statement"
for each royalty_quarter q from commencement_date until term_ends:
intricon must provide "a statement" to dynamic_hearing
within 30 days after end of q
performed on statement_provided_on(q)
obligation fee: licensee must pay fee to licensor by due
}
"""
    assert fmt(text) == """section 4 {
  obligation statement "the statement"
      for each royalty_quarter q from commencement_date until term_ends:
    intricon must provide "a statement" to dynamic_hearing
      within 30 days after end of q
      performed on statement_provided_on(q)
  obligation fee: licensee must pay fee to licensor by due
}
"""


def test_then_of_a_power_is_deeper_than_its_holder() -> None:
    text = """
section 14 {
  power terminate_for_default "termination":
  either party may terminate when default_not_cured
  then licensee must pay "all sums due" to licensor
  power quota_termination for each contract_year y from agreement_date:
licensor may terminate within 6 months after end of y
      when quota_missed(y)
  power end: seller may terminate when waived
        then buyer must pay $100 to seller
}
"""
    assert fmt(text) == """section 14 {
  power terminate_for_default "termination":
    either party may terminate when default_not_cured
      then licensee must pay "all sums due" to licensor
  power quota_termination for each contract_year y from agreement_date:
    licensor may terminate within 6 months after end of y
      when quota_missed(y)
  power end: seller may terminate when waived
    then buyer must pay $100 to seller
}
"""


def test_periods_series_facts_types_and_standards() -> None:
    text = """
section 1 {
periods   royalty_quarter "royalty quarter"=calendar quarters from commencement_date
periods fiscal_year = fiscal   years beginning April 1
periods halves = fiscal half years beginning April
fact royalties : money per royalty_quarter optional "Royalties."
fact hours: decimal per calendar   half year
define monthly(m : calendar month): money = $1
obligation pay: licensee must pay x to licensor promptly , but in any event within 30 days after end of q
obligation report: licensee must report as soon as reasonably practicable and in any event by end of q
define d: date = first business day of next (previous royalty_quarter containing as_of) in nyse
define e: date = last business day of (calendar month containing start of first fiscal_year)
condition late = statement(q) is late on as_of and number of q is 2
}
"""
    assert fmt(text) == """section 1 {
  periods royalty_quarter "royalty quarter" = calendar quarters from commencement_date
  periods fiscal_year = fiscal years beginning April 1
  periods halves = fiscal half years beginning April
  fact royalties: money per royalty_quarter optional "Royalties."
  fact hours: decimal per calendar half year
  define monthly(m: calendar month): money = $1
  obligation pay: licensee must pay x to licensor promptly, but in any event within 30 days after end of q
  obligation report: licensee must report as soon as reasonably practicable and in any event by end of q
  define d: date = first business day of next (previous royalty_quarter containing as_of) in nyse
  define e: date = last business day of (calendar month containing start of first fiscal_year)
  condition late = statement(q) is late on as_of and number of q is 2
}
"""


def test_words_that_read_as_one_are_never_broken() -> None:
    text = """
section 1 {
  fact hours: decimal per calendar
  half year
  obligation pay for each
  royalty_quarter
  q from a
  until b: licensee must pay x to licensor promptly, but in
  any event by c
}
"""
    assert fmt(text) == """section 1 {
  fact hours: decimal per calendar half year
  obligation pay for each royalty_quarter q from a
      until b: licensee must pay x to licensor promptly, but in any event by c
}
"""


# ------------------------------------------------------- random layouts of them

DECLARATIONS = [
    'periods royalty_quarter "royalty quarter" = calendar quarters from start_date',
    "periods fiscal_year = fiscal years beginning April 1",
    "periods halves = contract half years from start_date + 1 month",
    'fact royalties "royalties": money per royalty_quarter optional "Royalties."',
    "fact hours: decimal per calendar half year",
    "define monthly(m: calendar month): money = $1",
    ("define total(q: royalty_quarter): money = sum of [monthly(m) for each calendar month m "
     "from start of q through end of q]"),
    ("define ttm(q: fiscal_year): money = sum of [fee(x) for each royalty_quarter x in the 4 "
     "ending with end of q when number of x is at least 2]"),
    "define due: date = statement(first royalty_quarter).due",
    ("define d: date = first business day of next (previous royalty_quarter containing as_of)"
     " in nyse"),
    "define e: date = last business day of (calendar month containing start of q)",
    ("condition c = any of [statement(q) is late on as_of for each royalty_quarter q from a "
     "through as_of]"),
    ('obligation statement "the statement" for each royalty_quarter q from a until b: '
     "licensee must provide x to licensor promptly, but in any event within 30 days after "
     "end of q performed on paid_on(q) when x is more than $0"),
    ("obligation report for each calendar year y from a: licensee must report as soon as "
     "reasonably practicable and in any event by end of y"),
    ("power audit for each contract_year y from a: licensor may audit within 6 months after "
     "end of y when y is after first contract_year then licensee must pay $1 to licensor"),
]
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n", "\n\n", "\n\n\n    ", "\t",
                              " # note\n", "\n# note\n", "\n\n  # note\n\n  "])
_TOKEN = re.compile(r'"[^"]*"|\$\d+|\d+-\d+-\d+|(?:start|end|number|(?:last|first) business day)'
                    r' of\b|[\w.%]+|[^\s\w]')


@st.composite
def laid_out(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(st.sampled_from(DECLARATIONS), min_size=1, max_size=4))
    tokens = ["section", "1", "{", *[t for d in chosen for t in _TOKEN.findall(d)], "}",
              "test", '"t"', "{", "given", "{", "royalties", "[", '"2009-Q1"', "]", "=", "$1",
              "}", "expect", "statement", "(", "2009-01-01", ")", ".", "due", "=",
              "2009-04-30", "}"]
    out = []
    for i, token in enumerate(tokens):
        out.append(token)
        out.append(draw(SEPARATORS).replace("note", f"note {i}"))
    return "".join(out)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(laid_out())
def test_random_layouts_of_time_constructs_keep_their_meaning(text: str) -> None:
    formatter._lark().parse(text)
    assert_same_meaning(text)


def test_a_keyword_of_several_words_has_one_space_between_its_words() -> None:
    assert fmt("define d: date = start  of q + 1 day\n") == "define d: date = start of q + 1 day\n"
    assert fmt("define d: date = last\tbusiness day  of q\n") == (
        "define d: date = last business day of q\n")


def test_an_agreement_calendar_and_a_term_as_in_force() -> None:
    text = """
agreement a "A" {
 calendar d "B" = nyse and target plus [ 2024-12-24 , 2025-01-02 ]
}
section 1 {
 define x: money = ( total(q)  as in force on end of q )
}
"""
    assert fmt(text) == """agreement a "A" {
  calendar d "B" = nyse and target plus [2024-12-24, 2025-01-02]
}
section 1 {
  define x: money = (total(q) as in force on end of q)
}
"""
