"""Diagnostics: syntax and semantic errors and warnings, their positions, messages,
hints and rendering (`file:line:col: error: ...`, the line, a caret)."""

from __future__ import annotations

import json
import textwrap

import pytest

import clausec
from clausec.cli import main

FILE = "contract.clause"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = textwrap.dedent(text).lstrip("\n").split("\n")
    seen = 0
    for number, line in enumerate(lines, start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the clause text")


def column_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = textwrap.dedent(text).lstrip("\n").split("\n")
    line = lines[line_of(text, needle, occurrence) - 1]
    return line.index(needle) + 1


def errors(diagnostics):
    return [d for d in diagnostics if d.severity == "error"]


def warnings(diagnostics):
    return [d for d in diagnostics if d.severity == "warning"]


def only_error(diagnostics):
    found = errors(diagnostics)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


def check_output(tmp_path, write_clause, capsys, text, *options):
    """Run `clausec check` in-process; return (exit code, stdout, stderr)."""
    path = write_clause(tmp_path, text)
    code = main(["check", *options, str(path)])
    out, err = capsys.readouterr()
    return code, out, err, str(path)


# =============================================================================
# Syntax errors
# =============================================================================

UNEXPECTED_NAME = """
fact price: money

section 1 {
  define total: money = price price
}
"""


def test_syntax_error_position_and_message(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, UNEXPECTED_NAME))
    assert error.span.file.endswith(FILE)
    assert error.span.line == 4
    assert error.span.column == column_of(UNEXPECTED_NAME, "price price") + len("price ")
    assert error.message.startswith("unexpected 'price'")
    assert error.code == "syntax"


def test_syntax_error_rendering_has_line_and_caret(tmp_path, write_clause, capsys):
    code, _, err, path = check_output(tmp_path, write_clause, capsys, UNEXPECTED_NAME)
    assert code == 1
    lines = err.split("\n")
    column = column_of(UNEXPECTED_NAME, "price price") + len("price ")
    assert lines[0].startswith(f"{path}:4:{column}: error: unexpected 'price'")
    source_line = "  define total: money = price price"
    assert lines[1].endswith("| " + source_line)
    gutter = lines[1].index("| ") + 2
    caret = lines[2]
    assert caret.index("^") == gutter + column - 1
    assert caret.strip() == "^" * len("price")
    # The caret sits under the second 'price'.
    assert lines[1][caret.index("^"):caret.index("^") + 5] == "price"


@pytest.mark.parametrize("text, wrong, right", [
    ("""
     fact n: integer
     section 1 {
       defin total = n
     }
     """, "defin", "define"),
    ("""
     fact price: mony
     define total = price
     """, "mony", "money"),
    ("""
     fact n: integer
     section 1 {
       conditon ok = n > 1
     }
     """, "conditon", "condition"),
    ("""
     agreement a "A" {
       party seller "Seller"
     }
     fact n: integer
     section 1 {
       obligaton pay: seller must pay n
     }
     """, "obligaton", "obligation"),
])
def test_misspelt_keyword_did_you_mean(tmp_path, diagnostics_of, text, wrong, right):
    error = only_error(diagnostics_of(tmp_path, text))
    # A misspelt keyword is a syntax error; a misspelt type is a name, checked against the
    # types and the agreement's families of periods.
    assert error.message.startswith((f"unexpected '{wrong}'", f"unknown type '{wrong}'"))
    assert error.span.line == line_of(text, wrong)
    assert error.span.column == column_of(text, wrong)
    assert error.hint == f"did you mean '{right}'?"


def test_misspelt_keyword_hint_is_rendered(tmp_path, write_clause, capsys):
    code, _, err, _ = check_output(tmp_path, write_clause, capsys, """
        fact price: mony
        define total = price
    """)
    assert code == 1
    assert "  hint: did you mean 'money'?" in err.split("\n")


THREE_BROKEN = """
agreement demo "Demo" {
  party seller "Seller"
}

fact price: money

section 1 {
  define a: money = price +
}

section 2 {
  define b: money = price
}

section 3 {
  define c: money = * price
}

section 4 {
  define d money = price
}
"""


