"""The English of contracts over many things (choices, records, tables and lists): case
expressions, `none` and `when`, lists and what is said of each item, aggregates, any/all/
none over a list, allocations and present values, and the declarations themselves, in
summaries of every format and in explanations.

The clause file tests/data/english_lists.clause exercises every construct; each value's
words are compared exactly, and a table is checked to be laid out as a table (rows of
cells) in Markdown, HTML and plain text.
"""

from __future__ import annotations

import html
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import html5lib
import pytest
from markdown_it import MarkdownIt

from clausec import api, ir
from clausec.backends.english import summaries as summarize
from clausec.backends.english import wording as english
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "tests" / "data" / "english_lists.clause"
FORMATS = ("markdown", "html", "text")
# Where the variable of a list goes while its words are built: never in the output.
MARKS = re.compile("[\ue001-\ue005]")


@pytest.fixture(scope="module")
def result() -> api.Result:
    analysed = api.analyse(SourceFile.read(LISTS))
    assert analysed.ok, "\n".join(d.render(analysed.sources) for d in analysed.diagnostics)
    return analysed


def words_of(result: api.Result, fmt: str = "text") -> dict[str, str]:
    """The English of every declaration, by name: a definition's value, a condition's
    proposition, any other declaration's sentence."""
    checked = result.versions[-1][1]
    en = summarize.english_module(summarize.environment(fmt), english.Lexicon(checked, fmt))
    out = {}
    for name, decl in checked.declarations.items():
        if isinstance(decl, ir.Definition):
            node = en.prop(decl.expr) if decl.is_condition else en.value(decl.expr)
        else:
            node = en.node(decl)
        out[name] = " ".join(str(node).split())
    return out


def sentence_of(result: api.Result, name: str, fmt: str = "text") -> str:
    checked = result.versions[-1][1]
    env = summarize.environment(fmt)
    en = summarize.english_module(env, english.Lexicon(checked, fmt))
    return str(env.filters["sentence"](en.node(checked.declarations[name])))


@pytest.fixture(scope="module")
def words(result: api.Result) -> dict[str, str]:
    return words_of(result)


# =============================================================================
# Choices: case, none, when
# =============================================================================


def test_a_case_reads_as_the_contract_words_it(words, result):
    assert words["applicable_rate"] == \
        "for Term Benchmark Loans, 7.50%; for Base Rate Loans, 6.50%"
    assert sentence_of(result, "applicable_rate") == \
        "“Applicable Rate” means, for Term Benchmark Loans, 7.50%; for Base Rate Loans, " \
        "6.50%."


def test_a_case_names_its_subject_when_its_choice_has_more_than_one(words):
    # two facts are borrowing types: which one the case is of must be said
    assert words["margin"] == \
        "depending on the Type of the Borrowing: for Eurodollar Borrowing, 2%; otherwise, 1%"
    assert words["conversion_fee"] == (
        "depending on the Type of the Conversion: for Eurodollar Borrowing or ABR Borrowing, "
        "$500.00; for Swingline Borrowing, no amount")
    assert words["eurodollar_borrowing"] == "the Type of the Borrowing is Eurodollar Borrowing"


def test_none_and_when(words, result):
    assert words["nada"] == "nothing"
    assert sentence_of(result, "nada") == "“Nil Amount” means no amount."
    assert words["bonus"] == "the prepayment, but only if the prepayment is more than $1,000.00"


def test_a_condition_by_case_reads_as_follows():
    source = textwrap.dedent("""\
        agreement t "T" { dated 2024-01-02 }
        choice kind = [big "Large Loans", small "Small Loans"]
        fact k "Kind of the Loan": kind
        fact amount "Amount": money
        condition ok "the Loan is eligible" = case k of [big: amount > $10, small: false]
        """)
    analysed = api.analyse(SourceFile("t.clause", source))
    assert analysed.ok
    assert sentence_of(analysed, "ok") == (
        "The Loan is eligible as follows: for Large Loans, the Amount is more than $10.00; "
        "for Small Loans, never.")


# =============================================================================
# Lists and aggregates
# =============================================================================


