"""The English of contracts that run over time (docs/time.md): periods and their families,
series facts, aggregates over periods, recurring obligations and powers, standards of
performance, the fields of an obligation and lateness, in summaries of every format.

Each construct is compiled from a small clause file and its words compared exactly; the
encoded contracts that use them (clauses/intricon_license, clauses/neon_distributor) are
summarised by the command line in Markdown and HTML.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import html5lib
import pytest

from clausec import api
from clausec.backends.english import summaries as summarize
from clausec.backends.english import wording as english
from clausec.cli import main
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
INTRICON = ROOT / "clauses" / "intricon_license"
NEON = ROOT / "clauses" / "neon_distributor"

AGREEMENT = textwrap.dedent("""
    agreement t "Royalty Agreement" {
      dated October 1, 2008
      party licensee "Licensee": "Licensee Inc."
      party licensor "Licensor": "Licensor Ltd."
    }
    define commencement_date "Commencement Date": date = October 1, 2008
    periods royalty_quarter "royalty quarter" = calendar quarters from commencement_date
    periods fiscal_year "fiscal year" = fiscal years beginning April 1
    periods fiscal_quarter "fiscal quarter" = fiscal quarters beginning April 1
    periods payment_year "payment year" = contract years from commencement_date
    periods plain_quarter = calendar quarters
    fact as_of "the date of the determination": date optional
    fact royalties "per unit royalties": money per royalty_quarter
    fact royalties_paid_on "the date the royalties were paid": date per royalty_quarter optional
    fact ebitda "EBITDA": money per fiscal_quarter default $0
    fact notice_on "the notice of termination": date optional
    fact units "units sold": integer per calendar quarter
    fact term_end "the end of the term": date
    """)


def checked_program(source: str):
    result = api.analyse(SourceFile("t.clause", source))
    assert result.ok, "\n".join(d.render(result.sources) for d in result.diagnostics)
    return result, result.versions[-1][1]


def english_of(body: str, fmt: str = "text") -> dict[str, str]:
    """The English of every declaration of section 1 (`body`), by name: a definition's
    value, a condition's proposition, and an obligation's or power's sentence."""
    source = AGREEMENT + "section 1 {\n" + textwrap.indent(textwrap.dedent(body), "  ") + "\n}\n"
    _, checked = checked_program(source)
    words = summarize.english_module(summarize.environment(fmt),
                                     english.Lexicon(checked, fmt))
    out = {}
    for name, decl in checked.declarations.items():
        if decl.section != "1":
            continue
        if getattr(decl, "is_condition", False):
            node = words.prop(decl.expr)
        elif hasattr(decl, "is_condition"):
            node = words.value(decl.expr)
        else:
            node = words.node(decl)
        out[name] = " ".join(str(node).split())
    return out


def summary_text(body: str, fmt: str = "text") -> str:
    source = AGREEMENT + "section 1 {\n" + textwrap.indent(textwrap.dedent(body), "  ") + "\n}\n"
    result, _ = checked_program(source)
    return " ".join(summarize.render(result, fmt).split())


# =============================================================================
# Periods
# =============================================================================


@pytest.mark.parametrize(("expr", "words"), [
    ("royalty_quarter containing as_of",
     "the royalty quarter containing the date of the determination"),
    ("royalty_quarter containing (30 days after as_of)",
     "the royalty quarter containing (30 days after the date of the determination)"),
    ("first royalty_quarter", "the first royalty quarter"),
    ("next first royalty_quarter", "the royalty quarter after the first royalty quarter"),
    ("previous (royalty_quarter containing as_of)",
     ("the royalty quarter before the royalty quarter containing the date of the "
     "determination")),
    ("calendar quarter containing as_of", ("the calendar quarter containing the date of the "
     "determination")),
    ("fiscal_year containing April 1, 1999", "the fiscal year containing April 1, 1999"),
])
def test_periods_in_words(expr, words):
    assert english_of(f"define p: period = {expr}".replace(
        ": period", ": " + _family_type(expr)))["p"] == words


