"""Amendments, behaviour by behaviour, on small inline agreements.

Every test writes an agreement (and its amendments) into tmp_path and compiles it with
`clausec.load(agreement, amendments)`, or analyses it with
`clausec.api.analyse(SourceFile.read(agreement), [SourceFile.read(amendment), ...])` to
look at the diagnostics and both of their positions. The seed contracts are covered by
test_seed_amendments.py; nothing here depends on them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from amending import write_agreement

import clausec
from clausec.api import analyse
from clausec.source import SourceFile

# The agreement most tests amend. Line numbers matter: the error tests point at them
# (see the LINE_* constants below, checked by test_line_constants).
AGREEMENT = '''\
agreement supply "Supply Agreement" {
  dated January 1, 2004
  party buyer "Buyer"
  party seller "Seller"
}

fact units: integer
fact approved: bool default false
fact qualified: bool default false

section 1(a) "Price" {
  text """
    "Price" means ten dollars per unit.
  """
  define unit_price "Price": integer = 10
}

section 1(b) "Cap" {
  text """
    "Cap" means one hundred units.
  """
  define cap "Cap": integer = 100
}

section 2 "Total" {
  text """
    "Total" means the Price times the number of units.
  """
  define total "Total": integer = unit_price * units
}

section 3.1 "Conditions" {
  text """
    The conditions to closing are met when the Buyer has approved the purchase.
  """
  condition conditions_met = approved
}

section 3.4 "Payment" {
  text """
    Buyer shall pay the Total at closing.
  """
  define payment: integer = total
  text """
    Payment is made by wire. Wire fees are shared.
  """
  text """
    Late payment bears a fee of five.
  """
  define late_fee: integer = 5
}

section 5 "Flip" {
  text """
    A flip event occurs if (i) units exceed the Cap, (ii) units are zero, or (iii) the Buyer has not approved. Nothing else is a flip event.
  """
  condition flip = units > cap or units == 0 or not approved
}

section 8.1 "Termination by consent" {
  text """
    The parties may terminate by mutual consent.
  """
  condition terminated_by_consent = approved and units == 0
}

section 8.2 "Termination for size" {
  text """
    Seller may terminate if units exceed twice the Cap.
  """
  condition terminated_by_size = units > 2 * cap
}

section 8.3 "Effect" {
  text """
    A terminated agreement has no further effect.
  """
}
'''

LINE_HEADER = 1
LINE_UNIT_PRICE = 15
LINE_SECTION_1B = 18
LINE_CAP = 22
LINE_TOTAL = 29          # total = unit_price * units
LINE_SECTION_3_4 = 39
LINE_SECTION_5 = 53
LINE_SECTION_5_TEXT = 54
LINE_FLIP = 57           # flip = units > cap or ...
LINE_TERMINATED_BY_SIZE = 71

SECTION_ORDER = ["1(a)", "1(b)", "2", "3.1", "3.4", "5", "8.1", "8.2", "8.3"]

TEXT_3_1 = "The conditions to closing are met when the Buyer has approved the purchase."
TEXT_3_4 = ("Buyer shall pay the Total at closing.\n\nPayment is made by wire. Wire fees are "
            "shared.\n\nLate payment bears a fee of five.")
TEXT_5 = ("A flip event occurs if (i) units exceed the Cap, (ii) units are zero, or (iii) the "
          "Buyer has not approved. Nothing else is a flip event.")

TITLE = "First Amendment"
EFFECTIVE = date(2004, 3, 1)
EVE = date(2004, 2, 29)
LABEL = "the First Amendment of March 1, 2004"
AS_AMENDED = "as amended on March 1, 2004"


def amendment(body: str = "", *, name: str = "first", title: str = TITLE,
              effective: str | None = "March 1, 2004", dated: str | None = None,
              amends: str = "supply", pad: int = 0) -> str:
    """An amendment's text: its header (lines 1-4 whatever the dates), then `pad` blank
    lines, then `body` (dedented) from line 5 + pad on."""
    header = [f'amendment {name} "{title}" amends {amends} {{']
    header.append(f"  dated {dated}" if dated else "  # not dated")
    header.append(f"  effective {effective}" if effective else "  # no effective date")
    header.append("}")
    return "\n".join(header) + "\n" + "\n" * pad + textwrap.dedent(body).lstrip("\n")


BODY_LINE = 5  # the first line of an amendment's body


def write(tmp_path: Path, agreement: str, *amendments: str) -> tuple[Path, list[Path]]:
    return write_agreement(tmp_path, "supply.clause", agreement, amendments)


def load(tmp_path: Path, *amendments: str, agreement: str = AGREEMENT) -> ModuleType:
    path, paths = write(tmp_path, agreement, *amendments)
    return clausec.load(path, paths)


def diagnose(tmp_path: Path, *amendments: str, agreement: str = AGREEMENT):
    """(result, agreement path, amendment paths) of analysing the files."""
    path, paths = write(tmp_path, agreement, *amendments)
    result = analyse(SourceFile.read(path), [SourceFile.read(p) for p in paths])
    return result, str(path), [str(p) for p in paths]


def errors(result) -> list:
    return [d for d in result.diagnostics if d.severity == "error"]


def only_error(result):
    found = errors(result)
    assert len(found) == 1, [d.message for d in found]
    assert result.versions is None
    return found[0]


def test_line_constants():
    lines = AGREEMENT.split("\n")
    assert lines[LINE_HEADER - 1].startswith("agreement supply")
    assert "define unit_price" in lines[LINE_UNIT_PRICE - 1]
    assert lines[LINE_SECTION_1B - 1].startswith("section 1(b)")
    assert "define cap" in lines[LINE_CAP - 1]
    assert "define total" in lines[LINE_TOTAL - 1]
    assert lines[LINE_SECTION_3_4 - 1].startswith("section 3.4")
    assert lines[LINE_SECTION_5 - 1].startswith("section 5")
    assert lines[LINE_SECTION_5_TEXT - 1].strip() == 'text """'
    assert "condition flip" in lines[LINE_FLIP - 1]
    assert "condition terminated_by_size" in lines[LINE_TERMINATED_BY_SIZE - 1]
    assert amendment("delete section 8.3").split("\n")[BODY_LINE - 1] == "delete section 8.3"


def test_the_agreement_alone_compiles(tmp_path):
    m = load(tmp_path)
    assert list(m.SECTIONS) == SECTION_ORDER
    assert m.SECTIONS["3.4"] == ("Payment", TEXT_3_4)
    assert m.SECTIONS["5"] == ("Flip", TEXT_5)
    facts = m.Facts(units=3, approved=True)
    assert m.total(facts) == 30
    assert m.at(date(2030, 1, 1)).total(facts) == 30


# ======================================================================== replace section


REPLACE_3_1 = amendment("""
    replace section 3.1 {
      text \"\"\"
        The conditions to closing are met when the Buyer has approved the purchase of more than five units.
      \"\"\"
      condition conditions_met = approved and units > 5
    }
""")
NEW_TEXT_3_1 = ("The conditions to closing are met when the Buyer has approved the purchase of "
                "more than five units.")