def test_a_list_reads_as_what_is_said_of_each_item(words):
    assert words["principals"] == "each Term Lender's outstanding Term Loans"
    assert words["large"] == ("the outstanding Term Loans of each Term Lender whose "
                              "outstanding Term Loans are more than $1,000,000.00")
    assert words["defaulting_lenders"] == "the Term Lenders that are Defaulting Lenders"
    assert words["written"] == "the list of the prepayment and $5.00"


def test_aggregates(words):
    assert words["declined_proceeds"] == (
        "the sum of the amount of the Prepayment Shares allocated to each Term Lender that "
        "has delivered a rejection notice")
    assert words["declining"] == \
        "the number of Term Lenders that have delivered a rejection notice"
    assert words["maximum_ratio"] == ("the maximum of the first row of the Leverage "
                                      "Step-Down whose ending is on or after the Test Date")
    assert words["lender_count"] == "the number of Term Lenders"
    assert words["first_lender"] == "the first Term Lender"
    assert words["lead_name"] == "the name of the Lead Lender"
    assert words["largest"] == ("the greatest of the outstanding Term Loans of each Term "
                                "Lender whose Type of its Loans is Base Rate Loans")
    assert words["grid_rate"] == \
        "the rate of the first row of the Rate Grid whose kind is Term Benchmark Loans"
    assert words["earliest_due"] == \
        "the earliest of the due of each Scheduled Payment whose amount is more than $0.00"
    assert words["first_row"] == "the first row of the Rate Grid"
    assert words["row_count"] == "the number of rows of the Rate Grid"
    assert words["first_share"] == "the first share of the Prepayment Shares"
    assert words["first_written"] == "$1.00"
    assert words["count_written"] == \
        "the number of amounts in the list of $1.00 and the prepayment"


def test_what_follows_an_item_keeps_its_clause_apart(words):
    # "times 2" must not seem to belong to the relative clause
    assert words["twice"] == ("the sum of the Term Lender's outstanding Term Loans times 2 "
                              "for each Term Lender that is not a Defaulting Lender")
    assert words["nested"] == (
        "the sum of (the sum of the amount of each Scheduled Payment whose due is on or "
        "before the Test Date) for each Term Lender")
    assert words["by_type"] == (
        "the sum of (depending on each Term Lender's Type of its Loans: for Term Benchmark "
        "Loans, the Term Lender's outstanding Term Loans; for Base Rate Loans, $0.00)")


def test_any_all_and_none_of_a_list(words, result):
    assert words["all_declined"] == "every Term Lender has delivered a rejection notice"
    assert words["some_default"] == "at least one Term Lender is a Defaulting Lender"
    assert words["none_default"] == ("no Term Lender whose outstanding Term Loans are more "
                                     "than $0.00 is a Defaulting Lender")
    assert words["any_declined"] == \
        "whether at least one Term Lender has delivered a rejection notice"
    assert words["all_flags"] == "every condition in “flags” is true"
    # a compound condition of each item is not cut in two
    assert words["none_active"] == (
        "whether for every Term Lender whose outstanding Term Loans are more than $0.00, "
        "either the Term Lender is not a Defaulting Lender or the Term Lender has not "
        "delivered a rejection notice")
    checked = result.versions[-1][1]
    en = summarize.english_module(summarize.environment("text"),
                                  english.Lexicon(checked, "text"))
    said = " ".join(str(en.prop(checked.declarations["all_declined"].expr, False)).split())
    assert said == "not every Term Lender has delivered a rejection notice"
    said = " ".join(str(en.prop(checked.declarations["none_default"].expr, False)).split())
    assert said == ("at least one Term Lender whose outstanding Term Loans are more than "
                    "$0.00 is a Defaulting Lender")


# =============================================================================
# Allocations and present values
# =============================================================================