def _family_type(expr: str) -> str:
    for family in ("royalty_quarter", "fiscal_year", "calendar quarter"):
        if family in expr:
            return family
    raise AssertionError(expr)


@pytest.mark.parametrize(("expr", "kind", "words"), [
    ("start of first royalty_quarter", "date", "the first day of the first royalty quarter"),
    ("end of first royalty_quarter", "date", "the last day of the first royalty quarter"),
    ("number of (payment_year containing as_of)", "integer",
     "the number of the payment year containing the date of the determination"),
    ("last business day of (fiscal_quarter containing as_of)", "date",
     "the last business day of the fiscal quarter containing the date of the determination"),
    ("first business day of (calendar quarter containing as_of) in new_york_banks", "date",
     ("the first business day of the calendar quarter containing the date of the "
     "determination in the New York banks' calendar")),
    ("30 days after end of (royalty_quarter containing as_of)", "date",
     ("30 days after the last day of the royalty quarter containing the date of the "
     "determination")),
])
def test_days_and_numbers_of_periods(expr, kind, words):
    assert english_of(f"define p: {kind} = {expr}")["p"] == words


def test_a_period_parameter_is_named_by_its_family_and_its_letter():
    words = english_of("""
        define installment(q: royalty_quarter) "the installment": money =
          if q is after first royalty_quarter then royalties(previous q) else $0
        condition early(q: royalty_quarter) "the quarter is early" =
          q is on or before next first royalty_quarter
        """)
    assert words["installment"] == ("if q is after the first royalty quarter, the per unit "
                                    "royalties for the royalty quarter before q; otherwise, "
                                    "$0.00")
    assert words["early"] == ("q is on or before the royalty quarter after the first royalty "
                              "quarter")
    text = summary_text("""
        define installment(q: royalty_quarter) "the installment": money = royalties(q)
        """)
    assert "“the installment” for a royalty quarter q means the per unit royalties for q." \
        in text


def test_period_families_in_the_summary():
    text = summary_text("define x: integer = 1\n")
    for sentence in (
            ("Royalty quarters: calendar quarters, the first from the Commencement Date to the "
            "end of the calendar quarter containing it."),
            "Fiscal years: fiscal years beginning April 1.",
            "Fiscal quarters: the quarters of fiscal years beginning April 1.",
            "Payment years: contract years, the first beginning on the Commencement Date.",
            "Plain quarters: calendar quarters."):
        assert sentence in text, sentence
    overview = text.split("Sections ========")[0]
    assert "Periods: - Royalty quarters: calendar quarters" in overview


def test_half_years_and_months_of_a_fiscal_year():
    source = AGREEMENT + textwrap.dedent("""
        periods fiscal_half "fiscal half-year" = fiscal half years beginning July 1
        periods contract_month "month of the term" = contract months from commencement_date
        """)
    result, _ = checked_program(source)
    text = " ".join(summarize.render(result, "text").split())
    assert "Fiscal half-years: the half-years of fiscal years beginning July 1." in text
    assert ("Months of the term: contract months, the first beginning on the Commencement "
            "Date.") in text


def test_plurals_of_family_names():
    assert english.plural_of("royalty quarter") == "royalty quarters"
    assert english.plural_of("year of the term") == "years of the term"
    assert english.plural_of("calendar half-year") == "calendar half-years"
    assert english.plural_of("payment day") == "payment days"


# =============================================================================
# Series facts
# =============================================================================


def test_series_facts_in_the_facts_list():
    text = summary_text("define x: integer = 1\n")
    assert "“per unit royalties”: an amount of money, one value per royalty quarter." in text
    assert ("“the date the royalties were paid”: a date, one value per royalty quarter, "
            "which may not be given.") in text
    assert "“EBITDA”: an amount of money, one value per fiscal quarter, $0.00 unless given." \
        in text
    assert "“units sold”: a whole number, one value per calendar quarter." in text