def test_every_syntax_error_of_a_file_is_reported(tmp_path, diagnostics_of):
    found = errors(diagnostics_of(tmp_path, THREE_BROKEN))
    assert [d.span.line for d in found] == [
        line_of(THREE_BROKEN, "}", 2),        # section 1: the '}' where an operand belongs
        line_of(THREE_BROKEN, "* price"),
        line_of(THREE_BROKEN, "define d money"),
    ]
    assert all(d.code == "syntax" for d in found)
    # Section 2 is fine, and nothing is reported about it or its names.
    assert not any(d.span.line == line_of(THREE_BROKEN, "define b") for d in found)


def test_every_syntax_error_reported_via_cli(tmp_path, write_clause, capsys):
    code, _, err, _ = check_output(tmp_path, write_clause, capsys, THREE_BROKEN)
    assert code == 1
    assert err.count(": error: ") == 3
    assert "3 errors" in err


def test_misspelt_top_level_keywords_are_all_reported(tmp_path, diagnostics_of):
    text = """
        fact n: integer
        defin x = n
        conditon y = n > 1
    """
    found = errors(diagnostics_of(tmp_path, text))
    assert [(d.span.line, d.hint) for d in found] == [
        (2, "did you mean 'define'?"),
        (3, "did you mean 'condition'?"),
    ]


def test_unexpected_end_of_file(tmp_path, diagnostics_of):
    text = """
        fact n: integer
        section 1 {
          define x = n
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message.startswith("unexpected end of file")
    assert error.hint == "a '}' is missing"
    assert error.span.line == 3


def test_missing_brace_before_next_section_is_reported_there(tmp_path, diagnostics_of):
    text = """
        fact n: integer
        section 1 {
          define x = n

        section 2 {
          define y = n
        }
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert "'}'" in (error.hint or "")
    # The brace is missing before 'section 2' (line 5), not at the end of the file.
    assert error.span.line <= 5


def test_single_quotes_hint(tmp_path, diagnostics_of):
    text = """
        define greeting: text = 'hello'
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.span.line == 1
    assert error.span.column == column_of(text, "'hello'")
    assert "unexpected character" in error.message
    assert error.hint == 'strings are written in double quotes: "..."'


def test_keyword_at_line_start_inside_text_block_is_not_an_error(tmp_path, diagnostics_of):
    # The contract's words may have a line that starts with a keyword ("fact", "power",
    # "add"...); only the real error of section 2 may be reported.
    text = '''
        section 1 "Recitals" {
          text """
        The Seller represents the
        fact that it owns the Patents.
          """
        }

        section 2 {
          define x = 1 +
        }
    '''
    found = errors(diagnostics_of(tmp_path, text))
    assert [d.span.line for d in found] == [line_of(text, "}", 2)]


# =============================================================================
# Semantic errors
# =============================================================================

HEADER = """
agreement demo "Demo" {
  party purchaser "Purchaser"
  party seller "Seller"
}
"""


def test_undefined_name_did_you_mean(tmp_path, diagnostics_of):
    text = HEADER + """
fact purchase_price: money
define total: money = purchse_price + $1
"""
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "'purchse_price' is not defined"
    assert error.hint == "did you mean 'purchase_price'?"
    assert (error.span.line, error.span.column) == (line_of(text, "define total"),
                                                    column_of(text, "purchse_price"))
    assert error.code == "name"


def test_duplicate_names_relate_to_the_first(tmp_path, diagnostics_of):
    text = """
        fact n: integer
        define total = n
        section 2 {
          define total = n + 1
        }
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "'total' is declared twice"
    assert error.span.line == line_of(text, "define total = n + 1")
    assert len(error.related) == 1
    assert error.related[0].span.line == line_of(text, "define total = n")
    assert error.related[0].message == "first declared here"


def test_duplicate_fact_and_definition(tmp_path, diagnostics_of):
    text = """
        fact total: integer
        define total = 1
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert "'total' is declared twice" in error.message
    assert error.related[0].span.line == 1


def test_duplicate_section_numbers(tmp_path, diagnostics_of):
    text = """
        fact n: integer
        section 3.1 {
          define a = n
        }
        section 3.1 {
          define b = n
        }
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "Section 3.1 is declared twice"
    assert error.span.line == line_of(text, "section 3.1", 2)
    assert error.related[0].span.line == line_of(text, "section 3.1")


@pytest.mark.parametrize("expr, message", [
    ("closing_on + price", "cannot add date and money"),
    ("price - closing_on", "cannot subtract date from money"),
    ("closing_on * 2", "cannot multiply date by integer"),
    ("price / closing_on", "cannot divide money USD by date"),
    ("flag + 1", "cannot add bool and integer"),
])
def test_arithmetic_type_errors(tmp_path, diagnostics_of, expr, message):
    text = f"""
        fact closing_on: date
        fact price: money
        fact flag: bool
        define bad = {expr}
        condition uses = closing_on is on or after 2004-01-01 and price > $0 and flag
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message.startswith(message)
    assert error.code == "type"
    assert (error.span.line, error.span.column) == (4, column_of(text, expr))


def test_adding_a_number_to_a_date_hints_at_durations(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact closing_on: date
        define later = closing_on + 10
    """))
    assert error.message == "cannot add date and integer"
    assert "10 days" in (error.hint or "")