class TestReplaceSection:
    def test_new_logic_from_the_effective_date_old_before(self, tmp_path):
        m = load(tmp_path, REPLACE_3_1)
        facts = m.Facts(units=3, approved=True)
        assert m.at(EVE).conditions_met(facts) is True
        assert m.at(date(2003, 6, 1)).conditions_met(facts) is True  # before the agreement
        assert m.at(EFFECTIVE).conditions_met(facts) is False
        assert m.at(date(2010, 1, 1)).conditions_met(facts) is False
        assert m.at(datetime(2004, 3, 1, 9, 30)).conditions_met(facts) is False
        assert m.at(datetime(2004, 2, 29, 23, 59)).conditions_met(facts) is True
        # The module's top level is the latest version.
        assert m.conditions_met(facts) is False
        assert m.evaluate("conditions_met", facts) is False
        assert m.at(EVE).evaluate("conditions_met", facts) is True
        more = m.Facts(units=6, approved=True)
        assert m.conditions_met(more) is True
        # What the amendment leaves alone is the same in both versions.
        assert m.at(EVE).total(facts) == m.total(facts) == 30

    def test_versions(self, tmp_path):
        m = load(tmp_path, REPLACE_3_1)
        assert [v.label for v in m.VERSIONS] == ["original", AS_AMENDED]
        assert [v.effective for v in m.VERSIONS] == [None, EFFECTIVE]
        assert m.at(EVE) is m.VERSIONS[0]
        assert m.at(EFFECTIVE) is m.VERSIONS[1]

    def test_text_changes_heading_kept(self, tmp_path):
        m = load(tmp_path, REPLACE_3_1)
        assert m.SECTIONS["3.1"] == ("Conditions", NEW_TEXT_3_1)
        assert m.at(EFFECTIVE).sections["3.1"] == ("Conditions", NEW_TEXT_3_1)
        assert m.at(EVE).sections["3.1"] == ("Conditions", TEXT_3_1)
        assert list(m.SECTIONS) == SECTION_ORDER

    def test_heading_given(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace section 3.1 "Closing Conditions" {
              text \"\"\"
                The conditions are met.
              \"\"\"
              condition conditions_met = true
            }
        """))
        assert m.SECTIONS["3.1"] == ("Closing Conditions", "The conditions are met.")
        assert m.at(EVE).sections["3.1"] == ("Conditions", TEXT_3_1)
        assert m.conditions_met(m.Facts(units=0)) is True

    def test_explain_names_the_version_of_the_section(self, tmp_path):
        m = load(tmp_path, REPLACE_3_1)
        facts = m.Facts(units=3, approved=True)
        amended = str(m.at(EFFECTIVE).explain("conditions_met", facts))
        assert "Section 3.1, as amended on March 1, 2004" in amended
        # The root, the node that decides, names the amended section too.
        assert "Section 3.1, as amended on March 1, 2004" in amended.splitlines()[0]
        assert "Section 3.1, as amended on March 1, 2004" in str(m.explain("conditions_met",
                                                                           facts))
        original = str(m.at(EVE).explain("conditions_met", facts))
        assert "Section 3.1" in original
        assert "as amended" not in original

    def test_unchanged_section_is_labelled_plainly(self, tmp_path):
        m = load(tmp_path, REPLACE_3_1)
        facts = m.Facts(units=3, approved=True)
        text = str(m.at(EFFECTIVE).explain("total", facts))
        assert "Section 2" in text
        assert "as amended" not in text

    def test_explain_of_a_replaced_constant(self, tmp_path):
        # A definition whose expression is a literal: only the root can name the section.
        m = load(tmp_path, amendment("""
            replace section 1(a) {
              text \"\"\"
                "Price" means twelve dollars per unit.
              \"\"\"
              define unit_price "Price": integer = 12
            }
        """))
        facts = m.Facts(units=3)
        assert m.unit_price(facts) == 12 and m.total(facts) == 36
        assert m.at(EVE).unit_price(facts) == 10 and m.at(EVE).total(facts) == 30
        assert "Section 1(a), as amended on March 1, 2004" in str(m.explain("unit_price",
                                                                            facts))
        total = str(m.explain("total", facts))
        assert "Section 1(a), as amended on March 1, 2004" in total
        assert total.splitlines()[0].count("as amended") == 0  # Section 2 is not amended

    def test_replaced_section_may_drop_a_name(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace section 8.1 {
              text \"\"\"
                The parties may terminate by mutual written consent.
              \"\"\"
              condition terminated_by_written_consent = approved
            }
        """))
        facts = m.Facts(units=0, approved=True)
        assert m.terminated_by_written_consent(facts) is True
        with pytest.raises(m.NotInForceError, match="Section 8.1 was amended in its entirety"):
            m.terminated_by_consent(facts)
        assert m.at(EVE).terminated_by_consent(facts) is True
        with pytest.raises(m.NotInForceError, match="added by the First Amendment of March 1, "
                                                    "2004, effective March 1, 2004"):
            m.at(EVE).terminated_by_written_consent(facts)


# ================================================================================= delete


class TestDeleteSection:
    def test_deleted_function_raises_not_in_force(self, tmp_path):
        m = load(tmp_path, amendment("delete section 8.1"))
        facts = m.Facts(units=0, approved=True)
        with pytest.raises(m.NotInForceError) as info:
            m.terminated_by_consent(facts)
        assert isinstance(info.value, AttributeError)
        assert isinstance(info.value, m.ClauseError)
        message = str(info.value)
        assert "'terminated_by_consent'" in message
        assert TITLE in message and "March 1, 2004" in message
        assert "Section 8.1" in message
        assert not hasattr(m, "terminated_by_consent")
        with pytest.raises(m.NotInForceError):
            m.at(EFFECTIVE).terminated_by_consent  # noqa: B018 - the access is the test
        with pytest.raises(m.NotInForceError, match=TITLE):
            m.evaluate("terminated_by_consent", facts)
        with pytest.raises(m.NotInForceError, match=TITLE):
            m.explain("terminated_by_consent", facts)

    def test_before_the_date_it_is_there_and_works(self, tmp_path):
        m = load(tmp_path, amendment("delete section 8.1"))
        facts = m.Facts(units=0, approved=True)
        assert m.at(EVE).terminated_by_consent(facts) is True
        assert m.at(EVE).evaluate("terminated_by_consent", facts) is True
        assert m.at(EVE).sections["8.1"] == ("Termination by consent",
                                             "The parties may terminate by mutual consent.")

    def test_section_keeps_its_number_with_a_placeholder(self, tmp_path):
        m = load(tmp_path, amendment("delete section 8.1"))
        placeholder = f"[Deleted by {LABEL}]"
        assert placeholder == "[Deleted by the First Amendment of March 1, 2004]"
        assert list(m.SECTIONS) == SECTION_ORDER
        assert m.SECTIONS["8.1"][1] == placeholder
        assert m.at(EFFECTIVE).sections["8.1"][1] == placeholder
        assert list(m.at(EFFECTIVE).sections) == SECTION_ORDER

    def test_delete_sections_a_b_and_c(self, tmp_path):
        m = load(tmp_path, amendment("delete sections 8.1, 8.2 and 8.3"))
        facts = m.Facts(units=500, approved=True)
        for number in ("8.1", "8.2", "8.3"):
            assert m.SECTIONS[number][1] == f"[Deleted by {LABEL}]"
        assert list(m.SECTIONS) == SECTION_ORDER
        for name in ("terminated_by_consent", "terminated_by_size"):
            with pytest.raises(m.NotInForceError, match="effective March 1, 2004"):
                getattr(m, name)
            assert m.at(EVE).evaluate(name, facts) is (name == "terminated_by_size")
        changes = m.AMENDMENTS[0]["changes"]
        assert [(c["operation"], c["section"]) for c in changes] == [
            ("delete", "8.1"), ("delete", "8.2"), ("delete", "8.3")]

    def test_delete_two_sections(self, tmp_path):
        m = load(tmp_path, amendment("delete sections 8.1 and 8.2"))
        assert m.SECTIONS["8.2"][1] == f"[Deleted by {LABEL}]"
        assert m.SECTIONS["8.3"][1] == "A terminated agreement has no further effect."

    def test_a_deleted_fact_is_not_in_force(self, tmp_path):
        agreement = AGREEMENT + textwrap.dedent('''
            section 9 "Bonus" {
              text """
                Bonus units count double.
              """
              fact bonus_units: integer
              define bonus: integer = 2 * bonus_units
            }
        ''')
        m = load(tmp_path, amendment("delete section 9"), agreement=agreement)
        facts = m.Facts(units=1, bonus_units=3)
        assert m.at(EVE).bonus(facts) == 6
        assert m.at(EVE).evaluate("bonus_units", facts) == 3
        with pytest.raises(m.NotInForceError, match="Section 9 was deleted"):
            m.bonus(facts)
        # In the original the fact is required: not given, the term says which is missing.
        with pytest.raises(m.MissingFactError):
            m.at(EVE).bonus(m.Facts(units=1))
        # The fact went with its section: asked for by name, it is not in force either.
        with pytest.raises(m.NotInForceError, match="Section 9 was deleted"):
            m.evaluate("bonus_units", facts)

    def test_top_level_attribute_of_a_deleted_term(self, tmp_path):
        m = load(tmp_path, amendment("delete section 8.2"))
        with pytest.raises(m.NotInForceError) as info:
            m.terminated_by_size  # noqa: B018 - the attribute access is the test
        assert "deleted by the First Amendment of March 1, 2004" in str(info.value)
        with pytest.raises(AttributeError):
            m.terminated_by_size  # noqa: B018 - NotInForceError is an AttributeError
        # A name that never existed is a plain AttributeError, not "not in force".
        with pytest.raises(AttributeError) as unknown:
            m.terminated_by_anything  # noqa: B018
        assert not isinstance(unknown.value, m.NotInForceError)