def test_whether_a_series_value_is_given():
    words = english_of("""
        condition paid(q: royalty_quarter) "paid" = royalties_paid_on(q) is given
        condition unpaid(q: royalty_quarter) "unpaid" = royalties_paid_on(q) is not given
        condition known(q: royalty_quarter) "known" = royalties(q) is given
        condition late(q: royalty_quarter) "late" = royalties_paid_on(q) is after end of q
        """)
    assert words["paid"] == "the date the royalties were paid for q is known"
    assert words["unpaid"] == "the date the royalties were paid for q is not known"
    assert words["known"] == "the per unit royalties for q are given"
    assert words["late"] == "the date the royalties were paid for q is after the last day of q"


def test_a_series_date_fact_without_a_date_in_its_term_reads_as_a_date():
    source = AGREEMENT + textwrap.dedent("""
        fact delivered "delivery of the report": date per royalty_quarter optional
        section 1 {
          condition on_time(q: royalty_quarter) "on time" =
            delivered(q) is on or before 30 days after end of q
        }
        """)
    _, checked = checked_program(source)
    words = summarize.english_module(summarize.environment("text"),
                                     english.Lexicon(checked, "text"))
    assert " ".join(str(words.prop(checked.declarations["on_time"].expr)).split()) == (
        "the date of the delivery of the report for q is on or before 30 days after the last "
        "day of q")


# =============================================================================
# Aggregates over periods
# =============================================================================


@pytest.mark.parametrize(("expr", "kind", "words"), [
    ("sum of [royalties(q) for each royalty_quarter q from commencement_date through as_of]",
     "money",
     ("the sum of the per unit royalties for q over each royalty quarter q from the "
     "Commencement Date through the date of the determination")),
    (("sum of [royalties(q) for each royalty_quarter q from commencement_date until as_of "
     "when royalties(q) is more than $10]"),
     "money",
     ("the sum of the per unit royalties for q over each royalty quarter q from the "
     "Commencement Date until the date of the determination for which the per unit "
     "royalties for q is more than $10.00")),
    ("sum of [ebitda(p) for each fiscal_quarter p in the 4 ending with as_of]", "money",
     ("the sum of the EBITDA for p over each fiscal quarter p among the four ending with the "
     "date of the determination")),
    (("greatest of [units(c) for each calendar quarter c from commencement_date through "
     "as_of]"), "integer",
     ("the greatest of the units sold for c over each calendar quarter c from the "
     "Commencement Date through the date of the determination")),
    (("(sum of [units(c) for each calendar quarter c from commencement_date through as_of]) "
     "+ 1"), "integer",
     ("(the sum of the units sold for c over each calendar quarter c from the Commencement "
     "Date through the date of the determination) plus 1")),
])
def test_aggregates_over_periods(expr, kind, words):
    assert english_of(f"define a: {kind} = {expr}")["a"] == words


@pytest.mark.parametrize(("expr", "words"), [
    (("any of [royalties(q) is more than $0 for each royalty_quarter q from commencement_date "
     "through as_of]"),
     ("for at least one royalty quarter q from the Commencement Date through the date of the "
     "determination, the per unit royalties for q is more than $0.00")),
    (("all of [royalties(q) is more than $0 for each royalty_quarter q from commencement_date "
     "through as_of]"),
     ("for every royalty quarter q from the Commencement Date through the date of the "
     "determination, the per unit royalties for q is more than $0.00")),
    (("none of [royalties(q) is more than $0 for each royalty_quarter q from commencement_date "
     "through as_of]"),
     ("for every royalty quarter q from the Commencement Date through the date of the "
     "determination, the per unit royalties for q is at most $0.00")),
    (("not any of [royalties(q) is more than $0 for each royalty_quarter q from "
     "commencement_date through as_of]"),
     ("for every royalty quarter q from the Commencement Date through the date of the "
     "determination, the per unit royalties for q is at most $0.00")),
    (("all of [royalties(q) is given for each royalty_quarter q from commencement_date "
     "through as_of when q is after first royalty_quarter]"),
     ("for every royalty quarter q from the Commencement Date through the date of the "
     "determination for which q is after the first royalty quarter, the per unit royalties "
     "for q are given")),
    (("notice_on is given and any of [royalties(q) is more than $0 for each royalty_quarter q "
     "from commencement_date through as_of]"),
     ("all of the following hold: (a) the notice of termination has occurred; and (b) for at "
     "least one royalty quarter q from the Commencement Date through the date of the "
     "determination, the per unit royalties for q is more than $0.00")),
])
def test_propositions_over_periods(expr, words):
    assert english_of(f"condition c = {expr}")["c"] == words


