"""Amendments that change words inside a provision, and articles, exhibits and schedules.

- `substitute "$100,000,000" for "$75,000,000" in section 1.01 { ... }`: the words change
  in the consolidated text (and the redline, `clausec diff`, the summaries), the logic by
  the body's declarations; quoted words not found, or found more than once, are errors
  that say where;
- `insert "; provided that ..." at the end of the first sentence of article VI { ... }`;
- `delete clause (b) of section 14.2` (and `replace clause (b) of section 14.2 { ... }`):
  a clause found by its label anywhere in a section;
- `article VI`, `exhibit C`, `schedule 1.01(c)`: parts with a section's body, cited
  "Article VI", "Exhibit C", "Schedule 1.01(c)" wherever a section is cited "Section 3.1".

The credit agreement of the README (tests/data/credit) is compiled as written there; the
other tests write small agreements into tmp_path, as test_amendments.py does.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from amending import program_of, write_agreement

import clausec
from clausec import api, cli
from clausec.analysis import semdiff
from clausec.backends.english import summaries
from clausec.source import SourceFile
from clausec.tools.formatter import format_text

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "tests" / "data" / "credit"
AGREEMENT_FILE = CREDIT / "credit_agreement.clause"
AMENDMENT_FILE = CREDIT / "leverage_amendment.clause"

EVE = date(2024, 6, 29)  # the day before the First Amendment takes effect
EFFECTIVE = date(2024, 6, 30)
AS_AMENDED = "as amended on June 28, 2024"  # amendments are labelled by their date


def credit() -> ModuleType:
    return clausec.load(AGREEMENT_FILE, [AMENDMENT_FILE])


def credit_result() -> api.Result:
    result = api.analyse(SourceFile.read(AGREEMENT_FILE), [SourceFile.read(AMENDMENT_FILE)])
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def facts(m: ModuleType, cash: int = 90_000_000) -> object:
    return m.Facts(consolidated_total_debt=500_000_000, unrestricted_cash=cash,
                   consolidated_ebitda=93_000_000)


# ================================================================ the credit agreement


class TestLeverageAmendment:
    def test_the_words_are_substituted_in_the_consolidated_text(self):
        m = credit()
        heading, text = m.SECTIONS["1.01"]
        assert heading == "Defined Terms"
        assert "not to exceed $100,000,000 to" in text
        assert "$75,000,000" not in text
        before = m.at(EVE).sections["1.01"][1]
        assert "not to exceed $75,000,000 to" in before
        # Only the quoted words change: the line breaks of the text block are kept.
        assert text == before.replace("$75,000,000", "$100,000,000")

    def test_the_bodys_definition_replaces_the_term_from_the_effective_date(self):
        m = credit()
        f = facts(m)
        assert m.at(EVE).cash_netting_cap(f) == Decimal(75000000)
        assert m.at(EFFECTIVE).cash_netting_cap(f) == Decimal(100000000)
        assert m.at(date(2025, 1, 1)).cash_netting_cap(f) == Decimal(100000000)
        assert m.cash_netting_cap(f) == Decimal(100000000)
        # ... and what uses it: $90,000,000 of cash nets in full only under the new cap.
        assert m.at(EVE).netted_cash(f) == Decimal(75000000)
        assert m.netted_cash(f) == Decimal(90000000)
        assert m.at(EVE).leverage_covenant_met(f) is False
        assert m.at(date(2024, 7, 1)).leverage_covenant_met(f) is True

    def test_the_proviso_is_inserted_before_the_full_stop_with_its_logic(self):
        m = credit()
        text = " ".join(m.SECTIONS["Article VI"][1].split())
        assert text.endswith("to exceed 4.50 to 1.00; provided that, for the four fiscal "
                             "quarters ending after a Material Acquisition, the Consolidated "
                             "Total Leverage Ratio shall not exceed 5.00 to 1.00.")
        assert "1.00." not in text.replace("5.00 to 1.00.", "")
        assert m.at(EVE).sections["Article VI"][1].endswith("to exceed 4.50 to 1.00.")
        stretched = m.Facts(consolidated_total_debt=460_000_000, unrestricted_cash=0,
                            consolidated_ebitda=100_000_000, material_acquisition=True)
        assert m.leverage_covenant_met(stretched) is True
        with pytest.raises(m.NotInForceError, match="added by the First Amendment"):
            m.at(EVE).evaluate("material_acquisition", stretched)

    def test_the_redline_of_the_compiled_module(self):
        m = credit()
        changes = m.AMENDMENTS[0]["changes"]
        assert [(c["operation"], c["section"]) for c in changes] == [
            ("substitute", "1.01"), ("insert_text", "Article VI")]
        assert changes[0]["description"] == (
            "Section 1.01 is amended by deleting “$75,000,000” and substituting "
            "“$100,000,000” in lieu thereof")
        assert changes[1]["description"].startswith(
            "The first sentence of Article VI is amended by inserting “; provided that,")
        assert changes[1]["description"].endswith("” at the end thereof")

    def test_explanations_cite_the_article_and_the_amended_section(self):
        m = credit()
        explained = str(m.explain("leverage_covenant_met", facts(m)))
        first = explained.splitlines()[0]
        assert f"[Article VI, {AS_AMENDED}, leverage_amendment.clause:" in first
        assert f"Section 1.01, {AS_AMENDED}" in explained
        assert "Section Article" not in explained
        original = str(m.at(EVE).explain("leverage_covenant_met", facts(m)))
        # As the README quotes them.
        assert "[Article VI, credit_agreement.clause:34]" in original.splitlines()[0]
        assert f"[Article VI, {AS_AMENDED}, leverage_amendment.clause:18]" in first
        # A docstring of the generated module names the article too.
        assert "Article VI" in (m.leverage_covenant_met.__doc__ or "")

    def test_the_summary_shows_the_substituted_words_and_cites_the_article(self):
        text = summaries.render(credit_result(), "text")
        flat = " ".join(text.split())
        assert "Article VI" in flat and "Section Article" not in flat
        # The redline: the section's consolidated text, the figures struck and inserted.
        assert "in an aggregate amount not to exceed [-$75,000,000-] {+$100,000,000+} to " \
            "(b) Consolidated EBITDA" in flat
        assert "* Section 1.01 is amended by deleting “$75,000,000” and substituting " \
            "“$100,000,000” in lieu thereof." in flat
        assert "Article VI — Negative Covenants" in flat
        assert "“cash netting cap”: $100,000,000.00 (Section 1.01, as amended on June 28, " \
            "2024)" in flat
        markdown = summaries.render(credit_result(), "markdown")
        assert "<del>$75,000,000</del>" in markdown and "<ins>$100,000,000</ins>" in markdown

    def test_semdiff_redline_strikes_and_inserts_the_figures(self):
        result = credit_result()
        words = [w for v, _ in result.versions[1:] for w in semdiff.version_reworded(v)]
        first = words[0]
        assert (first.section, first.operation) == ("Section 1.01", "substitute")
        assert first.redline == (
            ("…date in an aggregate amount not to exceed [-$75,000,000-] {+$100,000,000+} to "
             "(b) Consolidated EBITDA for the period of…"),)
        proviso = words[1].redline[0]
        assert proviso.startswith("…any fiscal quarter to exceed 4.50 to 1.00{+; provided "
                                  "that, for the four fiscal quarters")
        assert proviso.endswith("shall not exceed 5.00 to 1.00+}.")

    def test_clausec_diff_shows_the_redline(self, capsys):
        pytest.importorskip("z3")
        pytest.importorskip("hypothesis")
        code = cli.main(["diff", str(CREDIT), "--examples", "50", "--format", "json"])
        out = capsys.readouterr().out
        assert code == 0
        comparison, = json.loads(out)["comparisons"]
        words = comparison["words"]
        assert words[0]["section"] == "Section 1.01"
        assert "[-$75,000,000-] {+$100,000,000+}" in words[0]["redline"][0]
        results = {r["name"]: r for r in comparison["results"]}
        assert results["cash_netting_cap"]["verdict"] == "differs"
        assert results["cash_netting_cap"]["section_after"] == f"Section 1.01, {AS_AMENDED}"
        assert results["leverage_covenant_met"]["section_after"] == f"Article VI, {AS_AMENDED}"
        code = cli.main(["diff", str(CREDIT), "--examples", "50"])
        text = capsys.readouterr().out
        assert "Words (struck [-like this-], inserted {+like this+}):" in text
        assert "[-$75,000,000-] {+$100,000,000+}" in text

    def test_two_drafts_are_compared_section_by_section(self, tmp_path, capsys):
        pytest.importorskip("z3")
        pytest.importorskip("hypothesis")
        old, new = tmp_path / "draft1.clause", tmp_path / "draft2.clause"
        old.write_text(AGREEMENT, encoding="utf-8")
        new.write_text(AGREEMENT.replace("$75,000,000", "$80,000,000"), encoding="utf-8")
        code = cli.main(["diff", str(old), str(new), "--examples", "50", "--format", "json"])
        assert code == 0
        comparison, = json.loads(capsys.readouterr().out)["comparisons"]
        assert comparison["words"] == [{
            "section": "Section 1.01", "operation": "changed",
            "description": "Section 1.01 is changed",
            "redline": ['"Threshold Amount" means [-$75,000,000-] {+$80,000,000+}.']}]

    def test_the_example_files_are_in_the_canonical_layout(self):
        for path in (AGREEMENT_FILE, AMENDMENT_FILE):
            text = path.read_text(encoding="utf-8")
            assert format_text(text, path.name) == text, path.name

    def test_the_readme_shows_the_example_as_compiled(self):
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        section = readme[readme.index("#### Changing words inside a provision"):]
        section = section[:section.index("\n### ", 1)]
        body = AMENDMENT_FILE.read_text(encoding="utf-8").split("}\n", 1)[1].strip()
        assert body in section
        assert 'substitute "$100,000,000" for "$75,000,000" in section 1.01 {' in section
        assert "#### Articles, exhibits and schedules" in readme


# ====================================================================== small agreements

AGREEMENT = '''\
agreement loan "Loan Agreement" {
  dated January 2, 2024
  party borrower "Borrower"
  party lender "Lender"
}

fact debt: money
fact payments_missed: integer default 0
fact insolvent: bool default false
fact schedule: date optional
fact article: integer default 0

section 1.01 "Defined Terms" {
  text """
    "Threshold Amount" means $75,000,000.
  """
  define threshold "Threshold Amount": money = $75,000,000
  text """
    "Cure Period" means 10 days. The Borrower shall deliver notice within the Cure Period.
  """
  define cure_days: integer = 10
}

section 14.2 "Events of Default" {
  text """
    Each of the following is an Event of Default: (a) a payment is missed, (b) the
    Borrower is insolvent, or (c) Debt exceeds the Threshold Amount.
  """
  condition event_of_default =
    payments_missed > 0 or insolvent or debt > threshold
}

article VI "Negative Covenants" {
  text """
    The Borrower shall not incur Debt in excess of the Threshold Amount.
  """
  condition debt_covenant_met "the Debt Covenant is met" = debt <= threshold
}

exhibit B "Form of Compliance Certificate" {
  text """
    The Compliance Certificate states the Debt as of the end of each fiscal quarter.
  """
  define certificate_due_days: integer = 45
}

schedule 1.01(c) "Amortization" {
  text """
    The Borrower shall repay 5% of the Loan each quarter.
  """
  define amortization_rate: percent = 5%
}
'''

LINE_SECTION_1_01 = 13
LINE_THRESHOLD = 17
LINE_SECTION_14_2 = 24
LINE_EXHIBIT_B = 40
BODY_LINE = 5  # the first line of an amendment's body


def amendment(body: str, *, name: str = "first", title: str = "First Amendment",
              effective: str = "July 1, 2024") -> str:
    header = (f'amendment {name} "{title}" amends loan {{\n  dated {effective}\n'
              f"  effective {effective}\n}}\n")
    return header + textwrap.dedent(body).lstrip("\n")


def write(tmp_path: Path, *amendments: str, agreement: str = AGREEMENT
          ) -> tuple[Path, list[Path]]:
    return write_agreement(tmp_path, "loan.clause", agreement, amendments)


def load(tmp_path: Path, *amendments: str) -> ModuleType:
    path, paths = write(tmp_path, *amendments)
    return clausec.load(path, paths)


def diagnose(tmp_path: Path, *amendments: str) -> tuple[api.Result, str, list[str]]:
    path, paths = write(tmp_path, *amendments)
    result = api.analyse(SourceFile.read(path), [SourceFile.read(p) for p in paths])
    return result, str(path), [str(p) for p in paths]


def errors(result: api.Result) -> list:
    return [d for d in result.diagnostics if d.severity == "error"]


def only_error(result: api.Result):
    found = errors(result)
    assert len(found) == 1, [d.message for d in found]
    assert result.versions is None
    return found[0]


OLD = date(2024, 6, 30)
NEW = date(2024, 7, 1)


def test_line_constants():
    lines = AGREEMENT.split("\n")
    assert lines[LINE_SECTION_1_01 - 1].startswith("section 1.01")
    assert "define threshold" in lines[LINE_THRESHOLD - 1]
    assert lines[LINE_SECTION_14_2 - 1].startswith("section 14.2")
    assert lines[LINE_EXHIBIT_B - 1].startswith("exhibit B")
    assert amendment("delete exhibit B").split("\n")[BODY_LINE - 1] == "delete exhibit B"


def test_keywords_remain_names_where_a_name_is_expected(tmp_path):
    # `fact schedule: date` and `fact article: integer` in the agreement above.
    m = load(tmp_path)
    f = m.Facts(debt=1, schedule=date(2024, 1, 1), article=3)
    assert m.evaluate("schedule", f) == date(2024, 1, 1)
    assert m.evaluate("article", f) == 3
    for word in ("substitute", "insert", "exhibit"):
        other = clausec.load(*write(tmp_path / word, agreement=AGREEMENT.replace(
            "fact article: integer default 0", f"fact {word}: integer default 0")))
        assert other.evaluate(word, other.Facts(debt=1)) == 0


# ================================================================================ substitute


class TestSubstitute:
    def test_in_a_section_with_the_logic_in_its_body(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "$100,000,000" for "$75,000,000" in section 1.01 {
              define threshold "Threshold Amount": money = $100,000,000
            }
        """))
        assert m.SECTIONS["1.01"][1].startswith('"Threshold Amount" means $100,000,000.')
        f = m.Facts(debt=90_000_000)
        assert m.at(OLD).threshold(f) == Decimal(75000000)
        assert m.at(NEW).threshold(f) == Decimal(100000000)
        assert m.at(OLD).debt_covenant_met(f) is False
        assert m.debt_covenant_met(f) is True
        assert m.at(OLD).event_of_default(f) is True and m.event_of_default(f) is False
        assert "Section 1.01, as amended on July 1, 2024" in str(m.explain("threshold", f))

    def test_in_a_sentence_only(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "30 days" for "10 days" in the second sentence of section 1.01 {
              define cure_days: integer = 30
            }
        """))
        assert '"Cure Period" means 30 days.' in m.SECTIONS["1.01"][1]
        assert m.cure_days(m.Facts(debt=1)) == 30
        assert m.at(OLD).cure_days(m.Facts(debt=1)) == 10

    def test_in_a_clause_of_a_section(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "is the subject of a bankruptcy petition" for "is insolvent"
              in clause (b) of section 14.2
        """))
        assert "(b) the\nBorrower is the subject of a bankruptcy petition, or (c)" in \
            m.SECTIONS["14.2"][1]

    def test_a_new_name_in_the_body_joins_the_section(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "$75,000,000 (or $90,000,000 while a Waiver is in effect)"
              for "$75,000,000" in the first sentence of section 1.01 {
              fact waiver: bool default false
              define threshold "Threshold Amount": money =
                if waiver then $90,000,000 else $75,000,000
            }
        """))
        assert m.threshold(m.Facts(debt=1, waiver=True)) == Decimal(90000000)
        assert m.threshold(m.Facts(debt=1)) == Decimal(75000000)
        with pytest.raises(m.NotInForceError, match="added by the First Amendment"):
            m.at(OLD).evaluate("waiver", m.Facts(debt=1))
        assert "Section 1.01, as amended" in str(m.explain("threshold", m.Facts(debt=1)))

    def test_words_spread_over_lines_are_found(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "the Borrower becomes insolvent" for "the Borrower is insolvent"
              in section 14.2
        """))
        assert "(b) the Borrower becomes insolvent, or" in m.SECTIONS["14.2"][1]

    def test_not_found_points_at_the_words_and_the_section(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            substitute "$100,000,000" for "$70,000,000" in section 1.01
        """))
        error = only_error(result)
        assert error.message == ("“$70,000,000” is not in Section 1.01 as in force on "
                                 "July 1, 2024")
        assert (error.span.file, error.span.line, error.span.column) == (
            amended, BODY_LINE, 31)
        assert error.hint and "did you mean “$75,000,000”?" in error.hint
        assert [(r.span.file, r.span.line, r.message) for r in error.related] == [
            (agreement, LINE_SECTION_1_01, "Section 1.01 is here")]

    def test_found_twice_names_both_places(self, tmp_path):
        # "means" stands in both text blocks of Section 1.01: its consolidated text is
        # '"Threshold Amount" means ...', a blank line, '"Cure Period" means ...'.
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            substitute "shall mean" for "means" in section 1.01
        """))
        error = only_error(result)
        assert error.message == (
            "“means” stands twice in Section 1.01, so which one to replace is not clear: "
            "line 1, column 20 of its text (“\"Threshold Amount\" means $75,000,000.”) and "
            "line 3, column 15 of its text (“\"Cure Period\" means 10 days. The Borrower "
            "shall…”)")
        assert error.hint == ("quote more of the words around the one to replace, so that "
                              "they stand once")
        assert (error.span.file, error.span.line, error.span.column) == (
            amended, BODY_LINE, 29)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (agreement, LINE_SECTION_1_01)]

    def test_found_twice_in_a_sentence_of_a_section_amended_before(self, tmp_path):
        # The second amendment quotes words the first one wrote: its text is the
        # consolidated one, and the section is where the first amendment put it.
        first = amendment("""
            substitute "$75,000,000 (or $75,000,000 if a Waiver is in effect)"
              for "$75,000,000" in section 1.01 {
              define threshold "Threshold Amount": money = $75,000,000
            }
        """)
        second = amendment("""
            substitute "$80,000,000" for "$75,000,000" in the first sentence of section 1.01
        """, name="second", title="Second Amendment", effective="August 1, 2024")
        result, _, (_, second_path) = diagnose(tmp_path, first, second)
        error = only_error(result)
        assert error.message.startswith(
            "“$75,000,000” stands twice in the first sentence of Section 1.01, so which one "
            "to replace is not clear: line 1, column 26 of its text")
        assert " and line 1, column 42 of its text (" in error.message
        assert (error.span.file, error.span.line) == (second_path, BODY_LINE)
        agreement = str(tmp_path / "loan.clause")
        assert [(r.span.file, r.span.line, r.message) for r in error.related] == [
            (agreement, LINE_SECTION_1_01, "Section 1.01, as amended on July 1, 2024, is here")]

    def test_the_error_on_the_command_line(self, tmp_path, capsys):
        path, (amended,) = write(tmp_path, amendment("""
            substitute "$100,000,000" for "$70,000,000" in section 1.01
        """))
        code = cli.main(["check", str(tmp_path)])
        err = capsys.readouterr().err
        assert code == 1
        assert f"{amended}:{BODY_LINE}:31: error: “$70,000,000” is not in Section 1.01" in err
        assert "^^^^^^^^^^^^^" in err  # under the quoted words
        assert "hint: did you mean “$75,000,000”?" in err
        assert f"{path}:{LINE_SECTION_1_01}:1: note: Section 1.01 is here" in err
        assert "Traceback" not in err

    def test_every_error_in_one_run(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            substitute "x" for "nowhere" in section 1.01
            substitute "x" for "means" in section 1.01
            substitute "x" for "y" in schedule 9.99
            substitute "x" for "y" in sections 1.01 and 14.2
            substitute "x" for "" in article VI
        """))
        assert sorted(d.span.line for d in errors(result)) == [BODY_LINE + i for i in range(5)]
        assert all(d.span.file == amended for d in errors(result))
        messages = [d.message for d in sorted(errors(result), key=lambda d: d.span.line)]
        assert messages[2] == ("Schedule 9.99 is not in force on July 1, 2024, so it cannot "
                               "be amended")
        assert messages[3] == "words are substituted in one section at a time"
        assert messages[4] == "the words to replace are empty"

    def test_a_figure_left_in_the_logic_is_a_warning(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            substitute "$100,000,000" for "$75,000,000" in section 1.01
        """))
        assert result.ok
        warning, = [d for d in result.diagnostics if d.code == "amendment"]
        assert warning.severity == "warning"
        assert warning.message == ("$75,000,000 is struck from Section 1.01, but 'threshold' "
                                   "still says $75,000,000")
        assert (warning.span.file, warning.span.line) == (amended, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in warning.related] == [
            (agreement, LINE_THRESHOLD)]

    def test_a_body_declaring_a_name_of_another_section(self, tmp_path):
        result, _, _ = diagnose(tmp_path, amendment("""
            substitute "$100,000,000" for "$75,000,000" in section 1.01 {
              define threshold "Threshold Amount": money = $100,000,000
              define amortization_rate: percent = 6%
            }
        """))
        error = only_error(result)
        assert error.message == ("'amortization_rate' belongs to Schedule 1.01(c), not to "
                                 "Section 1.01")

    def test_substituting_nothing_deletes_words(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "" for "as of the end of each fiscal quarter" in exhibit B
        """))
        assert m.SECTIONS["Exhibit B"][1] == "The Compliance Certificate states the Debt."
        change, = m.AMENDMENTS[0]["changes"]
        assert change["description"] == ("Exhibit B is amended by deleting “as of the end of "
                                         "each fiscal quarter”")

    def test_a_text_block_in_the_body_is_refused(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            substitute "$100,000,000" for "$75,000,000" in section 1.01 {
              text "The Threshold Amount is $100,000,000."
              define threshold "Threshold Amount": money = $100,000,000
            }
        """))
        error = only_error(result)
        assert error.message == ("a text block in the body of 'substitute' has no place: the "
                                 "words it adds are its quoted words")
        assert (error.span.file, error.span.line) == (amended, BODY_LINE + 1)

    def test_two_substitutions_in_one_section_in_one_amendment(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "$100,000,000" for "$75,000,000" in section 1.01 {
              define threshold "Threshold Amount": money = $100,000,000
            }
            substitute "15 days" for "10 days" in section 1.01 {
              define cure_days: integer = 15
            }
        """))
        text = m.SECTIONS["1.01"][1]
        assert "$100,000,000" in text and "15 days" in text
        assert (m.threshold(m.Facts(debt=1)), m.cure_days(m.Facts(debt=1))) == (
            Decimal(100000000), 15)


# ==================================================================================== insert


class TestInsert:
    def test_a_proviso_goes_before_the_full_stop(self, tmp_path):
        m = load(tmp_path, amendment("""
            insert "; provided that Debt owed to Affiliates is excluded"
              at the end of article VI {
              fact affiliate_debt: money default $0
              condition debt_covenant_met "the Debt Covenant is met" =
                debt - affiliate_debt <= threshold
            }
        """))
        assert m.SECTIONS["Article VI"][1] == (
            "The Borrower shall not incur Debt in excess of the Threshold Amount; provided "
            "that Debt owed to Affiliates is excluded.")
        f = m.Facts(debt=80_000_000, affiliate_debt=10_000_000)
        assert m.debt_covenant_met(f) is True and m.at(OLD).debt_covenant_met(f) is False

    def test_a_sentence_is_added_after_a_space(self, tmp_path):
        m = load(tmp_path, amendment("""
            insert "Notice may be given by email." at the end of the last sentence of
              section 1.01
        """))
        assert m.SECTIONS["1.01"][1].endswith(
            "The Borrower shall deliver notice within the Cure Period. Notice may be given "
            "by email.")

    def test_at_the_end_of_a_sentence_in_the_middle_of_a_block(self, tmp_path):
        m = load(tmp_path, amendment("""
            insert ", or 5 Business Days if the Lender agrees" at the end of the second
              sentence of section 1.01
        """))
        assert ('"Cure Period" means 10 days, or 5 Business Days if the Lender agrees. The '
                "Borrower shall deliver" in m.SECTIONS["1.01"][1])

    def test_at_the_end_of_a_clause(self, tmp_path):
        m = load(tmp_path, amendment("""
            insert " for more than 60 days" at the end of clause (b) of section 14.2
        """))
        assert "(b) the\nBorrower is insolvent for more than 60 days, or (c)" in \
            m.SECTIONS["14.2"][1]

    def test_redline_entry(self, tmp_path):
        m = load(tmp_path, amendment("""
            insert "; provided that Debt owed to Affiliates is excluded"
              at the end of article VI
        """))
        change, = m.AMENDMENTS[0]["changes"]
        assert change["operation"] == "insert_text"
        assert change["description"] == ("Article VI is amended by inserting “; provided that "
                                          "Debt owed to Affiliates is excluded” at the end "
                                          "thereof")


# ======================================================================= clauses by label


class TestClauseByLabel:
    def test_delete_a_middle_clause_with_the_logic_in_a_body(self, tmp_path):
        m = load(tmp_path, amendment("""
            delete clause (b) of section 14.2 {
              condition event_of_default = payments_missed > 0 or debt > threshold
            }
        """))
        assert m.SECTIONS["14.2"][1] == (
            "Each of the following is an Event of Default: (a) a payment is missed, (c) Debt "
            "exceeds the Threshold Amount.")
        f = m.Facts(debt=1, insolvent=True)
        assert m.at(OLD).event_of_default(f) is True and m.event_of_default(f) is False
        change, = m.AMENDMENTS[0]["changes"]
        assert (change["operation"], change["description"]) == (
            "delete", "Clause (b) of Section 14.2 is deleted")

    def test_delete_the_last_clause_keeps_the_full_stop(self, tmp_path):
        m = load(tmp_path, amendment("delete clause (c) of section 14.2"))
        assert m.SECTIONS["14.2"][1] == (
            "Each of the following is an Event of Default: (a) a payment is missed, (b) the\n"
            "Borrower is insolvent.")

    def test_delete_a_clause_of_a_named_sentence(self, tmp_path):
        m = load(tmp_path, amendment("delete clause (a) of the first sentence of section 14.2"))
        assert m.SECTIONS["14.2"][1].startswith(
            "Each of the following is an Event of Default: (b) the\nBorrower")

    def test_replace_a_clause_of_a_section(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace clause (b) of section 14.2 {
              text "(b) the Borrower is insolvent or admits in writing its inability to pay,"
              condition event_of_default = payments_missed > 0 or insolvent or debt > threshold
            }
        """))
        assert ("(b) the Borrower is insolvent or admits in writing its inability to pay, (c) "
                "Debt exceeds" in m.SECTIONS["14.2"][1])

    def test_a_label_that_is_not_there(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment(
            "delete clause (d) of section 14.2"))
        error = only_error(result)
        assert error.message == "clause (d) of Section 14.2: Section 14.2 has no clause (d)"
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (agreement, LINE_SECTION_14_2)]

    def test_a_label_that_stands_twice(self, tmp_path):
        agreement = AGREEMENT.replace(
            "Amount.\n  \"\"\"\n  condition event_of_default",
            "Amount. Notice is given (a) by mail or (b) by hand.\n  \"\"\"\n"
            "  condition event_of_default")
        path, (amended,) = write(tmp_path, amendment("delete clause (b) of section 14.2"),
                                 agreement=agreement)
        result = api.analyse(SourceFile.read(path), [SourceFile.read(amended)])
        error = only_error(result)
        first, second = clausec.load(path).SECTIONS["14.2"][1].split("\n")
        assert error.message == (
            "clause (b) of Section 14.2: the label (b) stands twice in Section 14.2: "
            f"line 1, column {first.index('(b)') + 1} of its text (“…(a) a payment is "
            "missed, (b) the Borrower is insolvent, or…”) and "
            f"line 2, column {second.index('(b)') + 1} of its text (“…is given (a) by mail "
            "or (b) by hand.”)")
        assert error.hint == ("name its sentence: clause (b) of the first sentence of "
                              "Section 14.2")

    def test_a_body_with_a_deleted_section_is_refused(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            delete section 1.01 {
              define threshold: money = $1
            }
        """))
        error = only_error(result)
        assert error.message == "deleting Section 1.01 takes no body"
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)


# ============================================================ articles, exhibits, schedules


class TestParts:
    def test_numbered_and_cited_as_the_contract_does(self, tmp_path):
        m = load(tmp_path)
        assert list(m.SECTIONS) == ["1.01", "14.2", "Article VI", "Exhibit B",
                                    "Schedule 1.01(c)"]
        f = m.Facts(debt=1)
        assert "[Exhibit B, loan.clause:" in str(m.explain("certificate_due_days", f))
        assert "[Schedule 1.01(c), loan.clause:" in str(m.explain("amortization_rate", f))
        assert "(Article VI)" in (m.debt_covenant_met.__doc__ or "") or \
            "Article VI" in (m.debt_covenant_met.__doc__ or "")

    def test_a_schedule_and_a_section_of_the_same_number(self, tmp_path):
        # Section 1.01 and Schedule 1.01(c) are different provisions; so are 1.01(c) and
        # Schedule 1.01(c).
        agreement = AGREEMENT + 'section 1.01(c) "Other" {\n  text "Other words."\n}\n'
        path, _ = write(tmp_path, agreement=agreement)
        m = clausec.load(path)
        assert m.SECTIONS["1.01(c)"][1] == "Other words."
        assert m.SECTIONS["Schedule 1.01(c)"][0] == "Amortization"

    def test_summary_cites_them(self, tmp_path):
        path, _ = write(tmp_path)
        result = api.analyse(SourceFile.read(path))
        text = " ".join(summaries.render(result, "text").split())
        for cited in ("Article VI", "Exhibit B", "Schedule 1.01(c)"):
            assert cited in text, cited
        assert "Section Article" not in text and "Section Schedule" not in text
        assert "Section Exhibit" not in text

    def test_replace_a_schedule_in_its_entirety(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace schedule 1.01(c) "Amortization" {
              text \"\"\"
                The Borrower shall repay 7.5% of the Loan each quarter.
              \"\"\"
              define amortization_rate: percent = 7.5%
            }
        """))
        f = m.Facts(debt=1)
        assert m.amortization_rate(f) == Decimal("0.075")
        assert m.at(OLD).amortization_rate(f) == Decimal("0.05")
        assert m.SECTIONS["Schedule 1.01(c)"] == (
            "Amortization", "The Borrower shall repay 7.5% of the Loan each quarter.")
        change, = m.AMENDMENTS[0]["changes"]
        assert change["description"] == "Schedule 1.01(c) is amended in its entirety"
        assert "[Schedule 1.01(c), as amended on July 1, 2024" in str(
            m.explain("amortization_rate", f))

    def test_delete_an_exhibit(self, tmp_path):
        m = load(tmp_path, amendment("delete exhibit B"))
        assert m.SECTIONS["Exhibit B"][1] == "[Deleted by the First Amendment of July 1, 2024]"
        with pytest.raises(m.NotInForceError, match="Exhibit B was deleted by the First "
                                                    "Amendment of July 1, 2024"):
            m.certificate_due_days(m.Facts(debt=1))
        assert m.at(OLD).certificate_due_days(m.Facts(debt=1)) == 45

    def test_add_a_schedule_after_the_last_one(self, tmp_path):
        m = load(tmp_path, amendment("""
            add schedule 2.01 "Commitments" {
              text "The Lender's Commitment is $10,000,000."
              define commitment: money = $10,000,000
            }
            add exhibit C "Form of Notice" {
              text "The form of a notice."
            }
            add article VII "Events of Default" {
              text "Article VII sets out the Events of Default."
            }
        """))
        assert list(m.SECTIONS) == ["1.01", "14.2", "Article VI", "Article VII", "Exhibit B",
                                    "Exhibit C", "Schedule 1.01(c)", "Schedule 2.01"]
        assert m.commitment(m.Facts(debt=1)) == Decimal(10000000)
        change = m.AMENDMENTS[0]["changes"][0]
        assert change["description"] == "Schedule 2.01 is added"

    def test_append_to_and_substitute_in_a_schedule(self, tmp_path):
        m = load(tmp_path, amendment("""
            substitute "6%" for "5%" in schedule 1.01(c) {
              define amortization_rate: percent = 6%
            }
            append to article VI {
              text "The Borrower shall not create Liens."
            }
        """))
        assert m.SECTIONS["Schedule 1.01(c)"][1] == (
            "The Borrower shall repay 6% of the Loan each quarter.")
        assert m.SECTIONS["Article VI"][1].endswith(
            "Threshold Amount.\n\nThe Borrower shall not create Liens.")

    def test_errors_cite_them(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            delete exhibit A
            replace article VII {
              text "Nothing."
            }
            add schedule 1.01(c) {
              text "Again."
            }
        """))
        assert all(d.span.file == amended for d in errors(result))
        messages = sorted((d.span.line, d.message) for d in errors(result))
        assert messages == [
            (BODY_LINE, "Exhibit A is not in force on July 1, 2024, so it cannot be amended"),
            (BODY_LINE + 1, ("Article VII is not in force on July 1, 2024, so it cannot be "
                             "amended")),
            (BODY_LINE + 4, "Schedule 1.01(c) already exists"),
        ]
        hints = {d.span.line: d.hint for d in errors(result)}
        assert hints[BODY_LINE + 1] == "did you mean 'Article VI'?"

    def test_declared_twice(self, tmp_path):
        agreement = AGREEMENT + 'exhibit B {\n  text "Again."\n}\n'
        path, _ = write(tmp_path, agreement=agreement)
        result = api.analyse(SourceFile.read(path))
        error = only_error(result)
        assert error.message == "Exhibit B is declared twice"
        assert [r.span.line for r in error.related] == [LINE_EXHIBIT_B]

    def test_an_amendments_own_article(self, tmp_path):
        m = load(tmp_path, amendment("""
            article II "Conditions to Effectiveness" {
              text "This Amendment is effective when signed."
              condition amendment_effective = true
            }
        """))
        own = "Article II of the First Amendment of July 1, 2024"
        assert m.SECTIONS[own][1] == "This Amendment is effective when signed."
        assert f"[{own}, amendment_1.clause:" in str(
            m.explain("amendment_effective", m.Facts(debt=1)))

    def test_a_missing_part_number_is_a_syntax_error(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment('article "Covenants" {\n}\n'))
        error, = errors(result)
        assert error.code == "syntax"
        assert (error.span.file, error.span.line, error.span.column) == (amended, BODY_LINE, 9)
        assert "a number such as VI, C or 1.01(c)" in error.message


# ========================================================================= the formatter


FORMAT_INPUT = '''\
amendment first "First" amends loan {
  effective July 1, 2024
}
substitute   "$100,000,000"  for "$75,000,000" in section 1.01 { define threshold: money = $100,000,000 }
substitute "x" for "y"   in the first sentence of schedule 1.01(c)
insert "; provided that X" at the end of the first sentence of article VI {
fact m: bool default false
condition c =
  m
}
insert """
    A long proviso.
  """ at end of section 2
delete clause (b) of section 14.2 {
    condition event_of_default = false }
delete exhibit B   # gone
replace schedule 1.01(c) "Amortization" {
  text "x"
}
add schedule 2.01 "S" { text "y" }
append to article VI { text "z" }
article II  "Own"  {   text "w" }
exhibit A-1 { }
'''

FORMAT_EXPECTED = '''\
amendment first "First" amends loan {
  effective July 1, 2024
}
substitute "$100,000,000" for "$75,000,000" in section 1.01 {
  define threshold: money = $100,000,000
}
substitute "x" for "y" in the first sentence of schedule 1.01(c)
insert "; provided that X" at the end of the first sentence of article VI {
  fact m: bool default false
  condition c =
    m
}
insert """
    A long proviso.
  """ at end of section 2
delete clause (b) of section 14.2 {
  condition event_of_default = false
}
delete exhibit B   # gone
replace schedule 1.01(c) "Amortization" {
  text "x"
}
add schedule 2.01 "S" {
  text "y"
}
append to article VI {
  text "z"
}
article II "Own" {
  text "w"
}
exhibit A-1 {}
'''


def test_formatter_lays_out_the_new_operations_and_parts():
    assert format_text(FORMAT_INPUT) == FORMAT_EXPECTED
    assert format_text(FORMAT_EXPECTED) == FORMAT_EXPECTED


def test_formatting_keeps_the_meaning_of_the_new_operations():
    before, after = program_of(FORMAT_INPUT), program_of(FORMAT_EXPECTED)
    assert before == after
    kinds = [(op.kind, op.target.kind, op.target.sections) for op in after.operations]
    assert kinds == [
        ("substitute", "section", ("1.01",)),
        ("substitute", "sentence", ("Schedule 1.01(c)",)),
        ("insert", "sentence", ("Article VI",)),
        ("insert", "section", ("2",)),
        ("delete", "clause", ("14.2",)),
        ("delete", "section", ("Exhibit B",)),
        ("replace", "section", ("Schedule 1.01(c)",)),
        ("add", "section", ("Schedule 2.01",)),
        ("append", "section", ("Article VI",)),
    ]
    assert after.operations[0].words == "$100,000,000"
    assert after.operations[0].old == "$75,000,000"
    assert after.operations[3].words == "A long proviso."
    assert after.operations[4].target.sentence is None
    assert [s.number for s in after.sections] == ["Article II", "Exhibit A-1"]
    assert [s.cite for s in after.sections] == ["Article II", "Exhibit A-1"]


# ================================================================== editors and the server


def test_textmate_scopes_of_the_new_keywords():
    from test_textmate import assert_scoped

    text = FORMAT_EXPECTED
    assert_scoped(text, "substitute \"x\"", "substitute", "keyword.other.operation.clause")
    assert_scoped(text, 'insert "; provided', "insert", "keyword.other.operation.clause")
    assert_scoped(text, "schedule 1.01(c)\n", "schedule", "storage.type.section.clause")
    assert_scoped(text, "schedule 1.01(c)\n", "1.01(c)", "constant.other.section.clause")
    assert_scoped(text, "of article VI {", "article", "storage.type.section.clause")
    assert_scoped(text, "of article VI {", "VI", "constant.other.section.clause")
    assert_scoped(text, "delete exhibit B", "exhibit", "storage.type.section.clause")
    assert_scoped(text, "exhibit A-1 {}", "A-1", "constant.other.section.clause")
    assert_scoped(text, "at the end of the first", "end of", "keyword.other")
    assert_scoped(text, "delete clause (b)", "(b)", "constant.other.label.clause")
    # A name is still a name where one is written.
    names = "fact schedule: date\ndefine x = 1\n"
    assert_scoped(names, "fact schedule", "schedule", "variable.other.fact.clause")


def test_language_server_outline_hover_and_highlighting(tmp_path):
    from clausec.tools.lsp import server
    from clausec.tools.lsp.workspace import Workspace

    agreement, (amended,) = write(tmp_path, amendment("""
        substitute "$100,000,000" for "$75,000,000" in section 1.01 {
          define threshold "Threshold Amount": money = $100,000,000
        }
        insert "; provided that X" at the end of article VI
        delete exhibit B
    """))
    ws = Workspace([tmp_path])
    ws.open(agreement, agreement.read_text(encoding="utf-8"))
    ws.open(amended, amended.read_text(encoding="utf-8"))
    outline = server.outline(ws, agreement)
    parts = [(s.name, s.kind, s.title) for s in outline if s.kind == "section"]
    assert parts == [("1.01", "section", "Defined Terms"),
                     ("14.2", "section", "Events of Default"),
                     ("Article VI", "section", "Negative Covenants"),
                     ("Exhibit B", "section", "Form of Compliance Certificate"),
                     ("Schedule 1.01(c)", "section", "Amortization")]
    article = next(s for s in outline if s.name == "Article VI")
    assert [c.name for c in article.children] == ["debt_covenant_met"]
    operations = [s.name for s in server.outline(ws, amended) if s.kind == "operation"]
    assert operations == ["substitute in section 1.01", "insert at the end of article VI",
                          "delete exhibit B"]
    substitute = next(s for s in server.outline(ws, amended) if s.kind == "operation")
    assert [c.name for c in substitute.children] == ["threshold"]
    lines = amended.read_text(encoding="utf-8").split("\n")
    # Hover on VI of `article VI` in the amendment: the agreement's article, cited.
    line = next(i for i, text in enumerate(lines) if text.startswith("insert"))
    hover = server.hover(ws, amended, line, lines[line].index("VI") + 1)
    assert hover is not None and hover.startswith("**Article VI** — Negative Covenants")
    assert "The Borrower shall not incur Debt" in hover
    # ... and on a term declared in the article.
    text = agreement.read_text(encoding="utf-8").split("\n")
    line = next(i for i, t in enumerate(text) if "condition debt_covenant_met" in t)
    hover = server.hover(ws, agreement, line, text[line].index("debt_covenant_met") + 2)
    assert hover is not None and "*Article VI*" in hover and "Section Article" not in hover
    # Go to definition from `exhibit B` in the amendment to the agreement's exhibit.
    line = next(i for i, t in enumerate(lines) if t == "delete exhibit B")
    found = server.definition(ws, amended, line, len("delete exhibit B"))
    assert [(p.name, r.line) for p, r in found] == [(agreement.name, LINE_EXHIBIT_B - 1)]
    # The number of a part is highlighted as a section number is.
    data = server.semantic_tokens(ws, agreement)
    kinds = _decoded(data)
    line = LINE_EXHIBIT_B - 1
    assert (line, len("exhibit "), "namespace") in kinds
    assert (line, 0, "keyword") in kinds


def _decoded(data: list[int]) -> set[tuple[int, int, str]]:
    from clausec.tools.lsp.server import TOKEN_TYPES

    out = set()
    line = character = 0
    for i in range(0, len(data), 5):
        delta_line, delta_start, _, kind, _ = data[i:i + 5]
        line += delta_line
        character = delta_start if delta_line else character + delta_start
        out.add((line, character, TOKEN_TYPES[kind]))
    return out


def test_keywords_are_offered_by_completion(tmp_path):
    from clausec.front import parser

    assert {"substitute", "insert", "article", "exhibit", "schedule"} <= parser.keywords()