def test_comparing_date_with_datetime(tmp_path, diagnostics_of):
    text = """
        agreement demo "Demo" {
          time zone America/New_York
        }
        fact notice_at: datetime
        fact closing_on: date
        condition timely = notice_at is on or before closing_on
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message.startswith("cannot compare datetime with date")
    assert "close of business on D" in (error.hint or "")
    assert error.span.line == line_of(text, "condition timely")


def test_if_branches_of_different_types(tmp_path, diagnostics_of):
    text = """
        fact flag: bool
        fact price: money
        fact closing_on: date
        define odd = if flag then price else closing_on
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "the branches of 'if' differ: money USD and date"
    assert error.span.line == 4


def test_within_needs_a_duration(tmp_path, diagnostics_of):
    text = HEADER + """
fact price: money
fact breach_date: date
obligation cure: seller must pay price within price after breach_date
"""
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message.startswith("'within' needs a number of days")
    assert error.span.column == column_of(text, "price after")


def test_declared_type_mismatch(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact closing_on: date
        define amount: money = closing_on
    """))
    assert "declared money" in error.message and "date" in error.message


def test_condition_must_be_bool_in_lists(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact price: money
        fact flag: bool
        condition ok = all of [(a) flag, (b) price]
    """))
    assert "must be true or false" in error.message


@pytest.mark.parametrize("text, cycle", [
    ("""
     fact n: integer
     define a = b + 1
     define b = a + 1
     define c = n
     """, "a -> b -> a"),
    ("""
     define a = a + 1
     """, "a -> a"),
    ("""
     fact n: integer
     define a = b + n
     define b = c
     define c = a * 2
     """, "a -> b -> c -> a"),
])
def test_circular_definitions(tmp_path, diagnostics_of, text, cycle):
    found = [d for d in errors(diagnostics_of(tmp_path, text)) if d.code == "cycle"]
    assert len(found) == 1
    assert found[0].message == f"circular definition: {cycle}"


def test_exception_on_its_own_target_is_circular(tmp_path, diagnostics_of):
    # The exception's condition needs the value it decides.
    text = """
        fact n: integer
        define a = n
        exception to a = 1 when a > 5
    """
    found = errors(diagnostics_of(tmp_path, text))
    assert any("circular" in d.message for d in found), [d.message for d in found]


def test_wrong_argument_count(tmp_path, diagnostics_of):
    text = """
        fact first_year: integer
        define limit(year: integer): money = $10 * (year - first_year)
        define total: money = limit(2008, 2009)
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "'limit' takes 1 argument(s), not 2"
    assert error.span.line == 3
    assert error.related[0].span.line == 2


def test_parametrised_term_used_without_arguments(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact first_year: integer
        define limit(year: integer): money = $10 * (year - first_year)
        define total: money = limit
    """))
    assert error.message == "'limit' takes parameters"
    assert error.hint == "write limit(year)"


