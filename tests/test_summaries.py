"""Summaries (`clausec summarize`) and English explanations (`clausec eval --explain`).

- Golden files: the seed contracts in every format as amended (the rendered examples in
  clauses/examples/summaries/, so they never go stale) and as of a date before the
  amendment, the all-constructs fixture, and English explanations (tests/golden/),
  compared byte for byte. After an intended change, regenerate both
  and review the diff:

      CLAUSEC_UPDATE_GOLDEN=1 python -m pytest tests/test_summaries.py

- The English of the constructs: phrases, numbering, money, percents, dates, business days.
- Grouping: the English groups as the logic does ("x minus (y plus z)"). Hypothesis
  properties: the words of any arithmetic expression, read back left to right, give its
  tree again; propositions regrouped read differently unless they mean the same.
- A hypothesis property: small random clause programs (every construct of the grammar,
  with and without an amendment, with text that Markdown and HTML would misread) render
  in every format to non-empty, deterministic output; the HTML parses as HTML5 without a
  single error (html5lib's strict parser), the Markdown renders (markdown-it) with tables
  of consistent width, and every explanation renders.
- The command line: formats, --as-of, -o, --templates and its errors.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from datetime import date, datetime
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from clausec import api, ir
from clausec.backends.english import summaries as summarize
from clausec.backends.english import wording as english
from clausec.cli import main
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = ROOT / "clauses" / "examples" / "summaries"
FIXTURE = ROOT / "tests" / "data" / "all_constructs.clause"
TIME_UNITS = ROOT / "tests" / "data" / "time_units.clause"
PATENT = ROOT / "clauses" / "patent_purchase"
RIGHTS = ROOT / "clauses" / "rights_agreement"
UPDATE = os.environ.get("CLAUSEC_UPDATE_GOLDEN") == "1"
SUFFIX = {"markdown": "md", "html": "html", "text": "txt"}
FORMATS = tuple(SUFFIX)


def analysed(path: Path) -> api.Result:
    ((agreement, amendments),) = api.group([path])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def check_golden(path: Path, text: str) -> None:
    """Byte for byte against the golden file (rewritten with CLAUSEC_UPDATE_GOLDEN=1)."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"{path} is missing: run CLAUSEC_UPDATE_GOLDEN=1 python -m pytest " \
                          f"tests/test_summaries.py"
    expected = path.read_bytes().decode("utf-8")
    if text != expected:
        import difflib
        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                 str(path), "rendered"))[:60])
        pytest.fail(f"{path.name} differs from the rendered output (regenerate with "
                    f"CLAUSEC_UPDATE_GOLDEN=1 if intended):\n{diff}")


def summarize_cli(capsys, *args: object) -> str:
    code = main(["summarize", *map(str, args)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def markdown_renders(text: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


def html_errors(text: str) -> list[object]:
    parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
    parser.parse(text)
    return list(parser.errors)


def assert_html5(text: str) -> None:
    assert html_errors(text) == []
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def table_widths_are_consistent(markdown: str) -> None:
    """Every row of a Markdown table has as many cells as its header."""
    width = None
    for line in markdown.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line)) - 1
        if width is None:
            width = cells
        assert cells == width, f"a table row of {cells} cells under a header of {width}: {line}"


# =============================================================================
# Golden files
# =============================================================================

# The seed contracts as amended are the shipped examples in clauses/examples/summaries/,
# checked byte for byte by test_shipped_examples_are_what_the_command_writes below.
CASES = [
    ("all_constructs", FIXTURE, None),
    ("time_units", TIME_UNITS, None),
    ("patent_purchase.as_of_2004-03-01", PATENT, "2004-03-01"),
    ("rights_agreement.as_of_2003-12-01", RIGHTS, "2003-12-01"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "path", "as_of"), CASES, ids=[c[0] for c in CASES])
def test_golden_summary(capsys, fmt, name, path, as_of):
    extra = ["--as-of", as_of] if as_of else []
    text = summarize_cli(capsys, path, "--format", fmt, *extra)
    check_golden(GOLDEN / f"{name}.{SUFFIX[fmt]}", text)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["patent_purchase", "rights_agreement"])
def test_shipped_examples_are_what_the_command_writes(capsys, tmp_path, fmt, name):
    """clauses/examples/summaries/ holds `clausec summarize` of each seed contract."""
    target = tmp_path / f"{name}.{SUFFIX[fmt]}"
    summarize_cli(capsys, ROOT / "clauses" / name, "--format", fmt, "-o", target)
    check_golden(EXAMPLES / target.name, target.read_text(encoding="utf-8"))


EXPLAINED = [
    ("patent_closing_payment", PATENT, "closing_payment_due", "patent_board_approval.json", []),
    ("patent_conditions_before", PATENT, "closing_conditions_met", "patent_board_approval.json",
     ["--as-of", "2004-03-01"]),
    ("patent_superior_contract", PATENT, "terminate_for_superior_contract",
     "patent_superior_contract.json", ["--as-of", "2004-03-01"]),
    ("rights_flip_in", RIGHTS, "flip_in_event", "rights_flip_in.json", []),
    ("rights_distribution_date", RIGHTS, "distribution_date", "rights_tender_offer.json", []),
    ("rights_redeem", RIGHTS, "redeem_rights", "rights_expiry.json", []),
]


@pytest.mark.parametrize(("name", "path", "term", "facts", "extra"), EXPLAINED,
                         ids=[c[0] for c in EXPLAINED])