# =============================================================================
# Recurring obligations and powers, standards, performance
# =============================================================================


def test_a_recurring_obligation():
    words = english_of("""
        obligation royalty_payment "the royalty payment"
            for each royalty_quarter q from commencement_date until term_end:
          licensee must pay royalties(q) to licensor within 30 days after end of q
            performed on royalties_paid_on(q) when royalties(q) is more than $0
        """)
    assert words["royalty_payment"] == (
        "for each royalty quarter q from the Commencement Date until the date of the end of "
        "the term, Licensee must pay to Licensor the per unit royalties for q within 30 days after the "
        "last day of q (performed on the date the royalties were paid for q), if the per unit "
        "royalties for q is more than $0.00")


def test_an_open_recurrence_and_a_recurrence_ending_with_a_period():
    words = english_of("""
        obligation report "the report" for each fiscal_quarter q from April 1, 1999:
          licensee must deliver "a report" to licensor by start of q
        obligation lookback "the look-back"
            for each royalty_quarter q in the 4 ending with as_of:
          licensee must deliver "a statement" to licensor by end of q
        """)
    assert words["report"] == ("for each fiscal quarter q from April 1, 1999 onward, Licensee "
                               "must deliver to Licensor a report by the first day of q")
    assert words["lookback"] == ("for each royalty quarter q among the four ending with the "
                                 "date of the determination, Licensee must deliver to "
                                 "Licensor a statement by the last day of q")


@pytest.mark.parametrize(("standard", "words"), [
    ("promptly, but in any event within 30 days after notice_on",
     "promptly, and in any event within 30 days after the notice of termination"),
    ("promptly and in any event within 30 days after notice_on",
     "promptly, and in any event within 30 days after the notice of termination"),
    ("as soon as reasonably practicable and in any event by term_end",
     "as soon as reasonably practicable, and in any event by the end of the term"),
    ("promptly", "promptly"),
    ("as soon as reasonably practicable", "as soon as reasonably practicable"),
])
def test_standards_of_performance(standard, words):
    out = english_of(f"""
        obligation notice_payment "the payment":
          licensee must pay $100 to licensor {standard}
        """)
    assert out["notice_payment"] == f"Licensee must pay to Licensor $100.00 {words}"


def test_a_recurring_power_with_a_window():
    words = english_of("""
        power quota_termination "termination for a missed quota"
            for each payment_year y from commencement_date:
          licensor may terminate within 6 months after end of y when number of y is at least 2
        """)
    assert words["quota_termination"] == (
        "for each payment year y from the Commencement Date onward, Licensor may terminate "
        "within six months after the last day of y, if the number of y is at least 2")


def test_recurrence_window_and_standard_in_the_tables():
    body = """
        obligation royalty_payment "the royalty payment"
            for each royalty_quarter q from commencement_date until term_end:
          licensee must pay royalties(q) to licensor
            promptly, but in any event within 30 days after end of q
            performed on royalties_paid_on(q)
        power quota_termination "termination for a missed quota"
            for each payment_year y from commencement_date:
          licensor may terminate within 6 months after end of y when number of y is at least 2
        """
    markdown = summary_text(body, "markdown")
    assert ("| Licensee | pay the per unit royalties for q | Licensor | for each royalty "
            "quarter q from the Commencement Date until the date of the end of the term, "
            "promptly, and in any event within 30 days after the last day of q | — | "
            "Section 1 |") in markdown
    assert ("| Licensor | terminate | For each payment year y from the Commencement Date "
            "onward, within six months after the last day of y, if the number of y is at "
            "least 2 | Section 1 |") in markdown
    assert ("| For each royalty quarter q from the Commencement Date until the date of the "
            "end of the term, promptly, and in any event within 30 days after the last day of q | "
            "Licensee must pay to Licensor the per unit royalties for q | Section 1 |"
            ) in markdown
    text = summary_text(body, "text")
    assert ("When: for each royalty quarter q from the Commencement Date until the date of "
            "the end of the term, promptly, and in any event within 30 days after the last day of q"
            ) in text
    html = summary_text(body, "html")
    assert ("<td>For each payment year y from the Commencement Date onward, within six months "
            "after the last day of y, if the number of y is at least 2</td>") in html