def test_wrong_argument_type(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact first_year: integer
        fact closing_on: date
        define limit(year: integer): money = $10 * (year - first_year)
        define total: money = limit(closing_on)
    """))
    assert "'year' of 'limit' is integer" in error.message


def test_calling_an_undefined_function(tmp_path, diagnostics_of):
    text = """
        fact closing_on: date
        define y = yeer(closing_on)
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert "'yeer' is not a defined term with parameters nor a built-in function" in \
        error.message
    assert error.hint == "did you mean 'year'?"


def test_builtin_wrong_argument(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact price: money
        define y = year(price)
    """))
    assert error.message.startswith("year() does not take money")


def test_exception_to_an_undefined_term(tmp_path, diagnostics_of):
    text = """
        fact flag: bool
        condition beneficially_owns = flag
        exception to beneficialy_owns = false when flag
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "exception to 'beneficialy_owns', which is not declared"
    assert error.hint == "did you mean 'beneficially_owns'?"
    assert error.span.line == 3


def test_exception_to_a_fact(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact flag: bool
        define x = flag
        exception to flag = false when flag
    """))
    assert error.message == "exception to 'flag', which is not a defined term"


def test_exception_value_of_the_wrong_type(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact flag: bool
        define fee: money = $0
        exception to fee = true when flag
    """))
    assert "this exception gives 'fee' a bool" in error.message


@pytest.mark.parametrize("clause, name", [
    ("obligation pay: sellr must pay price to purchaser", "sellr"),
    ("obligation pay: seller must pay price to purchasr", "purchasr"),
    ("power end: purchasr may terminate", "purchasr"),
    ("obligation pay: seller and purchasr jointly must pay price", "purchasr"),
])
def test_unknown_party(tmp_path, diagnostics_of, clause, name):
    text = HEADER + "fact price: money\n" + clause + "\n"
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == f"'{name}' is not a party of the agreement"
    assert error.hint and error.hint.startswith("did you mean '")
    assert error.span.line == line_of(text, clause)


def test_unknown_party_without_close_match(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, HEADER + """
fact price: money
obligation pay: bank must pay price to seller
"""))
    assert error.message == "'bank' is not a party of the agreement"
    assert "party NAME" in (error.hint or "")


def test_naive_datetime_without_agreement_time_zone(tmp_path, diagnostics_of):
    text = """
        define expiration: datetime = 2011-06-14 17:00
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == ("this date and time has no time zone, and the agreement "
                             "declares none")
    assert "time zone America/New_York" in (error.hint or "")
    assert error.span.column == column_of(text, "2011-06-14")


def test_close_of_business_without_time_zone(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact day: date
        define cob: datetime = close of business on day
    """))
    assert "'close of business' needs the agreement's time zone" in error.message


@pytest.mark.parametrize("literal", ["2004-02-30", "February 30, 2004", "2003-13-01"])
def test_invalid_date_literal(tmp_path, diagnostics_of, literal):
    text = f"""
        define d: date = {literal}
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == f"'{literal}' is not a date in the calendar"
    assert (error.span.line, error.span.column) == (1, column_of(text, literal))


def test_unknown_time_zone(tmp_path, diagnostics_of):
    text = """
        define d: datetime = 2011-06-14 17:00 America/New_Yrok
    """
    found = errors(diagnostics_of(tmp_path, text))
    assert any(d.message == "unknown time zone 'America/New_Yrok'" for d in found)
    assert all(d.span.line == 1 for d in found)


def test_unknown_time_zone_is_reported_once(tmp_path, diagnostics_of):
    # One mistake, one error: the literal does name a zone, just not a known one.
    error = only_error(diagnostics_of(tmp_path, """
        define d: datetime = 2011-06-14 17:00 America/New_Yrok
    """))
    assert error.message == "unknown time zone 'America/New_Yrok'"
    assert error.hint == "use an IANA name such as America/New_York"


def test_unknown_time_zone_in_header(tmp_path, diagnostics_of):
    found = errors(diagnostics_of(tmp_path, """
        agreement demo "Demo" {
          time zone Mars/Olympus_Mons
        }
        define x = 1
    """))
    assert [d.message for d in found] == ["unknown time zone 'Mars/Olympus_Mons'"]


def test_unknown_calendar(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        agreement demo "Demo" {
          calendar lunar
        }
        define x = 1
    """))
    assert error.message == "unknown calendar 'lunar'"