def test_golden_explanation(capsys, name, path, term, facts, extra):
    code = main(["eval", str(path), term, "--facts", str(ROOT / "clauses" / "examples" / facts),
                 "--explain", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    check_golden(GOLDEN / f"explain.{name}.txt", out)


# =============================================================================
# What the summaries say
# =============================================================================


@pytest.fixture(scope="module")
def patent_markdown() -> str:
    return summarize.render(analysed(PATENT), "markdown")


def test_sections_read_from_the_logic(patent_markdown):
    # The example, as the compiled logic has it (Section 3.1 as amended).
    assert ("The conditions set forth in Section 3.1 are met when all of the following hold: "
            "(a) there is a Requisite Board Approval; (b) there has been no termination or "
            "amendment of Amendment 2 to the License Agreement; and (c) there has been no "
            "termination or amendment of the Escrow Agreement.") in patent_markdown
    assert "“Closing Date” means the date of this Amendment, if the conditions set forth " \
           "in Section 3.1 are met (otherwise there is none)." in patent_markdown


def test_money_percent_dates_and_business_days(patent_markdown):
    assert "| “total purchase price” | $1,800,000.00 | Section 3.2 |" in patent_markdown
    assert "$10,000,000.00 times (1 plus 7.5%) to the power of (the calendar year minus the " \
           "year of the first such transfer)" in patent_markdown
    assert "| December 30, 2003 | Patent Purchase Agreement dated | — |" in patent_markdown
    assert "within two business days after the breach" in patent_markdown
    assert "$1.8 million" not in patent_markdown  # one style of money, everywhere


def test_deleted_sections_and_amended_notes(patent_markdown):
    assert "- **Section 8.2**: \\[Deleted by the Amendment to Patent Purchase Agreement of " \
           "March 31, 2004\\]" in patent_markdown
    assert "### Section 3.1\n\n*As amended on March 31, 2004.*" in patent_markdown


def test_glossary_defines_and_says_where_used(patent_markdown):
    glossary = patent_markdown.split("## Glossary")[1].split("## Facts")[0]
    entry = next(line for line in glossary.splitlines() if line.startswith("- **“Closing Date”"))
    assert "(Section 3.1, as amended on March 31, 2004)" in entry
    assert "*Used in Section 3.4, as amended on March 31, 2004; Section 4.1;" in entry
    terms = [re.match(r"- \*\*“?(.*?)”?\*\*", line).group(1).lower()
             for line in glossary.splitlines() if line.startswith("- **")]
    keys = [re.sub(r"^(the|a|an|this) ", "", t) for t in terms]
    assert keys == sorted(keys)


def test_obligations_table_and_timeline(patent_markdown):
    assert ("| Purchaser | pay the payment specified in Section 3.2 of the Amendment | Seller | "
            "on the date of this Amendment | The conditions set forth in Section 3.1 are met |"
            ) in patent_markdown
    timeline = patent_markdown.split("## Timeline")[1].split("## Amendments")[0]
    dates = re.findall(r"^\| ([A-Z][a-z]+ \d+, \d{4}) \|", timeline, re.MULTILINE)
    parsed = [datetime.strptime(d, "%B %d, %Y") for d in dates]
    assert len(parsed) >= 4 and parsed == sorted(parsed)
    assert "Within two business days after the breach" in timeline


def test_amendment_redline_and_logic_changes(patent_markdown):
    amendments = patent_markdown.split("## Amendments")[1]
    assert "<del>Stockholder Approval and</del> <ins>Board Approval,</ins>" in amendments
    assert "**Section 8.1 is deleted.** \\[Deleted by the Amendment to Patent Purchase " \
           "Agreement of March 31, 2004\\]" in amendments
    assert "| Requisite Board Approval `requisite_board_approval` | added | — | There is a " \
           "Requisite Board Approval" in amendments
    assert "`terminate_for_superior_contract` | removed | Seller may terminate" in amendments
    assert "`deposit_received` | moved from Section 3.4 to Section 3.2 of the Amendment" \
        in amendments
    changed = next(line for line in amendments.splitlines() if "`closing_date`" in line)
    assert "two business days after the satisfaction of the conditions" in changed
    assert "means the date of this Amendment" in changed


@pytest.fixture(scope="module")
def time_units_text() -> str:
    return " ".join(summarize.render(analysed(TIME_UNITS), "text").split())


@pytest.mark.parametrize("sentence", [
    # months and years, in words up to ten, as contracts write them
    "“Maturity Date” means five years after the Closing Date.",
    "“First Payment Date” means one month after the Closing Date.",
    "“Review Date” means 12 months before the Maturity Date.",
    "“Reset Date” means six months before the Maturity Date.",
    "“First Anniversary” means one year after the Closing Date.",
    "“Notice Deadline” means the Notice Period before the Maturity Date.",
    # business days of a calendar other than the agreement's name it; the agreement's own
    # read as they always have
    ("“Settlement Date” means two business days in the New York banks' calendar after the "
     "Closing Date."),
    ("“Pricing Date” means one business day in the New York Stock Exchange calendar before "
     "the Closing Date."),
    "“Cure Date” means the Cure Period after the Closing Date.",
    "Borrower must repay to Lender the Principal within three months after the Maturity Date.",
    # the facts, in words
    "“Notice Period”: a number of months, three months unless given.",
    "“Cure Period”: a number of business days, five business days unless given.",
    ("“Settlement Lag”: a number of business days in the New York banks' calendar, two "
     "business days in the New York banks' calendar unless given."),
    # the overview says what a business day is in every calendar the agreement counts in
    ("Business days: every day but Saturday, Sunday and U.S. federal holidays (as observed); "
     "in the New York banks' calendar, every day but Saturday, Sunday and Federal Reserve "
     "holidays (when New York banks close); in the New York Stock Exchange calendar, every day "
     "but Saturday, Sunday and New York Stock Exchange holidays"),
    # the schedule of dates that run from events
    "- “Maturity Date”: five years after the Closing Date (Section 1)",
    ("- “Settlement Date”: two business days in the New York banks' calendar after the Closing "
     "Date (Section 2)"),
])
def test_months_years_and_calendars_in_words(time_units_text, sentence):
    assert sentence in time_units_text


def test_the_agreements_calendar_is_not_named(tmp_path, write_clause):
    """Business days of the header's calendar read "business days", whichever calendar it
    is; those of another name theirs."""
    path = write_clause(tmp_path, """
        agreement x "X" {
          dated 2024-01-01
          calendar nyse
        }
        fact trade_on "Trade Date": date
        fact lag "Lag": business days in london_banks
        fact grace "Grace Period": business days
        section 1 {
          define settles "Settlement Date": date = 2 business days after trade_on
          define also "Other Date": date = 2 business days in nyse after trade_on
          define federal "Federal Date": date = 1 business day in us_federal before trade_on
          define euro "Euro Date": date = 3 business days in target after trade_on
          define sifma "SIFMA Date": date = 10 business days in us_government_securities after trade_on
          define plain "Plain Date": date = 4 business days in weekends_only after trade_on
          define later "Later Date": date = lag after (grace after trade_on)
        }
        """)
    text = " ".join(summarize.render(analysed(path), "text").split())
    for sentence in (
            "“Settlement Date” means two business days after the Trade Date.",
            "“Other Date” means two business days after the Trade Date.",
            ("“Federal Date” means one business day in the U.S. federal holiday calendar "
             "before the Trade Date."),
            ("“Euro Date” means three business days in the TARGET (euro payments) calendar "
             "after the Trade Date."),
            ("“SIFMA Date” means ten business days in the U.S. government securities (SIFMA) "
             "calendar after the Trade Date."),
            ("“Plain Date” means four business days in the weekends-only calendar after the "
             "Trade Date."),
            "“Lag”: a number of business days in the London banks' calendar.",
            "“Grace Period”: a number of business days.",
            ("Business days: every day but Saturday, Sunday and New York Stock Exchange "
             "holidays; in the London banks' calendar, every day but Saturday, Sunday and bank "
             "holidays in England and Wales; in the U.S. federal holiday calendar,"),
            "in the weekends-only calendar, every day but Saturday and Sunday"):
        assert sentence in text, sentence


def test_an_amendment_that_changes_a_calendar_changes_the_logic(tmp_path, write_clause):
    """A fact of business days in another calendar is another fact, not the same one
    reworded; what uses it gives other results."""
    write_clause(tmp_path, """
        agreement base "Base" { dated 2024-01-01 }
        fact d: date
        section 1 {
          fact lag "Lag": business days in nyse
          define s "Settlement Date": date = lag after d
          define t "Trade Date": date = 2 business days in nyse after d
        }
        """, "base.clause")
    write_clause(tmp_path, """
        amendment first "First Amendment" amends base {
          dated 2024-06-01
          effective 2024-06-01
        }
        replace section 1 {
          fact lag "Lag": business days in target
          define s "Settlement Date": date = lag after d
          define t "Trade Date": date = 2 business days in target after d
        }
        """, "first.clause")
    text = " ".join(summarize.render(analysed(tmp_path), "text").split())
    assert ("Lag (lag): changed before: “Lag”: a number of business days in the New York "
            "Stock Exchange calendar. after: “Lag”: a number of business days in the TARGET "
            "(euro payments) calendar.") in text
    assert ("Trade Date (t): changed before: “Trade Date” means two business days in the New "
            "York Stock Exchange calendar after “d”. after: “Trade Date” means two business "
            "days in the TARGET (euro payments) calendar after “d”.") in text


def test_every_calendar_has_words():
    from clausec.passes import calendars

    assert set(english.CALENDAR_WORDS) == set(calendars.names())
    for name in calendars.names():
        assert english.calendar_name(name).endswith("calendar")
        assert english.business_days_of(name).startswith("every day but Saturday")
    assert english.calendar_name("moon_base") == "moon base calendar"  # never a KeyError


def test_as_of_shows_the_version_in_force():
    before = summarize.render(analysed(PATENT), "markdown", date(2004, 3, 1))
    assert "as in force on **March 1, 2004** (as originally signed)" in before
    assert "(a) there is a Requisite Stockholder Approval; and (b)" in before
    assert "Requisite Board Approval when" not in before.split("## Amendments")[0]
    assert "**not yet in force** on March 1, 2004" in before
    on = summarize.render(analysed(PATENT), "markdown", date(2004, 3, 31))
    assert "(as amended on March 31, 2004)" in on


def test_text_is_wrapped_and_html_is_one_standalone_page():
    result = analysed(RIGHTS)
    text = summarize.render(result, "text")
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "[-" in text and "{+" in text
    page = summarize.render(result, "html")
    assert_html5(page)
    assert page.startswith("<!DOCTYPE html>")
    # One file, nothing fetched: no scripts, stylesheets, images or fonts from elsewhere.
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(", page)
    assert "@media print" in page
    assert "<ins>" in page and "<del>" in page


def test_output_is_deterministic():
    first = [summarize.render(analysed(RIGHTS), fmt) for fmt in FORMATS]
    second = [summarize.render(analysed(RIGHTS), fmt) for fmt in FORMATS]
    assert first == second


def test_every_seed_summary_is_well_formed():
    for path in (PATENT, RIGHTS, FIXTURE):
        result = analysed(path)
        assert_html5(summarize.render(result, "html"))
        markdown = summarize.render(result, "markdown")
        assert "<table>" in markdown_renders(markdown)
        table_widths_are_consistent(markdown)


# =============================================================================
# English explanations
# =============================================================================


def test_explain_says_why_in_english(capsys, tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text('{"license_amendment_2_terminated_or_amended": false}', encoding="utf-8")
    code = main(["eval", str(PATENT), "closing_conditions_met", "--facts", str(facts),
                 "--explain", "--format", "text"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert ("The conditions set forth in Section 3.1 are not met (Section 3.1, as amended on "
            "March 31, 2004) because there is no Requisite Board Approval (Section 3.1(a), as "
            "amended on March 31, 2004).") in out
    assert "There is no Requisite Board Approval (Section 2.3 of the Amendment to Patent " \
           "Purchase Agreement of March 31, 2004) because (a) there has been no unanimous " \
           "approval" in out


def test_explain_months_and_calendars_in_english(capsys, tmp_path):
    """`eval --explain` of dates computed by months, years and a named calendar: the
    sentences of the summary, with the values the module computed."""
    facts = tmp_path / "facts.json"
    facts.write_text('{"closing_on": "2024-01-31", "principal": "1000"}', encoding="utf-8")
    said = {}
    for term in ("notice_deadline", "first_payment", "settlement_date", "maturity"):
        code = main(["eval", str(TIME_UNITS), term, "--facts", str(facts), "--explain",
                     "--format", "text"])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        said[term] = " ".join(captured.out.split())
    # January 31 + 1 month: the end-of-month rule (2024 is a leap year).
    assert ("The First Payment Date is February 29, 2024 (Section 1): it is one month after "
            "the Closing Date (January 31, 2024).") in said["first_payment"]
    assert ("The Maturity Date is January 31, 2029 (Section 1): it is five years after the "
            "Closing Date (January 31, 2024).") in said["maturity"]
    # The Notice Period, a fact of months, shown as eval prints it.
    assert ("The Notice Deadline is October 31, 2028 (Section 1): it is the Notice Period "
            "(3 months) before the Maturity Date (January 31, 2029).") in said["notice_deadline"]
    # Wednesday, January 31, 2024 + two New York bank business days: Friday, February 2.
    assert ("The Settlement Date is February 2, 2024 (Section 2): it is two business days in "
            "the New York banks' calendar after the Closing Date (January 31, 2024).") in \
        said["settlement_date"]


def test_explain_json_carries_the_words(capsys):
    code = main(["eval", str(RIGHTS), "flip_in_event", "--facts",
                 str(ROOT / "clauses" / "examples" / "rights_flip_in.json"), "--explain",
                 "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["why"][0].startswith("There is a Section 11(a)(ii) Event (Section 11(a)(ii), "
                                     "as amended on December 22, 2003) because there is an "
                                     "Acquiring Person and none of the following holds:")
    assert any("the beneficial ownership (20%) is at least 15%" in s for s in data["why"])


def test_every_seed_term_explains(tmp_path):
    """Every term, condition, obligation and power of every version, on every facts file
    of clauses/examples/, explains in words without failing."""
    from decimal import Decimal

    for path, prefix in ((PATENT, "patent_"), (RIGHTS, "rights_")):
        result = analysed(path)
        module = api.module_from_source(api.generate(result), result.source.name)
        for facts_file in sorted((ROOT / "clauses" / "examples").glob(prefix + "*.json")):
            facts = module.Facts.from_dict(json.loads(facts_file.read_text(),
                                                      parse_float=Decimal))
            for version, (_, checked) in zip(module.VERSIONS, result.versions):
                for decl in checked.program.declarations:
                    if isinstance(decl, (ir.Exception_, ir.Fact)):
                        continue
                    args = [2008 if p.type.kind == "integer" else Decimal(5_000_000)
                            for p in getattr(decl, "params", ())]
                    try:
                        value = version.evaluate(decl.name, facts, *args)
                        tree = version.explain(decl.name, facts, *args)
                    except module.ClauseError:
                        continue
                    words = summarize.render_explanation(checked, version.label, decl.name,
                                                         tree, value)
                    assert words.strip() and "\n\n" in words + "\n\n"


# =============================================================================
# Phrases
# =============================================================================


@pytest.mark.parametrize(("term", "positive", "style", "expected"), [
    ("Requisite Board Approval", False, "condition", "there is no Requisite Board Approval"),
    ("Acquiring Person", True, "condition", "there is an Acquiring Person"),
    ("the conditions set forth in Section 3.1", True, "condition",
     "the conditions set forth in Section 3.1 are met"),
    ("the Rights have expired", False, "condition", "the Rights have not expired"),
    ("an amendment may be made", False, "condition", "an amendment may not be made"),
    ("this license applies to all of the revenue", False, "condition",
     "this license does not apply to all of the revenue"),
    ("a public announcement that an Acquiring Person has become such", True, "condition",
     "there is a public announcement that an Acquiring Person has become such"),
    ("the breach", False, "event", "the breach has not occurred"),
    ("approval of the Plan of Liquidation", True, "event",
     "there has been approval of the Plan of Liquidation"),
    ("repurchases of stock by the Company", False, "event",
     "there have been no repurchases of stock by the Company"),
    ("the date of the stockholder meeting", True, "event",
     "the date of the stockholder meeting is known"),
    ("Closing Date", True, "event", "the Closing Date has occurred"),
    ("the cap", False, "given", "the cap is not given"),
])
def test_terms_as_propositions(term, positive, style, expected):
    assert english.holds(term, positive, style) == expected


def test_values_in_words():
    assert english.days(2, True) == "two business days"
    assert english.days(1, False) == "one day"
    assert english.days(30, False) == "30 days"
    assert english.duration(3, "months") == "three months"
    assert english.duration(1, "months") == "one month"
    assert english.duration(12, "months") == "12 months"
    assert english.duration(1, "years") == "one year"
    assert english.duration(5, "years") == "five years"
    assert english.duration(2, "business_days") == "two business days"
    assert english.unit_words("years") == "years" and english.unit_words("months", 1) == "month"
    assert english.integer(27_037_814) == "27,037,814" and english.integer(2005) == "2005"
    from decimal import Decimal

    from clausec.ir import types as T
    assert english.literal(Decimal(1_800_000), T.money("USD")) == "$1,800,000.00"
    assert english.literal(Decimal("0.075"), T.PERCENT) == "7.5%"
    assert english.literal(date(2004, 3, 30), T.DATE) == "March 30, 2004"
    assert english.the("Closing Date") == "the Closing Date"
    assert english.the("Seller's board") == "Seller's board"
    assert english.item_label(1, 1) == "(ii)" and english.item_label(27, 0) == "(ab)"
    assert english.cite_item("3.1, as amended on March 31, 2004", "(a)") == \
        "Section 3.1(a), as amended on March 31, 2004"


def test_nested_lists_keep_their_numbering(tmp_path, write_clause):
    path = write_clause(tmp_path, """
        agreement x "X" { dated 2004-01-01 }
        fact a "a notice": bool default false
        fact b "a cure": bool default false
        fact c "a waiver": bool default false
        section 1 {
          condition ok "the deal may close" = all of [
            (a) a,
            (b) any of [b, c],
            none of [a; b],
          ]
        }
        """)
    text = summarize.render(analysed(path), "text")
    assert ("The deal may close when all of the following hold: (a) there has been a notice; "
            "(b) at least one of the following holds: (i) there has been a cure, or (ii) there "
            "has been a waiver; and (c) none of the following holds: (i) there has been a "
            "notice, or (ii) there has been a cure.") in " ".join(text.split())


# =============================================================================
# Grouping: the English groups as the logic does
# =============================================================================

GREEK = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
         "Juliet", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo",
         "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu"]


def english_of(exprs: list[str], facts: str = "", fmt: str = "text") -> list[str]:
    """The English of each expression, as summaries render it: a decimal value, or with
    "!bool" at its end a proposition."""
    decls = "\n".join(f"  condition c{i} = {e.removesuffix('!bool')}" if e.endswith("!bool")
                       else f"  define d{i}: decimal = {e}" for i, e in enumerate(exprs))
    source = (f'agreement g "G" {{ dated 2004-01-01 }}\n{facts}\n'
              f'section 1 {{\n{decls}\n}}\n')
    result = api.analyse(SourceFile("g.clause", source))
    assert result.ok, "\n".join(d.render(result.sources) for d in result.diagnostics)
    checked = result.versions[-1][1]
    env = summarize.environment(fmt)
    words = summarize.english_module(env, english.Lexicon(checked, fmt))
    out = []
    for i, e in enumerate(exprs):
        decl = checked.declarations[f"c{i}" if e.endswith("!bool") else f"d{i}"]
        node = words.prop(decl.expr) if e.endswith("!bool") else words.value(decl.expr)
        out.append(" ".join(str(node).split()))
    return out


def test_liquidity_reads_as_it_computes(capsys, tmp_path, write_clause):
    """The review's case: x - (y + z) read "x minus y plus z", in the summary, the
    glossary and `eval --explain`, while `eval` computed it right."""
    path = write_clause(tmp_path, """
        agreement credit "Credit Agreement" { dated 2024-01-01 }
        fact commitments "the Commitments": money default $0
        fact loans "the Loans": money default $0
        fact letters "the Letters of Credit": money default $0
        section 2.1 "Liquidity" {
          define liquidity "Liquidity": money = commitments - (loans + letters)
        }
        """)
    grouped = "minus (the Loans plus the Letters of Credit)"
    for fmt in FORMATS:
        text = " ".join(summarize.render(analysed(path), fmt).split())
        assert "minus the Loans plus" not in text
        assert text.count(grouped) == 2, fmt  # the section, and the glossary
    facts = tmp_path / "facts.json"
    facts.write_text('{"commitments": "100", "loans": "30", "letters": "20"}')
    assert main(["eval", str(path), "liquidity", "--facts", str(facts), "--explain"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith("liquidity = $50.00")
    assert "it is the Commitments ($100.00) minus (the Loans ($30.00) plus the Letters of " \
           "Credit ($20.00))" in out


NUMBERS = "".join(f'fact {n.lower()} "{n}": decimal default 1\n' for n in GREEK[:6]) + \
    'fact k "Kilo": integer default 2\nfact m "Mike": integer default 3\n'


@pytest.mark.parametrize(("expr", "words"), [
    ("alpha - (bravo + charlie)", "the Alpha minus (the Bravo plus the Charlie)"),
    ("(alpha - bravo) + charlie", "the Alpha minus the Bravo plus the Charlie"),
    ("alpha - (bravo - charlie)", "the Alpha minus (the Bravo minus the Charlie)"),
    ("alpha + (bravo + charlie)", "the Alpha plus the Bravo plus the Charlie"),
    ("alpha / (bravo * charlie)", "the Alpha divided by (the Bravo times the Charlie)"),
    ("alpha / bravo * charlie", "the Alpha divided by the Bravo times the Charlie"),
    ("(alpha - bravo) * charlie", "(the Alpha minus the Bravo) times the Charlie"),
    ("alpha - bravo * charlie", "the Alpha minus the Bravo times the Charlie"),
    ("-(alpha + bravo)", "minus (the Alpha plus the Bravo)"),
    ("-alpha + bravo", "minus the Alpha plus the Bravo"),
    ("-alpha * bravo", "minus the Alpha times the Bravo"),
    ("-(alpha * bravo)", "minus (the Alpha times the Bravo)"),
    ("alpha - -bravo", "the Alpha minus minus the Bravo"),
    ("-alpha ^ k", "(minus the Alpha) to the power of the Kilo"),
    ("-(alpha ^ k)", "minus the Alpha to the power of the Kilo"),
    ("alpha ^ (k + m)", "the Alpha to the power of (the Kilo plus the Mike)"),
    ("(alpha * bravo) ^ k", "(the Alpha times the Bravo) to the power of the Kilo"),
    ("alpha * bravo ^ k", "the Alpha times the Bravo to the power of the Kilo"),
    ("round(alpha * bravo, 2) - charlie",
     "((the Alpha times the Bravo), rounded (half up) to 2 decimal places) minus the Charlie"),
    ("alpha - (if alpha > bravo then bravo else charlie)",
     "the Alpha minus (if the Alpha is more than the Bravo, the Bravo; otherwise, the Charlie)"),
    ("alpha - sum of [bravo, charlie]",
     "the Alpha minus (the sum of (a) the Bravo; and (b) the Charlie)"),
    ("alpha - (bravo + charlie) > delta!bool",
     "the Alpha minus (the Bravo plus the Charlie) is more than the Delta"),
    ("alpha > bravo + charlie!bool", "the Alpha is more than the Bravo plus the Charlie"),
])
def test_grouping_of_arithmetic(expr, words):
    assert english_of([expr], NUMBERS) == [words]


def test_a_long_sum_reads_as_one_sum_without_parentheses():
    # More than 16 operands are regrouped by the checker into a balanced tree: the words
    # still read as the one sum that was written.
    names = [GREEK[i % 6].lower() for i in range(40)]
    [words] = english_of([" + ".join(names)], NUMBERS)
    assert words == " plus ".join(f"the {GREEK[i % 6]}" for i in range(40))
    assert "(" not in words


def test_a_sum_inside_a_subtraction_keeps_its_parentheses():
    assert english_of(["alpha - (bravo + charlie)", "alpha + (bravo + charlie)",
                       "alpha + (bravo - charlie)"], NUMBERS) == [
        "the Alpha minus (the Bravo plus the Charlie)",
        "the Alpha plus the Bravo plus the Charlie",
        "the Alpha plus (the Bravo minus the Charlie)"]


def test_a_long_chain_of_and_reads_as_one_list():
    facts = "".join(f"fact f{i}: bool\n" for i in range(40))
    [words] = english_of([" and ".join(f"f{i}" for i in range(40)) + "!bool"], facts)
    assert words.startswith("all of the following hold: (a) ")
    assert words.count("all of the following") == 1 and "either" not in words


@pytest.mark.parametrize(("expr", "words"), [
    ("(a or b) and c!bool", ("all of the following hold: (a) either there has been a notice "
                             "or there has been a cure; and (b) there has been a waiver")),
    ("a or (b and c)!bool", ("at least one of the following holds: (a) there has been a "
                             "notice; or (b) there has been a cure and there has been a waiver")),
    ("a and b and c!bool", ("all of the following hold: (a) there has been a notice; (b) "
                            "there has been a cure; and (c) there has been a waiver")),
    ("a and not (b or c)!bool", ("all of the following hold: (a) there has been a notice; "
                                 "and (b) there has been no cure and there has been no waiver")),
    ("(a unless b) and c!bool", ("all of the following hold: (a) there has been a notice, "
                                 "unless there has been a cure; and (b) there has been a waiver")),
    ("a unless (b unless c)!bool", ("there has been a notice, unless (there has been a cure, "
                                    "unless there has been a waiver)")),
    ("(a and b) unless c!bool", ("there has been a notice and there has been a cure, unless "
                                 "there has been a waiver")),
    ("a unless (b and c)!bool", ("there has been a notice, unless there has been a cure and "
                                 "there has been a waiver")),
    ("not (a unless (b or c))!bool", ("at least one of the following holds: (a) there has been "
                                      "no notice; or (b) either there has been a cure or there "
                                      "has been a waiver")),
])
def test_grouping_of_propositions(expr, words):
    facts = 'fact a "a notice": bool default false\nfact b "a cure": bool default false\n' \
        'fact c "a waiver": bool default false\n'
    assert english_of([expr], facts) == [words]


# Arithmetic trees: ("name", i), ("neg", t) or (op, left, right). Integers (the exponents
# of ^) are their own trees, as the checker wants them.
def _arithmetic(integer: bool) -> st.SearchStrategy[tuple]:
    leaf = st.just(("int",) if integer else ("dec",))
    ops = ["+", "-", "*"] if integer else ["+", "-", "*", "/"]

    def extend(inner: st.SearchStrategy[tuple]) -> st.SearchStrategy[tuple]:
        options = [inner.map(lambda t: ("neg", t)),
                   st.tuples(st.sampled_from(ops), inner, inner)]
        if not integer:
            options.append(st.tuples(st.just("^"), inner, _arithmetic(True)))
        return st.one_of(*options)

    return st.recursive(leaf, extend, max_leaves=8 if integer else 12)


def read_back(words: str) -> tuple:
    """The tree of the English, read as a reader reads it: left to right, "times" and
    "divided by" before "plus" and "minus", a leading "minus" before those, "to the power
    of" before all, parentheses first."""
    tokens = re.findall(r"\(|\)|to the power of|divided by|the [A-Z][a-z]+|[a-z]+", words)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, (expected, token, words)
        position += 1
        return token

    def expr() -> tuple:
        tree = term()
        while peek() in ("plus", "minus"):
            op = {"plus": "+", "minus": "-"}[take()]
            tree = (op, tree, term())
        return tree

    def term() -> tuple:
        tree = unary()
        while peek() in ("times", "divided by"):
            op = {"times": "*", "divided by": "/"}[take()]
            tree = (op, tree, unary())
        return tree

    def unary() -> tuple:
        if peek() == "minus":
            take()
            return ("neg", unary())
        return power()

    def power() -> tuple:
        base = atom()
        if peek() == "to the power of":
            take()
            return ("^", base, atom())
        return base

    def atom() -> tuple:
        if peek() == "(":
            take("(")
            inside = expr()
            take(")")
            return inside
        return ("name", take().removeprefix("the "))

    tree = expr()
    assert position == len(tokens), (tokens[position:], words)
    return tree


GROUPING = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@GROUPING
@given(st.lists(_arithmetic(False), min_size=1, max_size=8))
def test_english_arithmetic_reads_back_to_its_tree(trees):
    """Read back, the words of any expression give its tree again: no two groupings
    read the same, and none reads as another."""
    facts = "".join(f'fact {n.lower()} "{n}": decimal default 1\n' for n in GREEK[:13]) + \
        "".join(f'fact {n.lower()} "{n}": integer default 2\n' for n in GREEK[13:])
    sources = [_typed_source(tree) for tree in trees]
    words = english_of([s for s, _ in sources], facts)
    for (source, expected), said in zip(sources, words):
        assert read_back(said) == _sums_left(expected), (source, said)


def _sums_left(tree: tuple) -> tuple:
    """`tree` with every sum inside a sum grouped to the left: addition is associative,
    and the English reads a + (b + c) as the one sum a plus b plus c."""
    if tree[0] == "name":
        return tree
    tree = (tree[0], *(_sums_left(t) for t in tree[1:]))
    while tree[0] == "+" and tree[2][0] == "+":
        tree = ("+", _sums_left(("+", tree[1], tree[2][1])), tree[2][2])
    return tree


def _typed_source(tree: tuple) -> tuple[str, tuple]:
    """Clause source of a tree, every operand in parentheses, and the tree with the terms
    of its leaves: decimals named in order from Alpha, integers from November."""
    counters = {"dec": 0, "int": 13}

    def walk(t: tuple) -> tuple[str, tuple]:
        if t[0] in ("dec", "int"):
            name = GREEK[counters[t[0]]]
            counters[t[0]] += 1
            return name.lower(), ("name", name)
        if t[0] == "neg":
            inner, named = walk(t[1])
            return f"-({inner})", ("neg", named)
        left, lnamed = walk(t[1])
        right, rnamed = walk(t[2])
        return f"({left}) {t[0]} ({right})", (t[0], lnamed, rnamed)

    return walk(tree)


def _rotations(tree: tuple) -> list[tuple]:
    """Every tree one rotation away: (A o B) p C <-> A o (B p C), anywhere in `tree`."""
    out = []
    if tree[0] in ("and", "or", "unless"):
        left, right = tree[1], tree[2]
        if left[0] in ("and", "or", "unless"):
            out.append((left[0], left[1], (tree[0], left[2], right)))
        if right[0] in ("and", "or", "unless"):
            out.append((right[0], (tree[0], left, right[1]), right[2]))
        out += [(tree[0], r, right) for r in _rotations(left)]
        out += [(tree[0], left, r) for r in _rotations(right)]
    elif tree[0] == "not":
        out += [("not", r) for r in _rotations(tree[1])]
    return out


def _propositions() -> st.SearchStrategy[tuple]:
    return st.recursive(
        st.sampled_from([("atom", n) for n in "abcdefgh"]),
        lambda inner: st.one_of(inner.map(lambda t: ("not", t)),
                                st.tuples(st.sampled_from(["and", "or", "unless"]), inner,
                                          inner)),
        max_leaves=6)


def _clause(tree: tuple) -> str:
    if tree[0] == "atom":
        return tree[1]
    if tree[0] == "not":
        return f"not ({_clause(tree[1])})"
    return f"({_clause(tree[1])}) {tree[0]} ({_clause(tree[2])})"


def _holds(tree: tuple, world: dict[str, bool]) -> bool:
    if tree[0] == "atom":
        return world[tree[1]]
    if tree[0] == "not":
        return not _holds(tree[1], world)
    a, b = _holds(tree[1], world), _holds(tree[2], world)
    return {"and": a and b, "or": a or b, "unless": a and not b}[tree[0]]


@GROUPING
@given(_propositions())
def test_propositions_that_read_the_same_mean_the_same(tree):
    """Regrouped, a proposition reads differently unless it means the same ("A and B and
    C" reads the same however the `and`s nest)."""
    import itertools

    others = _rotations(tree)
    facts = "".join(f'fact {n} "a {word}": bool default false\n' for n, word in
                    zip("abcdefgh", ["notice", "cure", "waiver", "breach", "default",
                                     "consent", "filing", "payment"]))
    said = english_of([_clause(t) + "!bool" for t in [tree, *others]], facts)
    for other, words in zip(others, said[1:]):
        if words == said[0]:
            for values in itertools.product([False, True], repeat=8):
                world = dict(zip("abcdefgh", values))
                assert _holds(tree, world) == _holds(other, world), (said[0], other)


# =============================================================================
# Random programs: every construct renders, well-formed, in every format
# =============================================================================

# Terms and words with characters that Markdown and HTML would read as markup.
NASTY = ["<b>bold</b> & co", "*starred* _under_", "a | pipe", "# hash", "`tick` [link](x)"]
FACT_BLOCK = """
fact flag "a notice of {n0}": bool default false "Whether {n1} was given."
fact other: bool default false
fact event_on "the announcement of {n2}": date optional
fact later_on: date optional
fact price "the price": money default $100
fact rate: percent default 10%
fact count "the {n3} count": integer default 3
fact moment: datetime optional
fact memo "a memo": text default "x"
fact notice "the notice period": months default 2 months
"""
HEADER = """agreement gen "Generated {n4} Agreement" {{
  dated March 30, 2004
  effective 2004-04-01
  governing law "the State of {n0}"
  party buyer "Buyer": "Buyer {n1} LLC"
  party seller "Seller"
  time zone America/New_York "New York City time"
}}
"""


def _leaf(kind: str) -> st.SearchStrategy[str]:
    return st.sampled_from({
        "bool": ["flag", "other", "true", "event_on is given", "later_on is not given",
                 "price is at least $50", "rate < 15%", "count == 3", "count is not 4",
                 "event_on is before March 1, 2004", "moment is given", 'memo is "x"',
                 "moment is after close of business on 2004-03-30",
                 "price is more than $1,000.50", "event_on is on or after 2004-01-02"],
        "money": ["$1,800,000", "price", "$.01", "USD 5", "round(price / 3, 2)"],
        "date": ["March 30, 2004", "2004-01-02", "event_on", "later_on"],
        "integer": ["count", "27_037_814", "year(2004-03-30)",
                    "days_between(2004-01-01, 2004-03-01)"],
    }[kind])


def _expr(kind: str, depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return _leaf(kind)
    b, sub = _expr("bool", depth - 1), _expr(kind, depth - 1)
    label = st.sampled_from(["", "(a) ", "(ii) ", "(B) ", "(3) "])
    combos: dict[str, list[st.SearchStrategy[str]]] = {
        "bool": [
            b.map(lambda x: f"not ( {x} )"),
            st.tuples(b, b).map(lambda p: f"( {p[0]} ) and ( {p[1]} )"),
            st.tuples(b, b, b).map(lambda p: f"( {p[0]} ) or ( {p[1]} ) or ( {p[2]} )"),
            st.tuples(b, b).map(lambda p: f"( {p[0]} ) unless ( {p[1]} )"),
            st.tuples(st.sampled_from(["all", "any", "none"]), label, b, b, b).map(
                lambda p: f"{p[0]} of [{p[1]}{p[2]}, {p[3]} when {p[4]},]"),
            st.tuples(b, b, b).map(lambda p: f"if {p[0]} then {p[1]} else {p[2]}"),
        ],
        "money": [
            st.tuples(sub, sub).map(lambda p: f"( {p[0]} ) + ( {p[1]} )"),
            sub.map(lambda x: f"( {x} ) * rate"), sub.map(lambda x: f"-( {x} )"),
            sub.map(lambda x: f"( {x} ) * 2 - $1"),
            st.tuples(st.sampled_from(["lesser", "greater", "sum"]), sub, sub, b).map(
                lambda p: f"{p[0]} of [(i) {p[1]}, (ii) {p[2]} when {p[3]}]"),
            st.tuples(b, sub, sub).map(lambda p: f"if {p[0]} then {p[1]} else {p[2]}"),
        ],
        "date": [
            sub.map(lambda x: f"10 days after ( {x} )"),
            sub.map(lambda x: f"2 business days before ( {x} )"),
            sub.map(lambda x: f"( {x} ) + 3 days"),
            sub.map(lambda x: f"3 months after ( {x} )"),
            sub.map(lambda x: f"( {x} ) - 1 year"),
            sub.map(lambda x: f"notice after ( {x} )"),
            sub.map(lambda x: f"2 business days in nyse before ( {x} )"),
            st.tuples(st.sampled_from(["earlier", "later"]), sub, sub, b).map(
                lambda p: f"{p[0]} of [{p[1]}, {p[2]} when {p[3]}]"),
        ],
        "integer": [
            sub.map(lambda x: f"( {x} ) * 2 + 1"),
            sub.map(lambda x: f"-( {x} )"),
        ],
    }
    return st.one_of(_leaf(kind), *combos[kind])


@st.composite
def declarations(draw: st.DrawFn, section: int) -> list[str]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        name = f"s{section}_{i}"
        term = draw(st.sampled_from(["", ' "Term {0}"', ' "the Rights have expired {0}"',
                                     ' "Qualified Offer {0}"', ' "{1} {0}"']))
        term = term.format(i, draw(st.sampled_from(NASTY)))
        kind = draw(st.sampled_from(["define", "condition", "obligation", "power",
                                     "exception"]))
        if kind == "define":
            type_ = draw(st.sampled_from(["money", "date", "integer"]))
            out.append(f"define {name}{term}: {type_} = {draw(_expr(type_, 2))}")
            if type_ == "money" and draw(st.booleans()):
                out.append(f"exception to {name} = $1 when {draw(_expr('bool', 1))}")
        elif kind == "condition":
            out.append(f"condition {name}{term} = {draw(_expr('bool', 3))}")
        elif kind == "obligation":
            holder = draw(st.sampled_from(["buyer", "either party", "seller and buyer jointly"]))
            action = draw(st.sampled_from(["pay", '"give notice of the <closing>"']))
            obj = draw(st.sampled_from(["", " " + draw(_expr("money", 1))]))
            to = draw(st.sampled_from(["", " to seller"]))
            deadline = draw(st.sampled_from([
                "", f" by {draw(_expr('date', 1))}", f" on {draw(_expr('date', 1))}",
                " within 2 business days after event_on", " within 10 days after 2004-01-01"]))
            when = draw(st.sampled_from(["", f" when {draw(_expr('bool', 2))}"]))
            out.append(f"obligation {name}{term}: {holder} must {action}{obj}{to}{deadline}"
                       f"{when}")
        elif kind == "power":
            holder = draw(st.sampled_from(["seller", "either party", "buyer and seller jointly"]))
            then = draw(st.sampled_from(["", " then buyer must pay $5 to seller by 2004-05-01",
                                         ' then seller must "return the deposit" to buyer']))
            out.append(f"power {name}{term}: {holder} may terminate when "
                       f"{draw(_expr('bool', 2))}{then}")
        else:
            out.append(f"define {name}_base: money = {draw(_expr('money', 1))}")
            out.append(f"exception {name} to {name}_base{term} = $0 when "
                       f"{draw(_expr('bool', 2))}")
    return out


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, str | None]:
    nasty = {f"n{i}": draw(st.sampled_from(NASTY)) for i in range(5)}
    parts = [HEADER.format(**nasty), FACT_BLOCK.format(**nasty)]
    count = draw(st.integers(1, 3))
    for n in range(1, count + 1):
        heading = draw(st.sampled_from(["", ' "Heading <i>&amp;</i>"', ' "Payment"']))
        body = "\n  ".join(draw(declarations(n)))
        words = draw(st.sampled_from(NASTY))
        parts.append(f'section {n}{heading} {{\n  text """\n    Words of section {n} with '
                     f'{words}. A second sentence.\n  """\n  {body}\n}}\n')
    parts.append('section 9 "Notices" {\n  text """All notices | in *writing*."""\n}\n')
    amendment = None
    if draw(st.booleans()):
        body = "\n  ".join(draw(declarations(7)))
        operations = [(f'replace section 9 "Notices" {{\n  text """Notices by <email> & '
                       f'post."""\n  {body}\n}}'),
                      'add section 10 "New" {\n  text """An *added* section."""\n}']
        if count > 1:
            operations.append(f"delete section {count}")
        amendment = ('amendment first "First Amendment" amends gen {\n  dated 2004-06-01\n'
                     '  effective 2004-06-01\n}\n\n' + "\n\n".join(operations) + "\n")
    return "\n".join(parts), amendment


PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(programs())
def test_every_construct_renders_well_formed_in_every_format(case):
    text, amendment = case
    source = SourceFile("gen.clause", text)
    others = [SourceFile("amendment.clause", amendment)] if amendment else []
    result = api.analyse(source, others)
    assert result.ok, "\n".join(d.render(result.sources) for d in result.diagnostics
                                if d.severity == "error")
    assert result.versions is not None
    dates = [None] + [v.effective for v, _ in result.versions[1:] if v is not None]
    for as_of in dates:
        for fmt in FORMATS:
            out = summarize.render(result, fmt, as_of)
            assert out.strip(), fmt
            assert out == summarize.render(result, fmt, as_of), "not deterministic"
            if fmt == "html":
                assert_html5(out)
                assert "<b>bold</b>" not in out  # user text is escaped
            elif fmt == "markdown":
                assert markdown_renders(out).strip()
                assert "<b>bold</b>" not in out
                table_widths_are_consistent(out)
        glossary = summarize.render(result, "text", as_of).split("Glossary")[1]
        _, checked = result.versions[summarize.version_at(result.versions, as_of)]
        for decl in checked.program.declarations:
            if isinstance(decl, ir.Definition) and decl.term:
                assert decl.term in " ".join(glossary.split())
    # Every provision explains in words, in every version, on the facts' defaults.
    module = api.module_from_source(api.generate(result), "gen.clause")
    facts = module.Facts()
    for version, (_, checked) in zip(module.VERSIONS, result.versions):
        for decl in checked.program.declarations:
            if isinstance(decl, (ir.Fact, ir.Exception_)):
                continue
            try:
                value = version.evaluate(decl.name, facts)
                tree = version.explain(decl.name, facts)
            except module.ClauseError:
                continue
            assert summarize.render_explanation(checked, version.label, decl.name, tree,
                                                value).strip()


# =============================================================================
# The command line
# =============================================================================


def test_summarize_writes_a_file(capsys, tmp_path):
    target = tmp_path / "out" / "ppa.html"
    code = main(["summarize", str(PATENT), "--format", "html", "-o", str(target)])
    out, err = capsys.readouterr()
    assert code == 0 and out == "" and f"wrote {target}" in err
    from clausec import summarize as with_verdicts  # the semantic diff's, as the command
    assert target.read_text(encoding="utf-8") == with_verdicts(analysed(PATENT), "html")
    assert not [p for p in target.parent.iterdir() if p.name != "ppa.html"]  # no temp left


def test_summarize_user_templates_override_by_name(capsys, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "summary.md.j2").write_text(textwrap.dedent("""\
        {% import "english.j2" as en with context %}
        # {{ summary.title }} ({{ summary.version }})
        {% for e in summary.glossary %}
        * {{ en.node(e.decl)|sentence }}
        {% endfor %}
        """), encoding="utf-8")
    out = summarize_cli(capsys, PATENT, "--templates", templates)
    assert out.startswith("# Patent Purchase Agreement (as amended on March 31, 2004)\n")
    assert "* “Deposit” means $900,000.00.\n" in out
    # english.j2 itself can be overridden: every format then speaks its words.
    (templates / "english.j2").write_text(
        (summarize.TEMPLATES / "english.j2").read_text(encoding="utf-8").replace(
            "all of the following hold:", "each of these is true:"), encoding="utf-8")
    out = summarize_cli(capsys, PATENT, "--templates", templates, "--format", "text")
    assert "are met when each of these is true: (a)" in " ".join(out.split())


def test_summarize_errors_are_messages(capsys, tmp_path):
    code = main(["summarize", str(PATENT), "--templates", str(tmp_path / "none")])
    assert code == 1 and "no such folder of templates" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.md.j2").write_text("{% if %}\n", encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(broken)])
    err = capsys.readouterr().err
    assert code == 1 and "summary.md.j2:1: template error" in err
    (broken / "summary.md.j2").write_text("{{ summary.no_such_field }}\n", encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(broken)])
    assert code == 1 and "no_such_field" in capsys.readouterr().err
    code = main(["summarize", str(tmp_path / "missing")])
    assert code == 1


def test_summarize_subprocess_from_another_directory(run_cli, tmp_path):
    result = run_cli("summarize", PATENT, "--format", "text", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("PATENT PURCHASE AGREEMENT\n")


def test_reworded_is_not_a_change_in_logic(capsys):
    """The what-changed table and the semantic diff share one meaning of "the same
    logic" (ir.visit.shape): the amendment rewrote the description of three facts
    (Section 11(a)(ii), 13(d)) without changing what the logic does with them."""
    text = summarize_cli(capsys, RIGHTS, "--format", "text")
    reworded = re.findall(r"\((\w+)\):\s+reworded", text)
    assert sorted(reworded) == ["acquired_pursuant_to_offer_for_all_shares",
                                "independent_directors_approved_offer",
                                "merger_with_qualified_offer_acquirer"]
    assert "(flip_in_event): changed" in text