# =============================================================================
# Fields of an obligation, and lateness
# =============================================================================

OBLIGATION = """
    obligation royalty_payment "the royalty payment"
        for each royalty_quarter q from commencement_date until term_end:
      licensee must pay royalties(q) to licensor within 30 days after end of q
        performed on royalties_paid_on(q)
    """


@pytest.mark.parametrize(("expr", "kind", "words"), [
    ("royalty_payment(first royalty_quarter).due", "date",
     "the due date of the royalty payment for the first royalty quarter"),
    ("royalty_payment(first royalty_quarter).amount", "money",
     "the amount of the royalty payment for the first royalty quarter"),
    ("royalty_payment(first royalty_quarter).performed_on", "date",
     "the date of performance of the royalty payment for the first royalty quarter"),
    ("if royalty_payment(first royalty_quarter).active then 1 else 0", "integer",
     "if the royalty payment for the first royalty quarter is in effect, 1; otherwise, 0"),
])
def test_fields_of_an_obligation(expr, kind, words):
    assert english_of(OBLIGATION + f"define f: {kind} = {expr}\n")["f"] == words


@pytest.mark.parametrize(("expr", "words"), [
    ("royalty_payment(first royalty_quarter) is late on as_of",
     ("the royalty payment for the first royalty quarter is late on the date of the "
     "determination (not performed by its due date)")),
    ("not (royalty_payment(first royalty_quarter) is late on as_of)",
     ("the royalty payment for the first royalty quarter is not late on the date of the "
     "determination")),
    ("not royalty_payment(first royalty_quarter).active",
     "the royalty payment for the first royalty quarter is not in effect"),
    (("any of [royalty_payment(q) is late on as_of for each royalty_quarter q from "
     "commencement_date through as_of]"),
     ("for at least one royalty quarter q from the Commencement Date through the date of the "
     "determination, the royalty payment for q is late on the date of the determination (not "
     "performed by its due date)")),
])
def test_lateness(expr, words):
    assert english_of(OBLIGATION + f"condition c = {expr}\n")["c"] == words


def test_a_term_as_in_force_on_a_date():
    words = english_of("""
        define cap "the maximum royalty": money = $100
        condition within_cap(q: royalty_quarter) "the royalties are within the cap" =
          royalties(q) is at most (cap as in force on end of q)
        condition held(q: royalty_quarter) "the cap held" =
          not (within_cap(q) as in force on end of q)
        define twice(q: royalty_quarter) "twice the cap": money =
          (cap as in force on end of q) * 2
        """)
    assert words["within_cap"] == ("the per unit royalties for q is at most the maximum "
                                   "royalty under the agreement as in force on the last day "
                                   "of q")
    assert words["held"] == ("the royalties are not within the cap for q under the agreement "
                             "as in force on the last day of q")
    assert words["twice"] == ("(the maximum royalty under the agreement as in force on the "
                              "last day of q) times 2")