def test_unknown_calendar_in_the_header_suggests_the_nearest(tmp_path, diagnostics_of):
    text = """
        agreement demo "Demo" {
          calendar new_york_bank
        }
        define x = 1
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "unknown calendar 'new_york_bank'"
    assert "new_york_banks" in (error.hint or "")
    assert error.code == "name"
    assert (error.span.line, error.span.column) == (2, column_of(text, "new_york_bank"))


def test_every_built_in_calendar_is_a_header_calendar(tmp_path, diagnostics_of):
    from clausec.passes import calendars

    for name in calendars.names():
        found = errors(diagnostics_of(tmp_path, f"""
            agreement demo "Demo" {{
              calendar {name}
            }}
            fact d: date
            define x: date = 2 business days after d
        """))
        assert found == [], (name, [d.message for d in found])


def test_unknown_calendar_of_business_days(tmp_path, diagnostics_of):
    text = """
        fact d: date
        define x: date = 2 business days in nyce after d
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "unknown calendar 'nyce'"
    assert "nyse" in (error.hint or "")
    assert error.span.line == 2


def test_unknown_calendar_of_a_fact_type(tmp_path, diagnostics_of):
    text = """
        fact d: date
        fact lag: business days in targett
        define x: date = lag after d
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "unknown calendar 'targett'"
    assert "target" in (error.hint or "")
    assert error.span.line == 2


def test_an_unknown_calendar_with_no_near_name_lists_them(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact d: date
        define x: date = 2 business days in zzz after d
    """))
    assert error.message == "unknown calendar 'zzz'"
    assert "new_york_banks" in (error.hint or "") and "weekends_only" in (error.hint or "")


@pytest.mark.parametrize("amount", ["2.5", "10%", "$3"])
def test_months_must_be_a_whole_number(tmp_path, diagnostics_of, amount):
    text = f"""
        fact d: date
        define x: date = {amount} months after d
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message.startswith("a number of months or years must be a whole number")
    assert error.code == "type"
    assert (error.span.line, error.span.column) == (2, column_of(text, amount))


def test_years_must_be_a_whole_number(tmp_path, diagnostics_of):
    error = only_error(diagnostics_of(tmp_path, """
        fact d: date
        define x: date = d + 1.5 years
    """))
    assert error.message == "a number of months or years must be a whole number, not decimal"


def test_months_after_something_that_is_not_a_date(tmp_path, diagnostics_of):
    text = """
        define x: date = 3 months after 5
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == "'after' needs a date after it, not integer"
    assert error.code == "type"


@pytest.mark.parametrize(("expr", "message"), [
    ("3 months + 2 days", "cannot add months and days"),
    ("1 year - 5 business days", "cannot subtract us_federal business days from months"),
    ("2 days + 1 month", "cannot add days and months"),
    ("2 business days in nyse + 2 business days",
     "cannot add nyse business days and us_federal business days"),
    ("2 business days in nyse - 1 business day in target",
     "cannot subtract target business days from nyse business days"),
])
def test_durations_of_different_kinds_do_not_add(tmp_path, diagnostics_of, expr, message):
    text = f"""
        fact d: date
        define x: date = d + ({expr})
    """
    found = errors(diagnostics_of(tmp_path, text))
    assert [d.message for d in found] == [message]
    assert found[0].code == "type"