# ============================================================================== sentences


class TestSentences:
    def test_delete_the_first_sentence(self, tmp_path):
        m = load(tmp_path, amendment("delete the first sentence of section 3.4"))
        facts = m.Facts(units=3)
        assert m.SECTIONS["3.4"] == ("Payment", ("Payment is made by wire. Wire fees are "
                                                "shared.\n\nLate payment bears a fee of five."))
        with pytest.raises(m.NotInForceError, match="the first sentence of Section 3.4"):
            m.payment(facts)
        assert m.late_fee(facts) == 5
        assert m.at(EVE).payment(facts) == 30
        assert m.at(EVE).sections["3.4"] == ("Payment", TEXT_3_4)

    def test_replace_the_first_sentence(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace the first sentence of section 3.4 {
              text \"\"\"
                Buyer shall pay the Total plus one at closing.
              \"\"\"
              define payment: integer = total + 1
            }
        """))
        facts = m.Facts(units=3)
        assert m.payment(facts) == 31
        assert m.at(EVE).payment(facts) == 30
        assert m.late_fee(facts) == 5
        assert m.SECTIONS["3.4"][1] == ("Buyer shall pay the Total plus one at closing.\n\n"
                                        "Payment is made by wire. Wire fees are shared.\n\n"
                                        "Late payment bears a fee of five.")
        assert "Section 3.4, as amended on March 1, 2004" in str(m.explain("payment", facts))

    def test_replace_the_last_sentence(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace the last sentence of section 3.4 {
              text \"\"\"
                Late payment bears a fee of seven.
              \"\"\"
              define late_fee: integer = 7
            }
        """))
        facts = m.Facts(units=3)
        assert m.late_fee(facts) == 7
        assert m.at(EVE).late_fee(facts) == 5
        assert m.payment(facts) == 30
        assert m.SECTIONS["3.4"][1] == ("Buyer shall pay the Total at closing.\n\n"
                                        "Payment is made by wire. Wire fees are shared.\n\n"
                                        "Late payment bears a fee of seven.")

    def test_sentences_are_counted_across_text_blocks(self, tmp_path):
        # 3.4 has four sentences in three blocks: the third is the second of the second.
        m = load(tmp_path, amendment("delete the third sentence of section 3.4"))
        facts = m.Facts(units=3)
        assert m.SECTIONS["3.4"][1] == ("Buyer shall pay the Total at closing.\n\n"
                                        "Payment is made by wire.\n\n"
                                        "Late payment bears a fee of five.")
        assert m.payment(facts) == 30 and m.late_fee(facts) == 5

    def test_an_abbreviation_does_not_end_a_sentence(self, tmp_path):
        # Two sentences: "U.S." is an abbreviation, whatever the case of the next word.
        agreement = AGREEMENT + textwrap.dedent('''
            section 9 "Patents" {
              text """
                U.S. Patent No. 6,000,000 is assigned to the Buyer. The Seller keeps a license.
              """
            }
        ''')
        m = load(tmp_path, amendment("delete the second sentence of section 9"),
                 agreement=agreement)
        assert m.SECTIONS["9"][1] == "U.S. Patent No. 6,000,000 is assigned to the Buyer."

    def test_the_fourth_sentence_is_the_third_block(self, tmp_path):
        m = load(tmp_path, amendment("delete the fourth sentence of section 3.4"))
        assert m.SECTIONS["3.4"][1] == ("Buyer shall pay the Total at closing.\n\n"
                                        "Payment is made by wire. Wire fees are shared.")
        with pytest.raises(m.NotInForceError, match="fourth sentence of Section 3.4"):
            m.late_fee(m.Facts(units=3))

    def test_replace_a_sentence_in_a_block_without_logic(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace the second sentence of section 3.4 {
              text \"\"\"
                Payment is made by check.
              \"\"\"
            }
        """))
        assert m.SECTIONS["3.4"][1] == ("Buyer shall pay the Total at closing.\n\n"
                                        "Payment is made by check.\n\nWire fees are shared."
                                        "\n\nLate payment bears a fee of five.")
        facts = m.Facts(units=3)
        assert m.payment(facts) == 30 and m.late_fee(facts) == 5

    @pytest.mark.parametrize("operation", [
        "delete the second sentence of section 5",
        "delete the first sentence of section 5",
        'replace the first sentence of section 5 {\n  text """\n    Flip.\n  """\n}',
    ])
    def test_sentence_sharing_a_block_with_logic_is_refused(self, tmp_path, operation):
        result, agreement, (amended,) = diagnose(tmp_path, amendment(operation))
        error = only_error(result)
        assert "of Section 5 shares its text block" in error.message
        assert "with other sentences" in error.message
        assert "own text block" in (error.hint or "")
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (agreement, LINE_SECTION_5_TEXT)]


# ================================================================================= clause


class TestClause:
    CLAUSE_I = amendment("""
        replace clause (i) of the first sentence of section 5 {
          text \"\"\"
            (i) units exceed the Cap and the Buyer is not qualified,
          \"\"\"
          condition flip = (units > cap and not qualified) or units == 0 or not approved
        }
    """)

    def test_text_from_the_label_to_the_next_is_replaced(self, tmp_path):
        m = load(tmp_path, self.CLAUSE_I)
        assert m.SECTIONS["5"] == ("Flip", (
            "A flip event occurs if (i) units exceed the Cap and the Buyer is not qualified, "
            "(ii) units are zero, or (iii) the Buyer has not approved. Nothing else is a flip "
            "event."))
        assert m.at(EVE).sections["5"] == ("Flip", TEXT_5)

    def test_the_body_replaces_the_same_named_declaration(self, tmp_path):
        m = load(tmp_path, self.CLAUSE_I)
        qualified = m.Facts(units=150, approved=True, qualified=True)
        assert m.at(EVE).flip(qualified) is True
        assert m.flip(qualified) is False
        other = m.Facts(units=150, approved=True, qualified=False)
        assert m.flip(other) is True
        # The rest of the clause's logic is unchanged: (ii) and (iii).
        assert m.flip(m.Facts(units=0, approved=True, qualified=True)) is True
        assert m.flip(m.Facts(units=5, approved=False)) is True
        assert m.flip(m.Facts(units=5, approved=True)) is False
        assert "Section 5, as amended on March 1, 2004" in str(m.explain("flip", qualified))

    def test_clause_ii(self, tmp_path):
        m = load(tmp_path, amendment("""
            replace clause (ii) of the first sentence of section 5 {
              text \"\"\"
                (ii) units are zero and the Buyer is qualified, or
              \"\"\"
              condition flip = units > cap or (units == 0 and qualified) or not approved
            }
        """))
        assert m.SECTIONS["5"][1] == (
            "A flip event occurs if (i) units exceed the Cap, (ii) units are zero and the "
            "Buyer is qualified, or (iii) the Buyer has not approved. Nothing else is a flip "
            "event.")
        facts = m.Facts(units=0, approved=True)
        assert m.at(EVE).flip(facts) is True
        assert m.flip(facts) is False

    SMALL = '''\
agreement supply "Supply Agreement" {
  dated January 1, 2004
}

section 3 {
  text """
    %s
  """
}
'''
    REPLACE_A = amendment("""
        replace clause (a) of the first sentence of section 3 {
          text \"\"\"
            (a) pay in cash, and
          \"\"\"
        }
    """)

    def test_a_section_reference_before_the_clause_is_not_the_clause(self, tmp_path):
        # "Section 1(a)" is a reference, not clause (a) of the sentence.
        sentence = "Subject to Section 1(a), the Buyer shall (a) pay, and (b) take delivery."
        m = load(tmp_path, self.REPLACE_A, agreement=self.SMALL % sentence)
        assert m.SECTIONS["3"][1] == ("Subject to Section 1(a), the Buyer shall (a) pay in "
                                      "cash, and (b) take delivery.")

    def test_a_section_reference_inside_the_clause_does_not_end_it(self, tmp_path):
        # "Section 2(b)" inside clause (a) is not where clause (b) begins.
        sentence = ("The Buyer shall (a) pay as set out in Section 2(b), and (b) take "
                    "delivery.")
        m = load(tmp_path, self.REPLACE_A, agreement=self.SMALL % sentence)
        assert m.SECTIONS["3"][1] == "The Buyer shall (a) pay in cash, and (b) take delivery."

    def test_a_clause_the_sentence_does_not_have(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            replace clause (iv) of the first sentence of section 5 {
              text \"\"\"
                (iv) never.
              \"\"\"
            }
        """))
        error = only_error(result)
        assert "has no clause (iv)" in error.message
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert error.related and error.related[0].span.file == agreement