def test_a_calendar_of_the_agreements_own(tmp_path):
    path = tmp_path / "x.clause"
    path.write_text(textwrap.dedent("""
        agreement x "X" {
          dated 2024-01-01
          calendar lender_days
          calendar lender_days "Business Day" = new_york_banks and london_banks plus [2024-12-24]
        }
        fact trade_on "Trade Date": date
        section 1 {
          define settles "Settlement Date": date = 2 business days after trade_on
          define other "Other Date": date = 2 business days in nyse after trade_on
        }
        """), encoding="utf-8")
    result = api.analyse(SourceFile.read(path))
    assert result.ok, [d.message for d in result.diagnostics]
    text = " ".join(summarize.render(result, "text").split())
    assert ("“Business Day” calendar: closed whenever the New York banks' calendar or the "
            "London banks' calendar is closed, and on December 24, 2024.") in text
    assert ("Business days: every day but Saturday, Sunday, the days the New York banks' "
            "calendar or the London banks' calendar is closed and December 24, 2024; in the "
            "New York Stock Exchange calendar,") in text
    assert "“Settlement Date” means two business days after the Trade Date." in text


def test_every_format_renders_the_new_constructs():
    body = OBLIGATION + """
    condition in_default "a payment default" = any of [royalty_payment(q) is late on as_of
        for each royalty_quarter q from commencement_date through as_of]
    define total "the total royalties": money =
      sum of [royalties(q) for each royalty_quarter q from commencement_date through as_of]
    """
    for fmt in ("markdown", "html", "text"):
        text = summary_text(body, fmt)
        assert "late on the date of the determination (not performed by its due date)" in text
        assert "over each royalty quarter q from the Commencement Date" in text
        assert "one value per royalty quarter" in text
    source = AGREEMENT + "section 1 {\n" + textwrap.indent(textwrap.dedent(body), "  ") + "\n}\n"
    result, _ = checked_program(source)
    page = summarize.render(result, "html")
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(page)
    assert list(parser.errors) == []


# =============================================================================
# The encoded contracts, from the command line
# =============================================================================


def summarize_cli(capsys, *args: object) -> str:
    code = main(["summarize", *map(str, args)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return " ".join(out.split())


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_intricon_summary(capsys, fmt):
    text = summarize_cli(capsys, INTRICON, "--format", fmt)
    assert ("For each royalty quarter q from the Commencement Date until the end of the "
            "quarterly minimum payments, IntriCon must pay to Dynamic Hearing the quarterly "
            "installment of the Access Fee by the first day of q (performed on the date the "
            "Access Fee installment was paid for q); a failure may be cured within 30 days "
            "after the written notice requiring the breach to be remedied for q.") in text
    assert ("Royalty quarters: calendar quarters, the first from the Commencement Date to the "
            "end of the calendar quarter containing it.") in text
    assert "Payment years: contract years, the first beginning on the Commencement Date." \
        in text
    assert "an amount of money, one value per royalty quarter" in text
    assert ("the sum of the monthly amount payable for engineering and services for m over "
            "each calendar month m from the first day of q through the last day of q") in text
    assert "is late on the date of the determination (not performed by its due date)" in text


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_neon_summary(capsys, fmt):
    text = summarize_cli(capsys, NEON, "--format", fmt)
    assert ("For each fiscal quarter q from April 1, 1999 onward, Licensee must pay to "
            "Licensor the twenty-five percent (25%) of the Annual Royalty Advance Requirement "
            "for such fiscal year for q by the first day of q") in text
    assert "Fiscal quarters: the quarters of fiscal years beginning April 1." in text
    before = summarize_cli(capsys, NEON, "--format", fmt, "--as-of", "1997-01-01")
    assert ("For each year of the term y from the date of this Agreement onward, Licensor may "
            "terminate within six months after the last day of y") in before
    assert ("Years of the term: contract years, the first beginning on the date of this "
            "Agreement.") in before


def test_a_cure_period_and_in_default_read_as_the_contract_says() -> None:
    from test_time_language import CURE, HEADER

    result = api.analyse(SourceFile("t.clause", HEADER + CURE))
    assert result.ok
    text = " ".join(summarize.render(result, "text").split())
    assert ("within 30 days after the last day of q (performed on “paid on” for q); a "
            "failure may be cured within 30 days after the written notice specifying the "
            "default for q.") in text
    assert ("“fee default” holds when the fee for q is in default on “as of” (not performed "
            "by its due date, nor cured in time after notice).") in text