@pytest.mark.parametrize(("expr", "message"), [
    ("3 months < 90 days", "cannot compare months with days ('<')"),
    ("2 business days in nyse == 2 business days",
     "cannot compare nyse business days with us_federal business days ('==')"),
])
def test_durations_of_different_kinds_do_not_compare(tmp_path, diagnostics_of, expr, message):
    error = only_error(diagnostics_of(tmp_path, f"""
        condition c = {expr}
    """))
    assert error.message == message


def test_durations_of_the_same_kind_add(tmp_path, diagnostics_of):
    found = diagnostics_of(tmp_path, """
        agreement demo "Demo" {
          calendar nyse
        }
        fact d: date
        fact notice: months default 3 months
        fact lag: business days in nyse default 1 business day
        define a: date = d + (1 year + 6 months) + 2 days
        define b: date = d + (2 business days in nyse + 2 business days + lag)
        define c: date = (notice + 1 year) after d
        define e: date = 2 business days in london_banks after (1 business day in target after d)
        condition f = 1 year == 12 months and notice > 2 months
    """)
    assert errors(found) == []


def test_a_business_days_fact_of_another_calendar_is_its_own_type(tmp_path, diagnostics_of):
    text = """
        fact lag: business days in nyse
        define x: business days = lag
    """
    error = only_error(diagnostics_of(tmp_path, text))
    assert error.message == ("'x' is declared us_federal business days but its value is "
                             "nyse business days")


# ---------------------------------------------------------------- warnings


def test_unused_fact_warning(tmp_path, diagnostics_of):
    text = """
        fact used: integer
        fact unused_fact: bool
        define x = used
    """
    diagnostics = diagnostics_of(tmp_path, text)
    assert errors(diagnostics) == []
    (warning,) = warnings(diagnostics)
    assert warning.message == "fact 'unused_fact' is never used"
    assert warning.span.line == 2
    assert warning.code == "unused"


def test_constant_condition_warning(tmp_path, diagnostics_of):
    text = HEADER + """
fact price: money
obligation pay: seller must pay price to purchaser when true
"""
    diagnostics = diagnostics_of(tmp_path, text)
    assert errors(diagnostics) == []
    (warning,) = warnings(diagnostics)
    assert warning.message == "an obligation's condition is always true"
    assert warning.code == "constant"
    assert warning.span.column == column_of(text, "true")


def test_is_given_on_a_required_fact_warning(tmp_path, diagnostics_of):
    diagnostics = diagnostics_of(tmp_path, """
        fact closing_on: date
        condition closed = closing_on is given
    """)
    assert errors(diagnostics) == []
    (warning,) = warnings(diagnostics)
    assert "always given" in warning.message
    assert warning.code == "constant"


def test_warnings_do_not_stop_compilation(tmp_path, compile_text):
    m = compile_text(tmp_path, """
        fact used: integer
        fact unused_fact: bool optional
        define x = used
    """)
    assert m.x(m.Facts(used=4)) == 4


# ---------------------------------------------------------- all at once

SEVERAL = HEADER + """
fact price: money
fact closing_on: date
fact notice_at: datetime
fact spare: bool

section 1 {
  define total: money = prise + $1
  define mixed = closing_on + price
  define a = b + 1
  define b = a + 1
  define l = yeer(closing_on)
  obligation pay: sellr must pay price to purchaser
}
"""


def test_several_semantic_errors_all_reported(tmp_path, diagnostics_of):
    diagnostics = diagnostics_of(tmp_path, SEVERAL)
    found = errors(diagnostics)
    messages = [d.message for d in found]
    assert "'prise' is not defined" in messages
    assert "cannot add date and money USD" in messages
    assert any(m.startswith("circular definition") for m in messages)
    assert any(m.startswith("'yeer' is not a defined term") for m in messages)
    assert "'sellr' is not a party of the agreement" in messages
    assert len(found) == 5
    assert [d.message for d in warnings(diagnostics)] == [
        "fact 'notice_at' is never used", "fact 'spare' is never used"]
    # Sorted by position.
    positions = [(d.span.line, d.span.column) for d in diagnostics]
    assert positions == sorted(positions)


