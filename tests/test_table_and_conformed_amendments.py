"""Amendments to a table's rows (`replace row for 2025-06-30 of table step_down with |...|`,
`delete row 3 of table T`, `add row to table T [after|before row N] |...|`) and by a
conformed copy (`conform section 1.01 { text "... {--$75,000,000--}{++$100,000,000++} ..." }`),
through consolidation, the compiled module, the redline, `clausec diff`, the summaries, the
formatter, the language server and the TextMate grammar. The worked example is
docs/examples/leverage."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from amending import program_of, write_agreement
from hypothesis import given, settings
from hypothesis import strategies as st

import clausec
from clausec import api, cli, ir
from clausec.passes.consolidate import Marked, read_marks
from clausec.source import SourceFile
from clausec.tools.formatter import format_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "leverage"

AGREEMENT = '''\
agreement lic "Licence" {
  dated January 2, 2024
  party licensor "Licensor"
}

section 4 "Minimum Payments" {
  text """
    The Minimum Payment for each year is set out in the table below.
  """
  table minimum_payments "Minimum Payment Schedule" {
    | year: integer | amount: money |
    | 1              | $100          |
    | 2              | $200          |
    | 3              | $300          |
  }
  fact year "year": integer
  define minimum "Minimum Payment": money =
    sum of [r.amount for each r in minimum_payments when r.year == year]
  text """
    The Minimum Payment is due within 30 days after the end of each year.
  """
  define payment_days "payment period": integer = 30
}

section 5 "Reports" {
  text """
    Licensee shall report within 45 days.
  """
  define report_days: integer = 45
}
'''

OLD = date(2024, 6, 30)
NEW = date(2024, 7, 1)


def amendment(body: str, *, name: str = "first", title: str = "First Amendment",
              effective: str = "July 1, 2024") -> str:
    header = (f'amendment {name} "{title}" amends lic {{\n  dated {effective}\n'
              f"  effective {effective}\n}}\n")
    return header + textwrap.dedent(body).lstrip("\n")


def write(tmp_path: Path, *amendments: str) -> tuple[Path, list[Path]]:
    return write_agreement(tmp_path, "lic.clause", AGREEMENT, amendments)


def load(tmp_path: Path, *amendments: str) -> ModuleType:
    return clausec.load(*write(tmp_path, *amendments))


def diagnose(tmp_path: Path, *amendments: str) -> api.Result:
    path, paths = write(tmp_path, *amendments)
    return api.analyse(SourceFile.read(path), [SourceFile.read(p) for p in paths])


def messages(result: api.Result, severity: str = "error") -> list[str]:
    return [d.message for d in result.diagnostics if d.severity == severity]


def minimums(m: ModuleType, day: date) -> dict[int, Decimal]:
    version = m.at(day)
    return {y: version.minimum(m.Facts(year=y)) for y in range(7)}


# ============================================================================ table rows


class TestRows:
    def test_replace_delete_and_add_rows(self, tmp_path: Path) -> None:
        m = load(tmp_path, amendment("""
            replace row for 2 of table minimum_payments with | 2 | $250 |
            delete row 3 of table minimum_payments
            add row to table minimum_payments | 4 | $400 | | 5 | $500 |
            add row to table minimum_payments before row 1 | 0 | $50 |
        """))
        assert minimums(m, OLD) == {0: 0, 1: 100, 2: 200, 3: 300, 4: 0, 5: 0, 6: 0}
        assert minimums(m, NEW) == {0: 50, 1: 100, 2: 250, 3: 0, 4: 400, 5: 500, 6: 0}
        # The table itself, as the module gives it, in the order the amendment left it.
        rows = m.evaluate("minimum_payments", m.Facts(year=1))
        assert [(r["year"], r["amount"]) for r in rows] == [
            (0, 50), (1, 100), (2, 250), (4, 400), (5, 500)]
        assert [(r["year"], r["amount"]) for r in
                m.at(OLD).evaluate("minimum_payments", m.Facts(year=1))] == [
            (1, 100), (2, 200), (3, 300)]

    def test_a_row_is_added_after_a_row_named_by_its_first_cell(self, tmp_path: Path) -> None:
        m = load(tmp_path, amendment("""
            add row to table minimum_payments after row for 1
              | 10 | $1,000 |
              | 11 | $1,100 |
        """))
        rows = m.evaluate("minimum_payments", m.Facts(year=1))
        assert [r["year"] for r in rows] == [1, 10, 11, 2, 3]

    def test_rows_change_in_turn_across_amendments(self, tmp_path: Path) -> None:
        m = load(tmp_path,
                 amendment("replace row 2 of table minimum_payments with | 2 | $250 |\n"),
                 amendment("replace row for 2 of table minimum_payments with | 2 | $275 |\n",
                           name="second", title="Second Amendment", effective="July 1, 2025"))
        assert m.at(OLD).minimum(m.Facts(year=2)) == 200
        assert m.at(NEW).minimum(m.Facts(year=2)) == 250
        assert m.minimum(m.Facts(year=2)) == 275

    def test_the_redline_says_which_row_and_shows_its_cells(self, tmp_path: Path) -> None:
        m = load(tmp_path, amendment("""
            replace row for 2 of table minimum_payments with | 2 | $250 |
            delete row 3 of table minimum_payments
            add row to table minimum_payments after row 1 | 4 | $400 | | 5 | $500 |
        """))
        changes = m.AMENDMENTS[0]["changes"]
        assert [(c["operation"], c["section"], c["description"]) for c in changes] == [
            ("replace_row", "4", "The row for 2 of the Minimum Payment Schedule is replaced"),
            ("delete_row", "4", "Row 3 of the Minimum Payment Schedule is deleted"),
            ("add_row", "4", "Rows are added to the Minimum Payment Schedule, after row 1"),
        ]
        assert (changes[0]["before"], changes[0]["after"]) == ("| 2 | $200 |", "| 2 | $250 |")
        assert (changes[1]["before"], changes[1]["after"]) == ("| 3 | $300 |", "")
        assert changes[2]["after"] == "| 4 | $400 |\n\n| 5 | $500 |"
        # The section is cited as amended, though its words did not change.
        assert m.SECTIONS["4"] == m.at(OLD).sections["4"]
        assert m.explain("minimum", m.Facts(year=2)).section == "4, as amended on July 1, 2024"

    def test_clausec_diff_and_the_summary(self, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, amendment("""
            replace row for 2 of table minimum_payments with | 2 | $250 |
            delete row 3 of table minimum_payments
        """))
        assert cli.main(["diff", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "The row for 2 of the Minimum Payment Schedule is replaced.\n" \
               "    | 2 | [-$200-] {+$250+} |" in out
        assert "Row 3 of the Minimum Payment Schedule is deleted.\n    [-| 3 | $300 |-]" in out
        assert ("minimum_payments (table “Minimum Payment Schedule”, Section 4, as amended on "
                "July 1, 2024): differs: the row for 2 changed; the row for 3 deleted") in out
        summary = tmp_path / "summary.md"
        assert cli.main(["summarize", str(tmp_path), "-o", str(summary)]) == 0
        text = summary.read_text(encoding="utf-8")
        assert "**The row for 2 of the Minimum Payment Schedule is replaced.**" in text
        assert "> \\| 2 \\| <del>$200</del> <ins>$250</ins> \\|" in text
        # The table as amended, rows in order, and the amounts of the overview in that order.
        assert "| 1 | $100.00 |\n  | 2 | $250.00 |\n" in text
        assert "| “Minimum Payment Schedule” | $100.00, $250.00 |" in text
        assert "differs: the row for 2 changed; the row for 3 deleted" in text

    def test_errors_point_at_the_amendment_and_the_table(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment("""
            replace row for 7 of table minimum_payments with | 7 | $250 |
            delete row 9 of table minimum_payments
            add row to table minimum_paymnts | 4 | $400 |
            replace row 1 of table minimum_payments with | 1 | $400 | $5 |
            replace row 2 of table minimum_payments with | 2 | "x" |
            add row to table minimum_payments after row for 8 | 4 | $400 |
        """))
        found = [(d.span.file.rsplit("/", 1)[-1], d.span.line, d.message, d.hint)
                 for d in result.diagnostics if d.severity == "error"]
        assert found == [
            ("amendment_1.clause", 5, ("no row of 'minimum_payments' has 7 in its first column "
             "('year')"), "its rows are for 1, 2, 3"),
            ("amendment_1.clause", 6, ("row 9 of table minimum_payments does not exist: "
             "'minimum_payments' has 3 rows"), None),
            ("amendment_1.clause", 7, ("there is no table 'minimum_paymnts' in force on July 1, "
             "2024"), "did you mean 'minimum_payments'?"),
            ("amendment_1.clause", 8, "this row has 3 cells; 'minimum_payments' has 2 columns",
             None),
            ("amendment_1.clause", 9, "column 'amount' is money USD, not text", None),
            ("amendment_1.clause", 10, ("no row of 'minimum_payments' has 8 in its first column "
             "('year')"), "its rows are for 1, 2, 3"),
        ]
        related = next(d for d in result.diagnostics if "no row of" in d.message).related
        assert [r.message for r in related] == ["'minimum_payments' is here"]

    def test_a_key_that_stands_in_two_rows(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment("""
            add row to table minimum_payments | 2 | $999 |
        """), amendment("""
            delete row for 2 of table minimum_payments
        """, name="second", title="Second Amendment", effective="July 1, 2025"))
        (error,) = [d for d in result.diagnostics if d.severity == "error"]
        assert error.message == ("2 rows of 'minimum_payments' have 2 in their first column "
                                 "('year'), so which one is meant is not clear")
        assert error.hint == "name the row by its number"
        assert [r.message for r in error.related] == ["row 2", "row 4"]

    def test_a_table_of_a_deleted_section(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment("""
            delete section 4
            delete row 1 of table minimum_payments
        """))
        assert "there is no table 'minimum_payments' in force on July 1, 2024" in \
            messages(result)

    def test_two_amendments_of_one_date_both_changing_the_table(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment("delete row 1 of table minimum_payments\n"),
                          amendment("delete row 2 of table minimum_payments\n",
                                    name="other", title="Other Amendment"))
        assert any("both change Section 4" in m for m in messages(result))


def test_row_and_conform_remain_names(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "k.clause"
    path.write_text(textwrap.dedent('''\
        agreement k "K" {
          dated 2024-01-01
          party a "A"
        }
        section 1 {
          text "x"
          fact row: integer default 1
          fact conform: integer default 2
          define total = row + conform
        }
        test "names" {
          given { row = 3 }
          expect total = 5
        }
    '''), encoding="utf-8")
    assert cli.main(["test", str(path)]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out


# ======================================================================= conformed copy


def conform(words: str, body: str = "") -> str:
    return amendment(f'''
        conform section 4 {{
          text """
            {words}
          """{body}
          text """
            The Minimum Payment is due within 30 days after the end of each year.
          """
        }}
    ''')


RESTATED = '''  define payment_days "payment period": integer = 60\n'''
SIXTY_DAYS = '''\
conform section 4 {
  text """
    The Minimum Payment for each year is set out in the table below.
  """
  text """
    The Minimum Payment is due within {--30--}{++60++} days after the end of
    each year.
  """
''' + RESTATED + "}\n"


class TestConformedCopy:
    def test_the_copy_becomes_the_sections_words(self, tmp_path: Path) -> None:
        m = load(tmp_path, conform("The Minimum Payment for each {--year--}{++Contract Year++} "
                                   "is set out in the table {~~below~>in Exhibit A~~}."))
        text = " ".join(m.SECTIONS["4"][1].split())
        assert text.startswith("The Minimum Payment for each Contract Year is set out in "
                               "the table in Exhibit A. The Minimum Payment is due")
        before = " ".join(m.at(OLD).sections["4"][1].split())
        assert before.startswith("The Minimum Payment for each year is set out in the table "
                                 "below.")
        # The logic is unchanged where the body restates nothing.
        assert m.minimum(m.Facts(year=2)) == 200
        (change,) = m.AMENDMENTS[0]["changes"]
        assert change["operation"] == "conform"
        assert change["description"] == ("Section 4 is amended as shown in the conformed "
                                         "copy")

    def test_the_body_restates_the_logic_that_changes(self, tmp_path: Path) -> None:
        m = load(tmp_path, amendment(SIXTY_DAYS))
        assert m.at(OLD).payment_days(m.Facts(year=1)) == 30
        assert m.payment_days(m.Facts(year=1)) == 60

    def test_a_figure_struck_but_left_in_the_logic_is_a_warning(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment(SIXTY_DAYS.replace(RESTATED, "")))
        assert messages(result, "warning") == [
            "30 is struck from Section 4, but 'payment_days' still says 30"]

    def test_a_block_struck_whole_takes_its_logic(self, tmp_path: Path) -> None:
        m = load(tmp_path, amendment('''
            conform section 4 {
              text """
                The Minimum Payment for each year is set out in the table below.
              """
              text """
                {--The Minimum Payment is due within 30 days after the end of each year.--}
              """
              text "{++Each Minimum Payment is due on the last day of the year.++}"
            }
        '''))
        assert m.SECTIONS["4"][1].endswith("Each Minimum Payment is due on the last day of "
                                           "the year.")
        with pytest.raises(m.NotInForceError):
            m.evaluate("payment_days", m.Facts(year=1))
        assert m.at(OLD).payment_days(m.Facts(year=1)) == 30

    def test_a_copy_that_does_not_read_as_the_section(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, conform("The Minimum Payment for every {--year--}"
                                            "{++Contract Year++} is set out in the table "
                                            "below."))
        (error,) = [d for d in result.diagnostics if d.severity == "error"]
        assert error.message == (
            "the conformed copy does not read as Section 4 as in force on July 1, 2024: "
            "where the section reads “The Minimum Payment for each year is set out…”, the "
            "copy's struck reading is “The Minimum Payment for every year is set out…”")
        assert error.span.file.endswith("amendment_1.clause") and error.span.line == 6
        assert error.related[0].span.file.endswith("lic.clause")

    def test_a_copy_of_an_earlier_version_is_refused(self, tmp_path: Path) -> None:
        first = amendment('substitute "Contract Year" for "year" in the first sentence '
                          "of section 4\n")
        result = diagnose(tmp_path, first, conform(
            "The Minimum Payment for each {--year--}{++Lease Year++} is set out in the "
            "table below.").replace("first", "second").replace(
            "July 1, 2024", "July 1, 2025"))
        (error,) = [d for d in result.diagnostics if d.severity == "error"]
        assert error.message == (
            "the conformed copy does not read as Section 4 as in force on July 1, 2025: where "
            "the section reads “…Minimum Payment for each Contract Year is set out…”, the "
            "copy's struck reading is “…Minimum Payment for each year is set out in…”")
        assert [r.message for r in error.related] == [
            "Section 4, as amended on July 1, 2024, is here"]

    def test_marks_not_closed_or_crossed(self, tmp_path: Path) -> None:
        for words, wrong in [
            ("for each {--year is", ("for each {--year is set out in the table…” is not "
             "closed by “--}”")),
            ("for each {--year{++Contract Year++} is", "before the next mark"),
            ("for each year--} is", "“--}” closes no mark"),
            ("for each {~~year~~} is", "“~~}” does not close “{~~”"),
        ]:
            result = diagnose(tmp_path, conform(f"The Minimum Payment {words} set out in the "
                                                "table below."))
            (error,) = messages(result)
            assert error.startswith("the conformed copy of Section 4: ") and wrong in error, \
                (words, error)

    def test_blocks_missing_from_the_copy(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, amendment('''
            conform section 4 {
              text "The Minimum Payment for each year is set out in the table below."
            }
        '''))
        assert messages(result) == [
            ("the conformed copy of Section 4 restates 1 of its text blocks; as in force on "
            "July 1, 2024 it has 2")]

    def test_a_copy_that_marks_nothing(self, tmp_path: Path) -> None:
        result = diagnose(tmp_path, conform("The Minimum Payment for each year is set out "
                                            "in the table below."))
        assert messages(result, "warning") == [
            "the conformed copy of Section 4 marks no change to its words"]

    def test_the_redline_and_diff(self, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, conform("The Minimum Payment for each {--year--}{++Contract Year++} "
                                "is set out in the table below."))
        assert cli.main(["diff", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert "Section 4 is amended as shown in the conformed copy.\n" in out
        assert "for each [-year-] {+Contract Year+} is set out" in out


# --------------------------------------------------------------------- reading the marks


def test_read_marks() -> None:
    assert read_marks("a {--b--}{++c++} d {~~e~>f~~} g{++, h++}.") == \
        Marked("a b d e g.", "a c d f g, h.", "b e", "c f , h")
    assert read_marks("no marks") == Marked("no marks", "no marks", "", "")
    assert read_marks("{--all of it--}") == Marked("all of it", "", "all of it", "")


_PLAIN = st.text(alphabet="abc ,.", min_size=1, max_size=8)


@given(st.lists(st.tuples(st.sampled_from(["same", "struck", "inserted", "replaced"]),
                          _PLAIN, _PLAIN), max_size=8))
def test_the_two_readings_of_any_marked_text(runs: list[tuple[str, str, str]]) -> None:
    """A text marked run by run reads, with its marks resolved one way, as the words kept
    and struck, and the other way as the words kept and inserted (spacing aside)."""
    marked, before, after = [], [], []
    for kind, old, new in runs:
        if kind == "same":
            marked.append(old)
            before.append(old)
            after.append(old)
        elif kind == "struck":
            marked.append("{--" + old + "--}")
            before.append(old)
        elif kind == "inserted":
            marked.append("{++" + new + "++}")
            after.append(new)
        else:
            marked.append("{~~" + old + "~>" + new + "~~}")
            before.append(old)
            after.append(new)
    read = read_marks("".join(marked))
    assert isinstance(read, Marked)

    def words(text: str) -> str:
        return "".join(text.split())

    assert words(read.before) == words("".join(before))
    assert words(read.after) == words("".join(after))


# ------------------------------------------------------ row operations, as a list does


_ROW_OP = st.tuples(st.sampled_from(["replace", "delete", "add", "after", "before"]),
                    st.integers(1, 6), st.integers(100, 999))


@settings(max_examples=40, deadline=None)
@given(st.lists(_ROW_OP, min_size=1, max_size=6))
def test_row_operations_do_what_they_do_to_a_list(ops: list[tuple[str, int, int]]) -> None:
    """Any sequence of row operations (those naming a row that exists) leaves the table
    as the same edits leave a Python list."""
    import tempfile

    rows = [(1, 100), (2, 200), (3, 300)]
    written = []
    for kind, n, amount in ops:
        cells = f"| {amount} | ${amount} |"
        if kind != "add" and not 1 <= n <= len(rows):
            continue
        if kind == "replace":
            rows[n - 1] = (amount, amount)
            written.append(f"replace row {n} of table minimum_payments with {cells}")
        elif kind == "delete":
            del rows[n - 1]
            written.append(f"delete row {n} of table minimum_payments")
        elif kind == "add":
            rows.append((amount, amount))
            written.append(f"add row to table minimum_payments {cells}")
        else:
            rows.insert(n if kind == "after" else n - 1, (amount, amount))
            written.append(f"add row to table minimum_payments {kind} row {n} {cells}")
    with tempfile.TemporaryDirectory() as folder:
        result = diagnose(Path(folder), amendment("\n".join(written) + "\n"))
    assert not messages(result), (written, messages(result))
    assert result.versions is not None
    _, checked = result.versions[-1]
    table = checked.declarations["minimum_payments"]
    assert isinstance(table, ir.Table)
    assert [tuple(c.value for c in row.cells) for row in table.rows] == rows


# =============================================================== the worked example


def test_the_worked_example_passes_its_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["test", str(EXAMPLE)]) == 0
    assert "4 passed, 0 failed" in capsys.readouterr().out


def test_the_worked_example_as_amended() -> None:
    m = clausec.load(EXAMPLE / "credit_agreement.clause",
                     [EXAMPLE / "second_amendment.clause"])
    assert "not exceeding $100,000,000, to Consolidated EBITDA for the four fiscal quarters " \
        "then ended, calculated on a pro forma basis." in " ".join(m.SECTIONS["1.01"][1].split())
    steps = m.evaluate("step_down", m.Facts(debt=0, cash=0, ebitda=1, test_date=NEW))
    assert [(r["ending"], r["maximum"]) for r in steps] == [
        (date(2024, 6, 30), Decimal("4.75")), (date(2024, 12, 31), Decimal("4.50")),
        (date(2025, 6, 30), Decimal("4.50")), (date(2025, 12, 31), Decimal("4.00"))]


# ============================================================ formatter, editor, server


FORMAT_INPUT = '''\
amendment first "First Amendment" amends lic {
  dated 2025-01-01
}
replace   row for 2 of table minimum_payments with |  2 | $250 |
delete row 3   of table minimum_payments
add row to table minimum_payments after row 2 | 4 | $400 |  | 5 | $500 |
add row to table minimum_payments
      | 6 | $600 |
  | 17 | $1,700 |
conform section 4 {
text "The Minimum Payment for each {--year--}{++Contract Year++} is set out."
   define   payment_days: integer = 60
}
'''

FORMAT_EXPECTED = '''\
amendment first "First Amendment" amends lic {
  dated 2025-01-01
}
replace row for 2 of table minimum_payments with | 2 | $250 |
delete row 3 of table minimum_payments
add row to table minimum_payments after row 2
  | 4 | $400 |
  | 5 | $500 |
add row to table minimum_payments
  | 6  | $600   |
  | 17 | $1,700 |
conform section 4 {
  text "The Minimum Payment for each {--year--}{++Contract Year++} is set out."
  define payment_days: integer = 60
}
'''


def test_the_formatter_lays_out_row_operations_and_conformed_copies() -> None:
    assert format_text(FORMAT_INPUT) == FORMAT_EXPECTED
    assert format_text(FORMAT_EXPECTED) == FORMAT_EXPECTED


def test_formatting_keeps_the_operations() -> None:
    before, after = program_of(FORMAT_INPUT), program_of(FORMAT_EXPECTED)
    assert before == after
    ops = after.operations
    assert [(op.kind, op.target.kind, op.target.table, op.target.row, op.target.place,
             len(op.rows)) for op in ops] == [
        ("replace", "row", "minimum_payments", None, None, 1),
        ("delete", "row", "minimum_payments", 3, None, 0),
        ("add", "row", "minimum_payments", 2, "after", 2),
        ("add", "row", "minimum_payments", None, None, 2),
        ("conform", "section", None, None, None, 0),
    ]
    assert ops[0].target.describe() == "the row for 2 of table minimum_payments"
    assert [d.name for d in ops[4].declarations] == ["payment_days"]


def test_textmate_scopes() -> None:
    from test_textmate import assert_scoped

    text = FORMAT_EXPECTED
    assert_scoped(text, "replace row for", "row", "keyword.other.row.clause")
    assert_scoped(text, "replace row for", "for", "keyword.other.row.clause")
    assert_scoped(text, "of table minimum_payments with", "table", "keyword.other.row.clause")
    assert_scoped(text, "of table minimum_payments with", "minimum_payments",
                  "variable.other.table.clause")
    assert_scoped(text, "conform section 4", "conform", "keyword.other.operation.clause")
    assert_scoped(text, "{--year--}", "{--year--}", "markup.deleted.clause")
    assert_scoped(text, "{++Contract Year++}", "{++Contract Year++}", "markup.inserted.clause")
    marked = 'text """\n  a {~~b~>c~~} d\n"""\n'
    assert_scoped(marked, "{~~b~>c~~}", "{~~b~>c~~}", "markup.changed.clause")
    # A table declared is still a declaration.
    assert_scoped(AGREEMENT, "table minimum_payments", "table", "storage.type")


def test_language_server_outline_and_definition(tmp_path: Path) -> None:
    from clausec.tools.lsp import server
    from clausec.tools.lsp.workspace import Workspace

    agreement, (amended,) = write(tmp_path, amendment("""
        replace row for 2 of table minimum_payments with | 2 | $250 |
        add row to table minimum_payments | 4 | $400 |
        conform section 5 {
          text "Licensee shall report within {--45--}{++30++} days."
          define report_days: integer = 30
        }
    """))
    ws = Workspace([tmp_path])
    ws.open(agreement, agreement.read_text(encoding="utf-8"))
    ws.open(amended, amended.read_text(encoding="utf-8"))
    operations = [(s.name, [c.name for c in s.children])
                  for s in server.outline(ws, amended) if s.kind == "operation"]
    assert operations == [("replace a row of table minimum_payments", []),
                          ("add a row of table minimum_payments", []),
                          ("conform section 5", ["report_days"])]
    lines = amended.read_text(encoding="utf-8").split("\n")
    line = next(i for i, t in enumerate(lines) if t.startswith("replace row"))
    found = server.definition(ws, amended, line, lines[line].index("minimum_payments") + 3)
    table_line = AGREEMENT.split("\n").index(
        '  table minimum_payments "Minimum Payment Schedule" {')
    assert [(p.name, r.line) for p, r in found] == [(agreement.name, table_line)]
    line = next(i for i, t in enumerate(lines) if t.startswith("conform"))
    found = server.definition(ws, amended, line, len("conform section 5"))
    assert [p.name for p, _ in found] == [agreement.name]
    # No diagnostics: the amendment applies.
    assert not [d for d in ws.analyse(amended).diagnostics[amended] if d.severity == "error"]