def test_allocations(words):
    assert words["shares"] == (
        "the prepayment, applied pro rata to the Term Lenders according to their outstanding "
        "Term Loans (in whole cents, any cent left over going to the largest remainders)")
    assert words["accepted"] == (
        "the prepayment, applied pro rata to the Term Lenders that have not delivered a "
        "rejection notice according to their outstanding Term Loans (in whole cents, any "
        "cent left over going to the largest remainders)")
    assert words["waterfall"] == (
        "the prepayment, applied in order to the Installments that have not been paid, "
        "each up to its amount (what is left after the last is not allocated)")
    assert words["capped"] == ("the prepayment, applied in order up to $100.00, then up to "
                               "$200.00 (what is left after the last is not allocated)")
    assert words["even"] == ("the prepayment, applied pro rata in the proportions 1 and 2 "
                             "(in whole cents, any cent left over going to the largest "
                             "remainders)")
    assert words["to_caps"] == ("the prepayment, applied in order up to each of “caps” in "
                                "turn (what is left after the last is not allocated)")


def test_present_values(words):
    assert words["make_whole"] == (
        "the present value on the Test Date of the amount of each Installment that has not "
        "been paid, payable on the Installment's due date, discounted at 5% (actual/360, "
        "compounded annually) and rounded to the cent")
    assert words["continuous"].endswith("discounted at 4.5% (actual/365, compounded "
                                        "continuously) and rounded to the cent")
    assert words["simple"].endswith("(30/360, simple interest) and rounded to the cent")


# =============================================================================
# Declarations and facts
# =============================================================================


def test_choices_and_records_as_declared(words):
    assert words["loan_type"] == "“Type of Loan”: either Term Benchmark Loans or Base Rate Loans"
    assert words["borrowing_type"] == \
        "“borrowing type”: one of Eurodollar Borrowing, ABR Borrowing or Swingline Borrowing"
    assert words["installment"] == ("each “Installment” has: due date (a date); amount (an "
                                    "amount of money); and has been paid (yes or no)")
    assert words["payment"] == "each “payment” has: amount (an amount of money) and due (a date)"


def test_a_table_in_words(words):
    assert words["step_down"] == (
        "“Leverage Step-Down” is a table of ending (a date) and maximum (a number), with the "
        "rows: (1) March 31, 2024 and 4.50; (2) December 31, 2024 and 4.25; (3) December "
        "31, 2025 and 4.00")


def test_facts_of_lists_records_and_choices_and_their_constraints(words):
    assert words["lenders"] == (
        "“Term Lenders”: a list of Term Lenders, each with: name (a text); outstanding Term "
        "Loans (principal: an amount of money); delivered a rejection notice (declined: yes "
        "or no); is a Defaulting Lender (defaulting: yes or no); Type of its Loans (loan: "
        "one of Term Benchmark Loans (term_benchmark) or Base Rate Loans (base_rate)).")
    assert words["loan_kind"] == ("“Type of the Loan”: one of Term Benchmark Loans "
                                  "(term_benchmark) or Base Rate Loans (base_rate).")
    assert words["converted_to"].endswith("Swingline Borrowing (swingline), which may not be "
                                          "given.")
    assert words["prepayment"] == "“prepayment”: an amount of money, which cannot be negative."
    assert words["cap"] == "“Cap”: a percentage, which must be at most 100%."
    assert words["floor"] == ("“Floor”: an amount of money, provided that the Floor is more "
                              "than $0.00 and the Floor is less than $1,000,000.00.")
    assert words["flags"] == "“flags”: a list of conditions."


def test_names_show_as_code_in_markdown(result):
    markdown = words_of(result, "markdown")
    assert "outstanding Term Loans (`principal`: an amount of money)" in markdown["lenders"]
    assert "Term Benchmark Loans (`term_benchmark`)" in markdown["loan_kind"]


# =============================================================================
# Summaries: the table laid out, nothing left of the marks
# =============================================================================


ROWS = [["March 31, 2024", "4.50"], ["December 31, 2024", "4.25"],
        ["December 31, 2025", "4.00"]]