def test_literal_error_does_not_hide_name_errors(tmp_path, diagnostics_of):
    text = """
        fact price: money
        define d: date = 2004-02-30
        define total: money = prise + $1
    """
    messages = [d.message for d in errors(diagnostics_of(tmp_path, text))]
    assert "'2004-02-30' is not a date in the calendar" in messages
    assert "'prise' is not defined" in messages


def test_compile_error_carries_every_diagnostic(tmp_path, write_clause):
    path = write_clause(tmp_path, SEVERAL)
    with pytest.raises(clausec.CompileError) as info:
        clausec.compile_file(path)
    assert len(errors(info.value.diagnostics)) == 5
    text = str(info.value)
    assert text.startswith("5 error(s)")
    assert f"{path}:{line_of(SEVERAL, 'prise')}:" in text


def test_errors_exit_1_via_cli(tmp_path, write_clause, capsys):
    code, _, err, path = check_output(tmp_path, write_clause, capsys, SEVERAL)
    assert code == 1
    assert f"{path}:{line_of(SEVERAL, 'prise')}:{column_of(SEVERAL, 'prise')}: error: " \
           "'prise' is not defined" in err
    assert "  hint: did you mean 'price'?" in err
    # Related positions are rendered as notes.
    assert f"{path}:{line_of(SEVERAL, 'define b')}:3: note: 'b' is defined here" in err
    assert "failed: 1 file checked, 5 errors, 2 warnings" in err


# =============================================================================
# --format json
# =============================================================================


def test_check_json_format(tmp_path, write_clause, capsys):
    code, out, _, path = check_output(tmp_path, write_clause, capsys, SEVERAL,
                                        "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert isinstance(data, list)
    assert len(data) == 7
    for entry in data:
        assert {"severity", "file", "line", "column", "message", "hint"} <= set(entry)
        assert entry["file"] == path
        assert entry["severity"] in ("error", "warning")
        assert isinstance(entry["line"], int) and isinstance(entry["column"], int)
    prise = next(e for e in data if e["message"] == "'prise' is not defined")
    assert prise == {**prise, "severity": "error", "line": line_of(SEVERAL, "prise"),
                     "column": column_of(SEVERAL, "prise"),
                     "hint": "did you mean 'price'?"}
    cycle = next(e for e in data if e["message"].startswith("circular"))
    assert cycle["related"][0]["line"] == line_of(SEVERAL, "define b")
    assert [e["severity"] for e in data].count("warning") == 2


def test_check_json_format_clean_file(tmp_path, write_clause, capsys):
    code, out, _, _ = check_output(tmp_path, write_clause, capsys, """
        fact n: integer
        define x = n
    """, "--format", "json")
    assert code == 0
    assert json.loads(out) == []


def test_check_json_format_syntax_error(tmp_path, write_clause, capsys):
    code, out, _, _ = check_output(tmp_path, write_clause, capsys, """
        fact price: mony
        define x = price
    """, "--format", "json")
    assert code == 1
    (entry,) = json.loads(out)
    assert entry["severity"] == "error"
    assert (entry["line"], entry["column"]) == (1, 13)
    assert entry["hint"] == "did you mean 'money'?"
    assert entry["message"] == "unknown type 'mony'"


def test_the_excerpt_of_a_long_line_is_a_window_around_the_caret(tmp_path, capsys):
    terms = " + ".join(["t0"] * 5000)
    path = tmp_path / FILE
    path.write_text('agreement a "A" { dated 2004-01-01 }\nfact t0: integer\n'
                    f"define total: integer = {terms} + nowhere + {terms}\n")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    lines = err.splitlines()
    first = lines[0]
    assert "error:" in first and "nowhere" in first
    column = int(first.split(":")[2])
    excerpt, caret = lines[1], lines[2]
    assert len(excerpt) < 250 and excerpt.split("| ", 1)[1].startswith("…")
    assert excerpt.endswith("…")
    # The caret stands under the name, as in the whole line.
    at = caret.index("^")
    assert excerpt[at:at + len("nowhere")] == "nowhere"
    whole = path.read_text().splitlines()[2]
    assert whole[column - 1:column - 1 + len("nowhere")] == "nowhere"