# ================================================================================= append


APPEND_1B = amendment("""
    append to section 1(b) {
      text \"\"\"
        Notwithstanding the foregoing, the Cap is fifty units for a qualified Buyer.
      \"\"\"
      exception cap_for_qualified to cap = 50 when qualified
      define reduced_cap: integer = 50
    }
""")


class TestAppend:
    def test_text_added_at_the_end(self, tmp_path):
        m = load(tmp_path, APPEND_1B)
        assert m.SECTIONS["1(b)"] == ("Cap", ('"Cap" means one hundred units.\n\n'
                                      "Notwithstanding the foregoing, the Cap is fifty units "
                                      "for a qualified Buyer."))
        assert m.at(EVE).sections["1(b)"] == ("Cap", '"Cap" means one hundred units.')

    def test_appended_exception_changes_the_term_from_the_effective_date(self, tmp_path):
        m = load(tmp_path, APPEND_1B)
        qualified = m.Facts(units=70, approved=True, qualified=True)
        assert m.cap(qualified) == 50
        assert m.at(EVE).cap(qualified) == 100
        assert m.cap(m.Facts(units=70, approved=True)) == 100
        # ... and everything that uses the term.
        assert m.flip(qualified) is True
        assert m.at(EVE).flip(qualified) is False
        assert m.terminated_by_size(m.Facts(units=101, qualified=True)) is True
        assert m.at(EVE).terminated_by_size(m.Facts(units=101, qualified=True)) is False
        explained = str(m.explain("cap", qualified))
        assert "exception cap_for_qualified" in explained
        assert "Section 1(b), as amended on March 1, 2004" in explained

    def test_new_declarations(self, tmp_path):
        m = load(tmp_path, APPEND_1B)
        facts = m.Facts(units=1)
        assert m.reduced_cap(facts) == 50
        with pytest.raises(m.NotInForceError) as info:
            m.at(EVE).reduced_cap(facts)
        assert str(info.value) == ("'reduced_cap' is not in force in the original agreement: "
                                   "it was added by the First Amendment of March 1, 2004, "
                                   "effective March 1, 2004")

    def test_append_to_a_section_without_logic(self, tmp_path):
        m = load(tmp_path, amendment("""
            append to section 8.3 {
              text \"\"\"
                Sections 3.4 and 5 survive termination.
              \"\"\"
            }
        """))
        assert m.SECTIONS["8.3"][1] == ("A terminated agreement has no further effect.\n\n"
                                        "Sections 3.4 and 5 survive termination.")


# ==================================================================================== add


ADD_1LL = amendment("""
    add section 1(ll) "Discount" {
      text \"\"\"
        "Discount" means two dollars per unit for a qualified Buyer.
      \"\"\"
      define discount "Discount": integer = if qualified then 2 * units else 0
    }
""")