def test_the_summaries_lay_a_table_out_as_a_table(result):
    markdown = summarize.render(result, "markdown")
    assert "- “Leverage Step-Down” is the following table:\n\n  | Ending | Maximum |\n" \
        "  |---|---|\n  | March 31, 2024 | 4.50 |\n  | December 31, 2024 | 4.25 |\n" \
        "  | December 31, 2025 | 4.00 |\n" in markdown
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert table_rows(rendered, "Ending") == [["Ending", "Maximum"], *ROWS]
    page = summarize.render(result, "html")
    assert table_rows(page, "Ending") == [["Ending", "Maximum"], *ROWS]
    assert table_rows(page, "Kind") == [["Kind", "Rate", "Floor Amount"],
                                        ["Term Benchmark Loans", "7.50%", "$1,000,000.00"],
                                        ["Base Rate Loans", "6.50%", "$0.00"]]
    text = summarize.render(result, "text")
    assert ("  - “Leverage Step-Down” is the following table:\n\n"
            "      Ending             Maximum\n"
            "      -----------------  -------\n"
            "      March 31, 2024        4.50\n"
            "      December 31, 2024     4.25\n"
            "      December 31, 2025     4.00\n") in text
    assert "      Kind                   Rate   Floor Amount\n" in text
    assert "      Base Rate Loans       6.50%          $0.00\n" in text


def table_rows(page: str, first_heading: str) -> list[list[str]]:
    """The rows (heading first) of the table whose first heading is `first_heading`."""
    document = html5lib.parse(page, namespaceHTMLElements=False)
    for table in document.iter("table"):
        rows = [["".join(cell.itertext()).strip() for cell in row]
                for row in table.iter("tr")]
        if rows and rows[0][:1] == [first_heading]:
            return rows
    raise AssertionError(f"no table headed {first_heading!r}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_summaries_say_everything_and_leave_no_marks(result, fmt):
    out = summarize.render(result, fmt)
    assert not MARKS.search(out)
    plain = html.unescape(out) if fmt == "html" else out.replace("\\", "")
    plain = " ".join(plain.split())
    for said in ("for Term Benchmark Loans, 7.50%; for Base Rate Loans, 6.50%",
                 "each Term Lender's outstanding Term Loans",
                 "a list of Term Lenders, each with:",
                 "which cannot be negative",
                 "the number of Term Lenders that have delivered a rejection notice"):
        assert said in plain, said


def test_a_changed_table_reads_in_words_in_an_amendment(tmp_path):
    (tmp_path / "gen.clause").write_text(textwrap.dedent("""\
        agreement gen "Credit Agreement" { dated 2024-01-02 }
        section 6.12 "Covenant" {
          table step_down "Leverage Step-Down" {
            | ending: date | maximum: decimal |
            | 2024-03-31   | 4.50             |
          }
        }
        """), encoding="utf-8")
    (tmp_path / "first.clause").write_text(textwrap.dedent("""\
        amendment first "First Amendment" amends gen { dated 2024-06-01 }
        replace section 6.12 "Covenant" {
          table step_down "Leverage Step-Down" {
            | ending: date | maximum: decimal |
            | 2024-03-31   | 4.75             |
          }
        }
        """), encoding="utf-8")
    ((agreement, amendments),) = api.group([tmp_path])
    analysed = api.analyse(SourceFile.read(agreement),
                           [SourceFile.read(a) for a in amendments])
    assert analysed.ok
    text = " ".join(summarize.render(analysed, "text").split())
    assert ("before: “Leverage Step-Down” is a table of ending (a date) and maximum (a "
            "number), with the rows: (1) March 31, 2024 and 4.50.") in text
    assert "after: “Leverage Step-Down” is a table of ending (a date) and maximum (a " \
        "number), with the rows: (1) March 31, 2024 and 4.75." in text


# =============================================================================
# No injection through the words of choices, records and tables
# =============================================================================

HOSTILE = ['<script>alert(1)</script>', '| a | b |', '*em* _x_ `c`', '<img src=x onerror=1>',
           '[l](javascript:alert(1))', '&lt;b&gt;', '# heading']


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hostile_agreement() -> str:
    h = HOSTILE
    return textwrap.dedent(f"""\
        agreement gen "Gen" {{ dated 2024-01-02 }}
        section 1 {{
          choice kind {q(h[0])} = [big {q(h[1])}, small {q(h[2])}]
          record item {q(h[3])} {{
            label {q(h[4])}: text
            size {q(h[5])}: money
            ok {q(h[6])}: bool
            sort: kind
          }}
          fact items {q(h[0])}: list of item
          fact k {q(h[1])}: kind
          table grid {q(h[2])} {{
            | sort {q(h[3])}: kind | note {q(h[4])}: text | cap: money |
            | big                  | {q(h[0])}            | $1         |
            | small                | {q(h[1])}            | $2         |
          }}
          define rate {q(h[5])}: money = case k of [big: $1, small: none]
          define total {q(h[6])}: money = sum of [i.size for each i in items when i.ok]
          define shares = allocate total pro rata [i.size for each i in items when i.sort is big]
          define first_cap: money = first of [g.cap for each g in grid when g.note is {q(h[2])}]
        }}
        """)


def test_no_injection_through_choices_records_and_tables():
    analysed = api.analyse(SourceFile("gen.clause", hostile_agreement()))
    assert analysed.ok, "\n".join(d.render(analysed.sources) for d in analysed.diagnostics)
    markdown = summarize.render(analysed, "markdown")
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for token in md.parse(markdown):
        assert token.type != "html_block"
        for child in token.children or []:
            assert child.type != "html_inline", child.content
    rendered = md.render(markdown)
    assert not re.search(r"<(script|img)\b", rendered, re.IGNORECASE)
    for element in html5lib.parse(rendered, namespaceHTMLElements=False).iter():
        assert not element.attrib or set(element.attrib) == {"href"}, element.attrib
    # the tables' cells stay cells: no `|` of the user's splits one
    width = None
    for line in markdown.split("\n"):
        if not line.lstrip().startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line)) - 1
        width = cells if width is None else width
        assert cells == width, line
    page = summarize.render(analysed, "html")
    for element in html5lib.parse(page, namespaceHTMLElements=False).iter():
        assert element.tag not in ("script", "img", "a") or element.get("href", "#")[0] == "#"
        assert not {"onerror", "src", "data-user"} & set(element.attrib)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert table_rows(page, html.unescape("&lt;img src=x onerror=1&gt;"))[1:] == [
        ["| a | b |", "“<script>alert(1)</script>”", "$1.00"],
        ["*em* _x_ `c`", "“| a | b |”", "$2.00"]]
    text = summarize.render(analysed, "text")
    assert not english._CONTROL.search(text) and not MARKS.search(text + markdown + page)