class TestAdd:
    def test_placed_after_the_last_section_of_its_parent(self, tmp_path):
        m = load(tmp_path, ADD_1LL)
        assert list(m.SECTIONS) == ["1(a)", "1(b)", "1(ll)", "2", "3.1", "3.4", "5", "8.1",
                                    "8.2", "8.3"]
        assert m.SECTIONS["1(ll)"] == ("Discount", ('"Discount" means two dollars per unit '
                                                   "for a qualified Buyer."))
        assert list(m.at(EVE).sections) == SECTION_ORDER

    def test_exists_only_from_the_effective_date(self, tmp_path):
        m = load(tmp_path, ADD_1LL)
        facts = m.Facts(units=4, qualified=True)
        assert m.discount(facts) == 8
        assert m.at(EFFECTIVE).discount(facts) == 8
        with pytest.raises(m.NotInForceError) as info:
            m.at(EVE).discount(facts)
        assert isinstance(info.value, AttributeError)
        assert "added by the First Amendment of March 1, 2004, effective March 1, 2004" in \
            str(info.value)
        with pytest.raises(m.NotInForceError, match="added by"):
            m.at(EVE).evaluate("discount", facts)
        assert "Section 1(ll), as amended on March 1, 2004" in str(m.explain("discount", facts))

    @pytest.mark.parametrize(("number", "after"), [("3.5", "3.4"), ("8.4", "8.3"),
                                                   ("1(c)", "1(b)")])
    def test_numbered_sections(self, tmp_path, number, after):
        m = load(tmp_path, amendment(f"""
            add section {number} {{
              text \"\"\"
                New provision.
              \"\"\"
            }}
        """))
        numbers = list(m.SECTIONS)
        assert numbers.index(number) == numbers.index(after) + 1, numbers
        assert [n for n in numbers if n != number] == SECTION_ORDER

    def test_placed_among_the_agreements_sections_not_after_an_amendments_own(self, tmp_path):
        # No. 1's own Section 3.2 ("3.2 of the Amendment No. 1 ...") comes after the
        # agreement's sections; No. 2's new Section 3.5 of the agreement goes after 3.4.
        own = amendment("""
            section 3.2 "Own" {
              text \"\"\"
                The first amendment's own provision.
              \"\"\"
            }
        """, name="no_1", title="Amendment No. 1")
        added = amendment("""
            add section 3.5 {
              text \"\"\"
                New provision.
              \"\"\"
            }
        """, name="no_2", title="Amendment No. 2", effective="June 1, 2004")
        m = load(tmp_path, own, added)
        assert list(m.SECTIONS) == ["1(a)", "1(b)", "2", "3.1", "3.4", "3.5", "5", "8.1",
                                    "8.2", "8.3",
                                    "3.2 of the Amendment No. 1 of March 1, 2004"]

    def test_adding_an_existing_section(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            add section 3.1 {
              text \"\"\"
                Again.
              \"\"\"
            }
        """))
        error = only_error(result)
        assert "Section 3.1 already exists" in error.message
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert error.related[0].span.file == agreement


# ======================================================================= own provisions


OWN = amendment("""
    section 2 "Board Approval" {
      text \"\"\"
        "Board Approval" means the approval of a qualified Buyer.
      \"\"\"
      condition board_approval "Board Approval" = approved and qualified
    }

    define amendment_fee: integer = 3
""")


class TestOwnProvisions:
    def test_new_terms_in_force_from_the_effective_date(self, tmp_path):
        m = load(tmp_path, OWN)
        facts = m.Facts(units=1, approved=True, qualified=True)
        assert m.board_approval(facts) is True
        assert m.amendment_fee(facts) == 3
        for name in ("board_approval", "amendment_fee"):
            with pytest.raises(m.NotInForceError, match="added by the First Amendment"):
                m.at(EVE).evaluate(name, facts)

    def test_labelled_as_the_amendments_section(self, tmp_path):
        m = load(tmp_path, OWN)
        facts = m.Facts(units=1, approved=True, qualified=True)
        own = "2 of the First Amendment of March 1, 2004"
        assert m.SECTIONS[own] == ("Board Approval", ('"Board Approval" means the approval of '
                                                     "a qualified Buyer."))
        # Beside, not instead of, the agreement's own Section 2.
        assert m.SECTIONS["2"][1] == '"Total" means the Price times the number of units.'
        assert list(m.SECTIONS)[:len(SECTION_ORDER)] == SECTION_ORDER
        explained = str(m.explain("board_approval", facts))
        assert "Section 2 of the First Amendment of March 1, 2004" in explained

    def test_section_2_3_label(self, tmp_path):
        m = load(tmp_path, amendment("""
            section 2.3 {
              text \"\"\"
                The fee is three.
              \"\"\"
              define fee: integer = 3
            }
        """))
        assert "Section 2.3 of the First Amendment of March 1, 2004" in str(
            m.explain("fee", m.Facts(units=1)))
        assert "2.3 of the First Amendment of March 1, 2004" in m.SECTIONS


# ============================================================== several amendments


NO_1 = amendment("""
    replace section 3.1 {
      text \"\"\"
        The conditions are met when more than five units are approved.
      \"\"\"
      condition conditions_met = approved and units > 5
    }

    add section 1(ll) {
      text \"\"\"
        "Discount" means two.
      \"\"\"
      define discount: integer = 2
    }
""", name="no_1", title="Amendment No. 1", effective="2004-03-01")

NO_2 = amendment("""
    replace section 1(ll) {
      text \"\"\"
        "Discount" means three.
      \"\"\"
      define discount: integer = 3
    }

    append to section 3.1 {
      text \"\"\"
        A qualified Buyer needs no approval.
      \"\"\"
      exception qualified_needs_no_approval to conditions_met = true when qualified
    }
""", name="no_2", title="Amendment No. 2", effective="2004-06-01")

JUNE = date(2004, 6, 1)


class TestSeveralAmendments:
    def check_three_versions(self, m):
        assert [v.label for v in m.VERSIONS] == ["original", "as amended on March 1, 2004",
                                                 "as amended on June 1, 2004"]
        facts = m.Facts(units=3, approved=False, qualified=True)
        with pytest.raises(m.NotInForceError):
            m.at(EVE).discount(facts)
        assert m.at(EFFECTIVE).discount(facts) == 2
        assert m.at(date(2004, 5, 31)).discount(facts) == 2
        assert m.at(JUNE).discount(facts) == 3
        assert m.discount(facts) == 3
        assert m.at(EVE).conditions_met(facts) is False
        assert m.at(EFFECTIVE).conditions_met(facts) is False
        assert m.at(JUNE).conditions_met(facts) is True
        approved = m.Facts(units=3, approved=True)
        assert m.at(EVE).conditions_met(approved) is True
        assert m.at(EFFECTIVE).conditions_met(approved) is False
        assert m.conditions_met(approved) is False
        assert m.SECTIONS["3.1"][1] == ("The conditions are met when more than five units "
                                        "are approved.\n\nA qualified Buyer needs no "
                                        "approval.")
        assert m.at(EFFECTIVE).sections["3.1"][1] == ("The conditions are met when more than "
                                                      "five units are approved.")
        assert m.SECTIONS["1(ll)"][1] == '"Discount" means three.'
        assert "Section 3.1, as amended on June 1, 2004" in str(m.explain("conditions_met",
                                                                          facts))
        assert "Section 3.1, as amended on March 1, 2004" in str(
            m.at(EFFECTIVE).explain("conditions_met", facts))
        assert [a["name"] for a in m.AMENDMENTS] == ["no_1", "no_2"]

    def test_no_2_amends_what_no_1_added_and_replaced(self, tmp_path):
        self.check_three_versions(load(tmp_path, NO_1, NO_2))

    def test_given_out_of_order(self, tmp_path):
        self.check_three_versions(load(tmp_path, NO_2, NO_1))

    def test_an_amendment_effective_before_the_other_one(self, tmp_path):
        # Given after No. 1, effective before it: it applies first, and No. 1 replaces
        # what it appended.
        earlier = amendment("""
            append to section 3.1 {
              text \"\"\"
                Approval may be given by a qualified Buyer only.
              \"\"\"
              exception unqualified_approval to conditions_met = false when not qualified
            }

            delete section 8.2
        """, name="no_0", title="Side Letter", effective="2004-02-01")
        m = load(tmp_path, NO_1, earlier)
        assert [v.label for v in m.VERSIONS] == ["original", "as amended on February 1, 2004",
                                                 "as amended on March 1, 2004"]
        assert [a["name"] for a in m.AMENDMENTS] == ["no_0", "no_1"]
        facts = m.Facts(units=10, approved=True, qualified=False)
        assert m.at(date(2004, 1, 31)).conditions_met(facts) is True
        assert m.at(date(2004, 2, 1)).conditions_met(facts) is False
        assert m.at(EFFECTIVE).conditions_met(facts) is True  # No. 1 replaced all of 3.1
        assert m.SECTIONS["3.1"][1] == ("The conditions are met when more than five units "
                                        "are approved.")
        assert m.SECTIONS["8.2"][1] == "[Deleted by the Side Letter of February 1, 2004]"
        with pytest.raises(m.NotInForceError, match="Side Letter"):
            m.terminated_by_size(facts)
        with pytest.raises(m.NotInForceError, match="Section 3.1 was amended in its entirety"):
            m.evaluate("unqualified_approval", facts)

    def test_dated_but_not_effective(self, tmp_path):
        m = load(tmp_path, amendment("delete section 8.3", effective=None,
                                     dated="April 15, 2004"))
        assert m.VERSIONS[1].effective == date(2004, 4, 15)
        assert m.at(date(2004, 4, 14)).sections["8.3"][1].startswith("A terminated")
        assert m.SECTIONS["8.3"][1] == "[Deleted by the First Amendment of April 15, 2004]"

    def test_same_effective_date_in_the_order_they_are_dated(self, tmp_path):
        later = amendment("delete section 8.1", name="later", title="Second Amendment",
                          dated="February 20, 2004")
        earlier = amendment("delete section 8.2", name="earlier", dated="February 10, 2004")
        m = load(tmp_path, later, earlier)
        assert [a["name"] for a in m.AMENDMENTS] == ["earlier", "later"]
        assert [v.effective for v in m.VERSIONS] == [None, EFFECTIVE, EFFECTIVE]
        # Both in force from the date: the last version has both deletions.
        assert m.at(EFFECTIVE) is m.VERSIONS[-1]
        assert m.SECTIONS["8.1"][1] == "[Deleted by the Second Amendment of February 20, 2004]"
        assert m.SECTIONS["8.2"][1] == "[Deleted by the First Amendment of February 10, 2004]"

    def test_same_date_different_provisions(self, tmp_path):
        a = amendment("delete section 8.1", name="a")
        b = amendment("delete section 8.2", name="b", title="Second Amendment")
        m = load(tmp_path, a, b)
        assert len(m.VERSIONS) == 3
        facts = m.Facts(units=500)
        for name in ("terminated_by_consent", "terminated_by_size"):
            with pytest.raises(m.NotInForceError):
                m.evaluate(name, facts)


# ============================================================================ AMENDMENTS


def test_amendments_redline(tmp_path):
    m = load(tmp_path, amendment("""
        replace section 3.1 {
          text \"\"\"
            The conditions are met.
          \"\"\"
          condition conditions_met = true
        }

        delete section 8.1

        delete the first sentence of section 3.4

        append to section 8.3 {
          text \"\"\"
            It ends.
          \"\"\"
        }

        add section 1(c) "Fee" {
          text \"\"\"
            The fee is one.
          \"\"\"
          define fee: integer = 1
        }
    """, dated="February 20, 2004"), NO_2.replace("1(ll)", "1(c)").replace("effective 2004-06-01",
                                                                           "effective June 1, 2004"))
    assert len(m.AMENDMENTS) == 2
    first, second = m.AMENDMENTS
    assert {k: first[k] for k in ("name", "title", "dated", "effective")} == {
        "name": "first", "title": TITLE, "dated": "2004-02-20", "effective": "2004-03-01"}
    changes = [(c["operation"], c["section"], c["description"], c["before"], c["after"])
               for c in first["changes"]]
    assert changes == [
        ("replace", "3.1", "Section 3.1 is amended in its entirety", TEXT_3_1,
         "The conditions are met."),
        ("delete", "8.1", "Section 8.1 is deleted",
         "The parties may terminate by mutual consent.", ""),
        ("delete", "3.4", "The first sentence of Section 3.4 is deleted", TEXT_3_4,
         ("Payment is made by wire. Wire fees are shared.\n\nLate payment bears a fee of "
         "five.")),
        ("append", "8.3", "text added at the end of Section 8.3",
         "A terminated agreement has no further effect.",
         "A terminated agreement has no further effect.\n\nIt ends."),
        ("add", "1(c)", "Section 1(c) is added", "", "The fee is one."),
    ]
    assert second["name"] == "no_2" and second["effective"] == "2004-06-01"
    assert [(c["operation"], c["section"], c["before"]) for c in second["changes"]] == [
        ("replace", "1(c)", "The fee is one."),
        ("append", "3.1", "The conditions are met."),
    ]
    assert m.VERSIONS[1].effective == EFFECTIVE


def test_no_amendments_no_redline(tmp_path):
    m = load(tmp_path)
    assert m.AMENDMENTS == ()
    assert len(m.VERSIONS) == 1


def test_an_amendment_with_no_operations(tmp_path):
    m = load(tmp_path, amendment(""))
    assert len(m.VERSIONS) == 2
    assert m.AMENDMENTS[0]["changes"] == ()
    facts = m.Facts(units=3, approved=True)
    assert m.at(EVE).total(facts) == m.total(facts) == 30
    assert m.SECTIONS == m.at(EVE).sections


# ===================================================================================== CLI
# Mostly in process (clausec.cli.main, fast); in a subprocess where the process boundary
# matters (the version label printed, no traceback on a user error).


def run_cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m clausec ARGS` in a subprocess, in this process's environment."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) if p else p
                                            for p in env["PYTHONPATH"].split(os.pathsep))
    return subprocess.run([sys.executable, "-m", "clausec", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def main(capsys, *args: object) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the command line run in this process."""
    from clausec.cli import main as cli_main

    capsys.readouterr()
    code = cli_main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def agreement_folder(tmp_path: Path, *amendments: str) -> Path:
    folder = tmp_path / "supply"
    folder.mkdir(parents=True)
    (folder / "supply_agreement.clause").write_text(AGREEMENT, encoding="utf-8")
    for i, text in enumerate(amendments, 1):
        (folder / f"amendment_no_{i}.clause").write_text(text, encoding="utf-8")
    return folder


class TestCommandLine:
    def test_eval_as_of(self, tmp_path):
        folder = agreement_folder(tmp_path, REPLACE_3_1)
        facts = tmp_path / "facts.json"
        facts.write_text('{"units": 3, "approved": true}', encoding="utf-8")
        before = run_cli("eval", folder, "conditions_met", "--facts", facts, "--as-of",
                         "2004-02-29", cwd=tmp_path)
        assert before.returncode == 0, before.stderr
        assert before.stdout.splitlines()[0] == "conditions_met = true"
        assert "original" in before.stdout
        assert "as amended" not in before.stdout
        on = run_cli("eval", folder, "conditions_met", "--facts", facts, "--as-of",
                     "2004-03-01", cwd=tmp_path)
        assert on.returncode == 0, on.stderr
        assert on.stdout.splitlines()[0] == "conditions_met = false"
        assert "as amended on March 1, 2004" in on.stdout

    def test_eval_without_as_of_is_the_latest_version(self, tmp_path, capsys):
        folder = agreement_folder(tmp_path, REPLACE_3_1)
        facts = tmp_path / "facts.json"
        facts.write_text('{"units": 3, "approved": true}', encoding="utf-8")
        code, now, err = main(capsys, "eval", folder, "conditions_met", "--facts", facts)
        assert code == 0, err
        code, on, err = main(capsys, "eval", folder, "conditions_met", "--facts", facts,
                             "--as-of", "2004-03-01")
        assert code == 0, err
        assert now == on
        assert now.splitlines()[0] == "conditions_met = false"
        assert "as amended on March 1, 2004" in now
        code, before, err = main(capsys, "eval", folder, "conditions_met", "--facts", facts,
                                 "--as-of", "2004-02-29")
        assert code == 0, err
        assert before.splitlines()[0] == "conditions_met = true"

    def test_eval_explain_and_not_in_force(self, tmp_path, capsys):
        folder = agreement_folder(tmp_path, REPLACE_3_1, amendment(
            "delete section 8.1", name="second", title="Second Amendment",
            effective="2004-06-01"))
        facts = tmp_path / "facts.json"
        facts.write_text('{"units": 0, "approved": true}', encoding="utf-8")
        code, out, err = main(capsys, "eval", folder, "conditions_met", "--facts", facts,
                              "--explain", "--as-of", "2004-03-15")
        assert code == 0, err
        assert "Section 3.1, as amended on March 1, 2004" in out
        code, out, err = main(capsys, "eval", folder, "terminated_by_consent", "--facts",
                              facts)
        assert code == 1
        assert "Second Amendment" in err and "June 1, 2004" in err
        code, out, err = main(capsys, "eval", folder, "terminated_by_consent", "--facts",
                              facts, "--as-of", "2004-05-31")
        assert code == 0, err
        assert out.splitlines()[0] == "terminated_by_consent = true"

    def test_compile_a_folder_one_module_per_agreement(self, tmp_path, capsys):
        folder = agreement_folder(tmp_path, REPLACE_3_1, ADD_1LL.replace(
            "amendment first", "amendment second").replace("March 1, 2004", "May 1, 2004"))
        other = tmp_path / "supply" / "other"
        other.mkdir()
        (other / "lease.clause").write_text(
            'agreement lease "Lease" {\n  dated 2004-01-01\n}\n\nsection 1 {\n'
            '  define rent: integer = 5\n}\n', encoding="utf-8")
        out = tmp_path / "build"
        code, _, err = main(capsys, "compile", folder, "-o", out)
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == ["lease.py", "supply_agreement.py"]
        spec = importlib.util.spec_from_file_location("supply_agreement_built",
                                                      out / "supply_agreement.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
            facts = module.Facts(units=3, approved=True, qualified=True)
            assert module.at(EVE).conditions_met(facts) is True
            assert module.conditions_met(facts) is False
            assert module.discount(facts) == 6
            with pytest.raises(module.NotInForceError):
                module.at(date(2004, 4, 30)).discount(facts)
            assert [a["name"] for a in module.AMENDMENTS] == ["first", "second"]
        finally:
            del sys.modules[spec.name]

    def test_check_an_amendment_alone_finds_its_agreement(self, tmp_path, capsys):
        folder = agreement_folder(tmp_path, REPLACE_3_1)
        code, _, err = main(capsys, "check", folder / "amendment_no_1.clause")
        assert code == 0, err
        assert "2 files checked, 0 errors" in err

    def test_check_an_amendment_alone_reports_its_errors(self, tmp_path, capsys):
        folder = agreement_folder(tmp_path, amendment("delete section 9"))
        code, _, err = main(capsys, "check", folder / "amendment_no_1.clause")
        assert code == 1
        assert "Section 9 is not in force on March 1, 2004" in err
        assert f"amendment_no_1.clause:{BODY_LINE}:" in err

    def test_amendment_whose_agreement_is_missing(self, tmp_path, capsys):
        lone = tmp_path / "lone"
        lone.mkdir()
        (lone / "first.clause").write_text(REPLACE_3_1, encoding="utf-8")
        done = run_cli("check", lone / "first.clause", cwd=tmp_path)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        assert "'supply'" in done.stderr, done.stderr
        for command in (["check", lone], ["compile", lone, "-o", tmp_path / "out"],
                        ["eval", lone / "first.clause", "conditions_met"]):
            code, _, err = main(capsys, *command)
            assert code == 1, (command, err)
            assert "internal error" not in err
            assert "'supply'" in err, err
        assert not (tmp_path / "out").exists()


# ================================================================================ errors


class TestErrors:
    def test_amending_a_section_that_does_not_exist(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            replace section 9 {
              text \"\"\"
                Nine.
              \"\"\"
            }
        """))
        error = only_error(result)
        assert error.message == ("Section 9 is not in force on March 1, 2004, so it cannot "
                                 "be amended")
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert error.related == ()

    @pytest.mark.parametrize("operation", [
        'replace section 8.1 {\n  text """\n    New.\n  """\n}',
        "delete the first sentence of section 8.1",
        'append to section 8.1 {\n  text """\n    More.\n  """\n}',
    ])
    def test_amending_a_section_deleted_by_an_earlier_amendment(self, tmp_path, operation):
        first = amendment("delete section 8.1", pad=2)
        second = amendment(operation, name="second", title="Second Amendment",
                           effective="June 1, 2004")
        result, _, (first_path, second_path) = diagnose(tmp_path, first, second)
        error = only_error(result)
        assert error.message == ("Section 8.1 is not in force on June 1, 2004, so it cannot "
                                 "be amended")
        assert (error.span.file, error.span.line) == (second_path, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (first_path, BODY_LINE + 2)]
        assert "deleted" in error.related[0].message

    def test_deleting_a_section_twice_in_one_amendment(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            delete section 8.2
            delete sections 8.1 and 8.2
        """))
        error = only_error(result)
        assert error.message == "Section 8.2 is deleted twice"
        assert (error.span.file, error.span.line) == (amended, BODY_LINE + 1)
        assert [(r.span.file, r.span.line) for r in error.related] == [(amended, BODY_LINE)]

    def test_deleting_a_section_twice_across_two_amendments(self, tmp_path):
        first = amendment("delete section 8.2")
        second = amendment("delete section 8.2", name="second", title="Second Amendment",
                           effective="June 1, 2004")
        result, _, (june_path, march_path) = diagnose(tmp_path, second, first)
        error = only_error(result)
        assert error.message == "Section 8.2 is deleted twice"
        # The amendment given first is effective later: it is the second deletion.
        assert (error.span.file, error.span.line) == (june_path, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (march_path, BODY_LINE)]

    def test_the_third_sentence_of_a_two_sentence_section(self, tmp_path):
        # Section 5's one text block holds two sentences.
        result, agreement, (amended,) = diagnose(tmp_path, amendment(
            "delete the third sentence of section 5"))
        error = only_error(result)
        assert error.message == ("the third sentence of Section 5 does not exist: Section 5 "
                                 "has 2 sentences")
        assert (error.span.file, error.span.line) == (amended, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (agreement, LINE_SECTION_5)]

    def test_the_fifth_sentence_of_a_four_sentence_section(self, tmp_path):
        result, agreement, _ = diagnose(tmp_path, amendment(
            'replace the fifth sentence of section 3.4 {\n  text """\n    Five.\n  """\n}'))
        error = only_error(result)
        assert "Section 3.4 has 4 sentences" in error.message
        assert error.related[0].span.file == agreement
        assert error.related[0].span.line == LINE_SECTION_3_4

    @pytest.mark.parametrize("second_op", [
        ('replace section 3.1 {\n  text """\n    Other.\n  """\n'
        "  condition conditions_met = false\n}"),
        "delete the first sentence of section 3.1",
        'append to section 3.1 {\n  text """\n    More.\n  """\n}',
    ])
    def test_two_amendments_change_one_provision_on_one_date(self, tmp_path, second_op):
        first = amendment(REPLACE_3_1.split("}\n", 1)[1], pad=1)
        second = amendment(second_op, name="second", title="Second Amendment")
        result, _, (first_path, second_path) = diagnose(tmp_path, first, second)
        error = only_error(result)
        assert error.message == ("two amendments effective on March 1, 2004 both change "
                                 "Section 3.1; which applies is not defined")
        assert (error.span.file, error.span.line) == (second_path, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (first_path, BODY_LINE + 1)]

    def test_a_name_left_dangling(self, tmp_path):
        # 1(b) defines the Cap, which Sections 5 and 8.2 still use.
        result, agreement, (amended,) = diagnose(tmp_path, amendment("delete section 1(b)"))
        found = errors(result)
        assert result.versions is None
        assert sorted((d.span.file, d.span.line) for d in found) == [
            (agreement, LINE_FLIP), (agreement, LINE_TERMINATED_BY_SIZE)]
        for error in found:
            assert error.message == ("'cap' is used here, but Section 1(b) was deleted by the "
                                     "First Amendment of March 1, 2004")
            assert [(r.span.file, r.span.line) for r in error.related] == [
                (amended, BODY_LINE)]

    def test_a_name_left_dangling_by_a_deleted_sentence(self, tmp_path):
        # 3.4's first sentence defines payment; an amendment's own provision uses it after
        # another amendment deleted it.
        first = amendment("delete the first sentence of section 3.4")
        second = amendment("""
            define double_payment: integer = 2 * payment
        """, name="second", title="Second Amendment", effective="June 1, 2004")
        result, _, (first_path, second_path) = diagnose(tmp_path, first, second)
        error = only_error(result)
        assert error.message.startswith("'payment' is used here, but the first sentence of "
                                        "Section 3.4 was deleted by the First Amendment")
        assert (error.span.file, error.span.line) == (second_path, BODY_LINE)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (first_path, BODY_LINE)]

    def test_an_exception_left_without_its_term(self, tmp_path):
        # An exception in a section the amendment leaves alone uses the term it overrides:
        # deleting the term's section leaves it dangling like any other use.
        agreement = AGREEMENT + textwrap.dedent('''
            section 9 "Small orders" {
              text """
                Notwithstanding Section 1(b), the Cap is zero when no units are ordered.
              """
              exception cap_for_no_units to cap = 0 when units == 0
            }
        ''')
        line = agreement.split("\n").index("  exception cap_for_no_units to cap = 0 when "
                                            "units == 0") + 1
        result, agreement_path, (amended,) = diagnose(tmp_path, amendment(
            "delete section 1(b)"), agreement=agreement)
        assert result.versions is None
        found = [d for d in errors(result) if d.span.line == line]
        assert len(found) == 1, [(d.span.line, d.message) for d in errors(result)]
        error = found[0]
        assert error.span.file == agreement_path
        assert "'cap'" in error.message
        assert "Section 1(b) was deleted by the First Amendment of March 1, 2004" in \
            error.message
        assert [(r.span.file, r.span.line) for r in error.related] == [(amended, BODY_LINE)]

    def test_a_type_change_that_breaks_a_user(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            replace section 1(a) {
              text \"\"\"
                The Price is whether the Buyer is qualified.
              \"\"\"
              define unit_price "Price": bool = qualified
            }
        """))
        error = only_error(result)
        assert "integer" in error.message and "bool" in error.message
        assert "'unit_price'" in error.message and "'total'" in error.message
        assert (error.span.file, error.span.line) == (agreement, LINE_TOTAL)
        assert [(r.span.file, r.span.line) for r in error.related] == [
            (amended, BODY_LINE + 4)]

    def test_amending_a_different_agreement(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("delete section 8.3",
                                                                     amends="lease"))
        error = only_error(result)
        assert error.message == "this amendment amends 'lease', but the agreement is 'supply'"
        assert (error.span.file, error.span.line) == (amended, 1)
        assert [(r.span.file, r.span.line) for r in error.related] == [(agreement,
                                                                        LINE_HEADER)]

    def test_an_amendment_without_a_date(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("delete section 8.3",
                                                             effective=None))
        error = only_error(result)
        assert error.message == "an amendment needs an effective date"
        assert (error.span.file, error.span.line) == (amended, 1)

    def test_operations_in_the_agreement(self, tmp_path):
        result, agreement, _ = diagnose(tmp_path, agreement=AGREEMENT + "\ndelete section 8.3\n")
        error = only_error(result)
        assert "only an amendment can replace, delete, append to or add" in error.message
        lines = AGREEMENT.count("\n") + 2
        assert (error.span.file, error.span.line) == (agreement, lines)

    def test_operations_in_a_file_without_a_header(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, "\ndelete section 8.3\n")
        error = only_error(result)
        assert "only an amendment can replace, delete, append to or add" in error.message
        assert (error.span.file, error.span.line) == (amended, 2)

    def test_an_agreement_given_as_an_amendment(self, tmp_path):
        # Neither applied nor ignored silently: the file is not an amendment.
        other = AGREEMENT.replace("agreement supply", "agreement supply_copy").replace(
            "= 10", "= 11")
        result, _, (given,) = diagnose(tmp_path, other)
        assert result.versions is None, "a non-amendment given as an amendment was ignored"
        assert any(d.span.file == given for d in errors(result))

    def test_an_amendment_given_as_the_agreement(self, tmp_path):
        result, agreement, _ = diagnose(tmp_path, amendment("delete section 8.3"),
                                        agreement=amendment("delete section 8.2",
                                                            name="zero"))
        error = only_error(result)
        assert "no 'agreement' header" in error.message
        assert error.span.file == agreement

    def test_an_amendment_alone(self, tmp_path):
        path = tmp_path / "alone.clause"
        path.write_text(REPLACE_3_1, encoding="utf-8")
        result = analyse(SourceFile.read(path))
        error = only_error(result)
        assert "'supply'" in error.message
        assert error.span.file == str(path)

    @pytest.mark.parametrize("body", [
        'section 9 {\n  text """\n    Nine.\n  """\n  define cap: integer = 3\n}',
        "\n\n\n\ndefine cap: integer = 3",
    ])
    def test_an_amendment_redeclaring_a_name_of_the_agreement(self, tmp_path, body):
        pad = 4 if body.startswith("\n") else 0
        result, agreement, (amended,) = diagnose(tmp_path, amendment(body, pad=pad))
        error = only_error(result)
        assert error.message == "'cap' is already declared by the agreement"
        assert (error.span.file, error.span.line) == (amended, BODY_LINE + 4)
        assert [(r.span.file, r.span.line) for r in error.related] == [(agreement, LINE_CAP)]

    def test_append_redeclaring_a_name_of_another_section(self, tmp_path):
        result, agreement, (amended,) = diagnose(tmp_path, amendment("""
            append to section 8.3 {
              text \"\"\"
                The Cap is three.
              \"\"\"
              define cap: integer = 3
            }
        """))
        error = only_error(result)
        assert "'cap'" in error.message
        assert (error.span.file, error.span.line) == (amended, BODY_LINE + 4)
        assert [(r.span.file, r.span.line) for r in error.related] == [(agreement, LINE_CAP)]

    def test_every_error_is_reported_in_one_run(self, tmp_path):
        result, _, (amended,) = diagnose(tmp_path, amendment("""
            delete section 9
            delete the ninth sentence of section 3.4
            replace section 10 {
              text \"\"\"
                Ten.
              \"\"\"
            }
        """))
        assert sorted(d.span.line for d in errors(result)) == [BODY_LINE, BODY_LINE + 1,
                                                                BODY_LINE + 2]
        assert all(d.span.file == amended for d in errors(result))