# =============================================================================
# Explanations
# =============================================================================


def test_explanations_give_lists_in_the_contracts_words(result):
    module = api.module_from_source(api.generate(result), "english_lists.clause")
    facts = module.Facts(
        loan_kind="base_rate", borrowing="abr", prepayment="100000.01",
        test_date="2024-06-30", cap="5%", floor="10", payments=[], caps=[], flags=[],
        lenders=[{"name": "A", "principal": "1000000", "declined": False,
                  "defaulting": False, "loan": "base_rate"},
                 {"name": "B", "principal": "2500000", "declined": True,
                  "defaulting": True, "loan": "term_benchmark"}],
        installments=[{"due": "2024-09-30", "amount": "50000", "paid": False}])
    version = module.VERSIONS[-1]
    checked = result.versions[-1][1]

    def explained(name: str) -> str:
        value = version.evaluate(name, facts)
        tree = version.explain(name, facts)
        return " ".join(summarize.render_explanation(checked, version.label, name, tree,
                                                     value).split())

    assert version.evaluate("applicable_rate", facts) == Decimal("0.065")
    assert explained("applicable_rate") == (
        "The Applicable Rate is 6.5% (Section 1.01): it is, for Term Benchmark Loans, "
        "7.50%; for Base Rate Loans, 6.50%.")
    assert explained("shares").startswith(
        "The Prepayment Shares are [A: $28,571.43; B: $71,428.58] (Section 2.11): they are "
        "the prepayment, applied pro rata to the Term Lenders according to their")
    assert explained("declined_proceeds").startswith(
        "The Declined Proceeds are $71,428.58 (Section 2.11): they are the sum of")
    assert explained("lead_name") == \
        "The Lead Name is A (Section 2.11): it is the name of the Lead Lender (A)."
    assert explained("eurodollar_borrowing") == (
        "The Borrowing is not a Eurodollar Borrowing (Section 1.01) because the Type of the "
        "Borrowing (ABR Borrowing) is not Eurodollar Borrowing.")
