"""The English backend's words: how names, values and propositions read in English.

The English of every IR node kind lives in one jinja2 macro each
(templates/english.j2); this module holds what those macros cannot say well in a
template: the phrases of a contract's own terms ("there is no Requisite Board
Approval", "the Rights have not expired"), articles, numbers in words, the formats of
money and dates (the runtime's, so a summary shows exactly what `eval` prints), and
the escaping of each output format. `Lexicon` answers, for one version of an agreement,
what each name stands for.

Escaping. Every value a template prints goes through the escaping of its format, once:
HTML and Markdown render with jinja2's autoescape, so that what is already escaped
(the output of a macro, or of `Lexicon`) is a `Markup` and everything else is escaped
where it is printed (`finalize`: Markdown's escaping for Markdown, then HTML's for both);
plain text only loses its control characters. Python code here that builds phrases
works on raw text and escapes the result (`esc`), never the other way round.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from clausec import ir
from clausec.backends.python.runtime import (
    format_date,
    format_datetime,
    format_money,
    format_percent,
    format_value,
)
from clausec.ir import types as T
from clausec.ir.visit import chain
from clausec.passes.check import CheckedProgram

FORMATS = ("markdown", "html", "text")

# Words that, first in a phrase, already determine it: no article goes before them.
_DETERMINERS = frozenset(["the", "a", "an", "this", "that", "these", "those", "such", "any", "each", "every", "all", "no", "its", "their", "his", "her", "our", "one", "some", "certain", "either", "neither", "both"])
# A finite verb makes a term a sentence ("the Rights have expired"), not a name.
_AUXILIARIES = frozenset(["is", "are", "was", "were", "has", "have", "had", "may", "might", "can", "could", "shall", "should", "will", "would", "must", "does", "do", "did"])
_VERBS = frozenset(["applies", "breaches", "occurs", "holds", "exceeds", "equals", "remains", "becomes", "owns", "acquires", "receives", "pays", "terminates", "expires", "survives", "consents", "agrees", "elects", "fails", "exists", "continues", "includes", "requires", "permits", "constitutes"])
# After these, a verb belongs to a relative clause ("an announcement that X has become").
_RELATIVES = frozenset(["that", "which", "who", "whom", "whose", "if", "when", "where", "whether"])
_PREPOSITIONS = frozenset(["of", "by", "on", "to", "in", "at", "for", "with", "from", "under", "pursuant", "upon", "after", "before", "between", "against", "during", "within", "without", "set"])
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten")
# What Markdown would read as markup in running text: emphasis, code, links, tables,
# headings, strikethrough, raw HTML, and the backslash itself. `_` only where it can
# open or close emphasis (not inside a word, as in closing_date); `&` only where it
# starts an entity ("&lt;" would render as "<"); newlines would start a new block.
_MD_SPECIAL = re.compile(r"[\\`*\[\]<>|#~]|_(?![^\W_])|(?<![^\W_])_|&(?=#?[A-Za-z0-9]+;)")
# Control characters (but tabs and newlines), bidirectional overrides and noncharacters:
# invisible, they can hide or reorder what a reader sees, and HTML rejects most of them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff]")
_CODE = re.compile(r"[A-Za-z0-9_.]+")
_LIST_STYLES = ("a", "i", "A", "1")
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
          "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")


# ------------------------------------------------------------------ phrases


def _keep(like: object, text: str) -> str:
    """`text`, as safe HTML if `like` was: filters that only move words or spaces around
    keep the escaping done before them."""
    return Markup(text) if isinstance(like, Markup) else text


def squash(text: str) -> str:
    """One space between words, none before punctuation: macros spread over lines, the
    sentence they build reads on one."""
    out = re.sub(r"\s+", " ", str(text)).strip()
    out = re.sub(r" ([,;:.)])", r"\1", out)
    out = re.sub(r"\( ", "(", out)
    return _keep(text, out)


def sentence(text: str) -> str:
    """Capitalised, and ending with a full stop."""
    out = str(squash(text))
    if out:
        out = out[0].upper() + out[1:]
        if out[-1] not in ".!?":
            out += "."
    return _keep(text, out)


def capital(text: str) -> str:
    """The first letter upper case (spaces squashed first: macros start on new lines)."""
    out = str(squash(text))
    return _keep(text, out[:1].upper() + out[1:])


def humanise(name: str) -> str:
    """`license_first_transferred_on` -> "license first transferred on"."""
    return " ".join(name.replace("_", " ").split())


def _words(phrase: str) -> list[str]:
    return phrase.split()


def _first(phrase: str) -> str:
    words = _words(phrase)
    return words[0].lower() if words else ""


def has_determiner(phrase: str) -> bool:
    first = _first(phrase)
    return first in _DETERMINERS or first.endswith(("'s", "’s", "s'")) or \
        phrase[:1] in "\"“$0123456789"


def definite(phrase: str) -> bool:
    """Whether a phrase names one known thing ("the breach", "this license")."""
    return _first(phrase) in ("the", "this", "that", "these", "those", "its", "their") or \
        _first(phrase).endswith(("'s", "’s", "s'"))


def the(phrase: str) -> str:
    """The noun phrase with an article: "Closing Date" -> "the Closing Date"."""
    return phrase if has_determiner(phrase) else f"the {phrase}"


def indefinite(phrase: str) -> str:
    """"Qualified Offer" -> "a Qualified Offer", "Acquiring Person" -> "an Acquiring
    Person"; plural phrases take none."""
    if has_determiner(phrase) or plural(phrase):
        return phrase
    return ("an " if phrase[:1].lower() in "aeio" else "a ") + phrase


def bare(phrase: str) -> str:
    """Without its article: "a Qualified Offer" -> "Qualified Offer"."""
    words = _words(phrase)
    if words and words[0].lower() in ("a", "an", "the", "any"):
        return " ".join(words[1:])
    return phrase


def plural(phrase: str) -> bool:
    """Whether the head noun is plural: the last word before a preposition, a
    participle or an adverb ("the conditions set forth in ..." -> "conditions")."""
    words = [w.strip(",;:()") for w in _words(bare(phrase))]
    head = ""
    for i, word in enumerate(words):
        lower = word.lower()
        if i and (lower in _PREPOSITIONS or lower in _RELATIVES or
                  lower.endswith(("ed", "ly")) or lower in ("or", "and")):
            break
        head = lower
    return head.endswith("s") and not head.endswith(("ss", "us", "is", "'s", "’s"))


def is_clause(phrase: str) -> bool:
    """Whether a term is a sentence ("the Rights have expired") rather than a name
    ("Qualified Offer"): it has a finite verb outside any relative clause."""
    words = [w.strip(",;:()").lower() for w in _words(phrase)]
    for i, word in enumerate(words):
        if word in _RELATIVES:
            return False
        if word in _AUXILIARIES or (i and word in _VERBS):
            return True
    return False


def _base_form(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes", "zes")):
        return verb[:-2]
    return verb.removesuffix("s")


def negate_clause(phrase: str) -> str:
    """"the Rights have expired" -> "the Rights have not expired"; "this license applies"
    -> "this license does not apply"."""
    words = _words(phrase)
    for i, word in enumerate(words):
        lower = word.lower().strip(",;:()")
        if lower in _RELATIVES:
            break
        if lower in _AUXILIARIES:
            if lower == "can":
                return " ".join(words[:i] + ["cannot"] + words[i + 1:])
            return " ".join(words[:i + 1] + ["not"] + words[i + 1:])
        if i and lower in _VERBS:
            does = "do" if plural(" ".join(words[:i])) else "does"
            return " ".join(words[:i] + [does, "not", _base_form(word)] + words[i + 1:])
    return f"it is not the case that {phrase}"


def holds(phrase: str, positive: bool = True, style: str = "condition") -> str:
    """A term as a proposition, true or false.

    style "condition" (a defined condition): "there is a Qualified Offer", "the
    conditions set forth in Section 3.1 are met"; "event" (a yes/no fact, or a date fact
    that is given): "there has been approval of the Plan of Liquidation", "the breach has
    not occurred"; "given" (any other optional value): "the cap is given".
    A term that is a sentence is used as it stands, or negated."""
    if is_clause(phrase):
        return phrase if positive else negate_clause(phrase)
    if style == "event" and not has_determiner(phrase) and (
            phrase[:1].isupper() or _first(phrase) in ("date", "time")):
        # "Closing Date", "time of the breach": one known thing, "the Closing Date"
        phrase = f"the {phrase}"
    many = plural(phrase)
    if style == "given":
        verb = ("are" if many else "is") + ("" if positive else " not")
        return f"{the(phrase)} {verb} given"
    if definite(phrase):
        if style == "event" and _words(phrase)[1:2] in (["date"], ["time"]):
            # "the date of the stockholder meeting": a date that is set, not an event
            return f"{phrase} is {'known' if positive else 'not known'}"
        if style == "event":
            verb = ("have" if many else "has") + ("" if positive else " not")
            return f"{phrase} {verb} occurred"
        verb = ("are" if many else "is") + ("" if positive else " not")
        return f"{phrase} {verb} met"
    if style == "event":
        verb = "there have been" if many else "there has been"
        return f"{verb} {phrase}" if positive else f"{verb} no {bare(phrase)}"
    if many:
        return f"the {bare(phrase)} are met" if positive else f"the {bare(phrase)} are not met"
    return f"there is {indefinite(phrase)}" if positive else f"there is no {bare(phrase)}"


def plural_of(phrase: str) -> str:
    """"royalty quarter" -> "royalty quarters", "year of the term" -> "years of the term",
    "fiscal half-year" -> "fiscal half-years": the head noun (the last word before a
    preposition) in the plural."""
    words = phrase.split()
    head = len(words) - 1
    for i, word in enumerate(words):
        if i and word.lower() in _PREPOSITIONS:
            head = i - 1
            break
    if head < 0:
        return phrase
    word = words[head]
    lower = word.lower()
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        word = word[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        word += "es"
    else:
        word += "s"
    return " ".join(words[:head] + [word] + words[head + 1:])


def integer(n: int) -> str:
    """"27,037,814", but "2005": a four-digit number is more often a year than a count."""
    return f"{n:,}" if abs(n) >= 10_000 else str(n)


def number_words(n: int) -> str:
    """Small counts in words, as contracts write them: "two", "ten"; larger ones in figures."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else integer(n)


def days(n: int, business: bool) -> str:
    """"two business days", "one day", "30 days"."""
    return duration(n, "business_days" if business else "days")


# The words of each unit of a duration (ir.DURATION_UNITS), singular.
_UNITS = {"days": "day", "business_days": "business day", "months": "month", "years": "year"}


def unit_words(unit: str, count: int | None = None) -> str:
    """"days", "business days", "months", "years"; singular for a count of one."""
    word = _UNITS.get(unit, humanise(unit))
    return word if count is not None and abs(count) == 1 else word + "s"


def duration(n: int, unit: str) -> str:
    """"two business days", "one day", "three months", "one year", "12 months"."""
    return f"{number_words(n)} {unit_words(unit, n)}"


# How a summary names a built-in business-day calendar (passes/calendars.py) after "in
# the": "two business days in the New York banks' calendar", and what closes its days.
CALENDAR_WORDS = {
    "us_federal": ("U.S. federal holiday calendar", "U.S. federal holidays (as observed)"),
    "new_york_banks": ("New York banks' calendar",
                       "Federal Reserve holidays (when New York banks close)"),
    "us_government_securities": ("U.S. government securities (SIFMA) calendar",
                                 ("the full-day closes of the U.S. government securities "
                                  "market that SIFMA recommends")),
    "nyse": ("New York Stock Exchange calendar", "New York Stock Exchange holidays"),
    "target": ("TARGET (euro payments) calendar", "TARGET closing days for euro payments"),
    "london_banks": ("London banks' calendar", "bank holidays in England and Wales"),
    "weekends_only": ("weekends-only calendar", ""),
}


def calendar_name(name: str) -> str:
    """"New York banks' calendar": a calendar as a noun, after "the"."""
    words = CALENDAR_WORDS.get(name)
    return words[0] if words else f"{humanise(name)} calendar"


def business_days_of(name: str) -> str:
    """"every day but Saturday, Sunday and New York Stock Exchange holidays": which days
    are business days in a calendar."""
    words = CALENDAR_WORDS.get(name)
    closed = words[1] if words else f"the holidays of the {humanise(name)} calendar"
    return f"every day but Saturday, Sunday and {closed}" if closed else \
        "every day but Saturday and Sunday"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# The words of each unit of a period family (ir.PERIOD_UNITS), singular.
_PERIOD_UNITS = {"month": "month", "quarter": "quarter", "half_year": "half-year",
                 "year": "year"}


def period_basis(basis: str, unit: str, first_month: int = 1) -> str:
    """What the periods of a family are, without where they start: "calendar quarters",
    "fiscal years beginning April 1", "quarters of fiscal years beginning April 1",
    "contract years"."""
    units = plural_of(_PERIOD_UNITS.get(unit, humanise(unit)))
    if basis == "fiscal":
        begins = f"fiscal years beginning {_MONTHS[(first_month - 1) % 12]} 1"
        return begins if unit == "year" else f"the {units} of {begins}"
    return f"{basis} {units}"


def join(items: Iterable[str], last: str = "and", separator: str = ", ") -> str:
    """"A, B and C"; with separator "; " and last "and": "A; B; and C"."""
    listed = [str(i) for i in items]
    if len(listed) <= 1:
        return "".join(listed)
    if len(listed) == 2 and separator == ", ":
        return f"{listed[0]} {last} {listed[1]}"
    tail = f"{separator.rstrip()} {last} " if separator != ", " else f" {last} "
    return separator.join(listed[:-1]) + tail + listed[-1]


def list_style(label: str | None) -> int:
    """Which kind of numbering a label uses: (a) 0, (i) 1, (A) 2, (1) 3."""
    inner = (label or "").strip("()")
    if inner.isdigit():
        return 3
    if inner.isupper():
        return 2
    if inner in _ROMAN:  # "(i)" and "(v)" are read as roman numerals, as contracts mean them
        return 1
    return 0


def item_label(index: int, style: int) -> str:
    """The label of the index-th (0-based) item of a list numbered in `style`."""
    kind = _LIST_STYLES[style % len(_LIST_STYLES)]
    if kind == "a" or kind == "A":
        letters = ""
        n = index
        while True:
            letters = chr(ord("a") + n % 26) + letters
            n = n // 26 - 1
            if n < 0:
                break
        return f"({letters.upper() if kind == 'A' else letters})"
    if kind == "i":
        return f"({_ROMAN[index]})" if index < len(_ROMAN) else f"({index + 1})"
    return f"({index + 1})"


def cite(section: str | None) -> str:
    """How a summary names a section: "Section 3.1, as amended on March 31, 2004";
    declarations outside any section are the agreement's general provisions."""
    if not section:
        return "the general provisions"
    if section.lower().startswith(("section", "article", "schedule", "exhibit", "annex")):
        return section
    return f"Section {section}"


def cite_item(section: str | None, label: str | None) -> str:
    """"3.1, as amended on March 31, 2004" and "(a)" -> "Section 3.1(a), as amended on
    March 31, 2004": the listed item of a section, as the issue's example cites it."""
    if not section or not label:
        return cite(section)
    if cite(section) == section:  # an article, exhibit or schedule: "clause (a) of Article VI"
        return f"clause {label} of {section}"
    match = re.match(r"([^ ,]+)(.*)$", section)
    assert match is not None
    return cite(match.group(1) + label + match.group(2))


def strip_controls(text: str) -> str:
    """`text` without the characters a reader cannot see (tabs and newlines stay)."""
    return _CONTROL.sub("", text)


def md_escape(text: str) -> str:
    """Characters that Markdown would read as markup, escaped, on one line."""
    out = " ".join(strip_controls(str(text)).split("\n"))
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), out)


def escaper(fmt: str) -> Callable[[object], Any]:
    """The escaping of a format, idempotent: escaped text (a `Markup`) is left alone, so
    that a value escaped early is not escaped again where it is printed. Markdown and
    HTML return a `Markup`; text returns a str."""
    def markdown(value: object) -> Any:
        if hasattr(value, "__html__"):
            return value
        return Markup(md_escape(str(value)))

    def html(value: object) -> Any:
        if hasattr(value, "__html__"):
            return value
        return escape(strip_controls(str(value)))

    def text(value: object) -> Any:
        return strip_controls(str(value))

    return {"markdown": markdown, "html": html}.get(fmt, text)


def finalizer(fmt: str) -> Callable[[object], Any]:
    """jinja2's `finalize` of a format: what happens to every value a template prints
    before autoescape (if any) sees it."""
    if fmt == "markdown":
        return escaper(fmt)

    def html(value: object) -> Any:
        if isinstance(value, str) and not hasattr(value, "__html__"):
            return strip_controls(value)
        return value

    def text(value: object) -> Any:
        return strip_controls(value) if isinstance(value, str) else value

    return html if fmt == "html" else text


def code(fmt: str) -> Callable[[object], Any]:
    """A name as code: `closing_date` in Markdown, <code> in HTML. Markdown does not
    read escapes inside a code span, so anything but a plain name is escaped text."""
    esc = escaper(fmt)

    def filter_(value: object) -> Any:
        text = str(value)
        if fmt == "markdown" and _CODE.fullmatch(text):
            return Markup(f"`{text}`")
        if fmt == "html":
            return Markup("<code>%s</code>") % esc(text)
        return esc(text)

    return filter_


def text_table(rows: Iterable[Iterable[object]], indent: str = "", right: Iterable[bool] = ()
               ) -> str:
    """Plain-text rows as a table: the first row is the heading (a long heading on as
    many lines as it needs, no wider than its column's values or 16 characters),
    underlined; columns two spaces apart, those marked in `right` (numbers) aligned
    right."""
    cells = [[" ".join(str(c).split()) for c in row] for row in rows]
    if not cells:
        return ""
    count = max(len(row) for row in cells)
    cells = [row + [""] * (count - len(row)) for row in cells]
    widths = []
    for i in range(count):
        values = max((len(row[i]) for row in cells[1:]), default=0)
        words = max((len(w) for w in cells[0][i].split()), default=0)
        widths.append(max(values, words, min(len(cells[0][i]), 16)))
    heads = [textwrap.wrap(h, w, break_on_hyphens=False) or [""]
             for h, w in zip(cells[0], widths)]
    depth = max(len(h) for h in heads)
    flush = list(right) + [False] * count

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if flush[i] else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        return (indent + "  ".join(parts)).rstrip()

    heading = [line([h[k] if k < len(h) else "" for h in heads]) for k in range(depth)]
    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([*heading, rule, *(line(row) for row in cells[1:])])


def wrap(text: str, width: int = 88, indent: str = "", first: str | None = None) -> str:
    """Plain text wrapped for a terminal; `first` prefixes the first line instead of
    `indent` (a bullet, a label)."""
    return _keep(text, textwrap.fill(" ".join(str(text).split()), width=width,
                                     initial_indent=indent if first is None else first,
                                     subsequent_indent=indent, break_on_hyphens=False,
                                     break_long_words=False))


# ------------------------------------------------------------------- values


def literal(value: object, type_: T.Type | None, time_zone: str | None = None,
            zone_label: str | None = None) -> str:
    """A literal as the summary shows it: the runtime's formats ("$1,800,000.00",
    "7.5%", "March 30, 2004"), and the agreement's name for its time zone."""
    kind = type_.kind if type_ is not None else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = format_datetime(value)
        key = getattr(value.tzinfo, "key", None)
        if zone_label and key and key == time_zone:
            text = text.replace(f"({key})", f"({zone_label})")
        return text
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (int, Decimal)) and kind == "money":
        return format_money(Decimal(value), (type_.currency if type_ else None) or "USD")
    if isinstance(value, Decimal) and kind == "percent" and value.is_finite():
        return f"{value.scaleb(2):f}%"  # as the contract writes it: "7.50%"
    if isinstance(value, (int, Decimal)) and kind == "percent":
        return format_percent(Decimal(value))
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, Decimal) and value.is_finite():
        return f"{value:f}"  # as written: "4.50"
    if isinstance(value, Decimal):
        return format_value(value, "decimal")
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)


def type_words(type_: T.Type, calendar: str | None = None) -> str:
    """"an amount of money", "a date": what kind of value a fact is, in words. Business
    days of a calendar other than `calendar` (the agreement's) name theirs: "a number of
    business days in the New York Stock Exchange calendar"."""
    words = {
        "bool": "yes or no", "integer": "a whole number", "decimal": "a number",
        "money": "an amount of money", "percent": "a percentage", "date": "a date",
        "datetime": "a date and time", "days": "a number of days",
        "business_days": "a number of business days", "months": "a number of months",
        "party": "a party", "text": "a text",
    }
    out = words.get(type_.kind, str(type_))
    if type_.kind == "business_days" and type_.calendar and type_.calendar != calendar:
        out += f" in the {calendar_name(type_.calendar)}"
    return out


# ------------------------------------------------------------------ lexicon


class Lexicon:
    """What each name of one version of an agreement stands for, in words.

    Terms come from the clause file ("Requisite Board Approval"); a name without one is
    quoted as its words ("“signed on”") rather than given a grammar it may not have.
    Every string it returns is escaped for the output format (`esc`), once."""

    def __init__(self, checked: CheckedProgram, fmt: str = "text") -> None:
        self.checked = checked
        self.header = checked.header
        self.declarations = checked.declarations
        self.fmt = fmt
        self.parties = {p.name: p.display for p in checked.header.parties}
        self._escape = escaper(fmt)
        # The variables of the lists being read, innermost last (see `bind`).
        self._bound: list[_Binding] = []
        # Each member of a choice, by name, with its choice.
        self._members = {m.name: (m, d) for d in self.declarations.values()
                         if isinstance(d, ir.Choice) for m in d.members}

    # -- escaping

    def esc(self, text: object) -> Any:
        """User text escaped for the output format (left alone if already escaped)."""
        return self._escape(text)

    # -- what a name is

    def kind(self, name: str) -> str:
        """fact, definition, condition, exception, obligation, power, party, or name
        (a parameter, or a builtin)."""
        decl = self.declarations.get(name)
        if isinstance(decl, ir.Definition):
            return "condition" if decl.is_condition else "definition"
        if decl is not None:
            return type(decl).__name__.lower().rstrip("_")
        if name in self.parties:
            return "party"
        return "name"

    def decl(self, name: str) -> ir.Declaration | None:
        return self.declarations.get(name)

    def type_of(self, name: str) -> T.Type | None:
        return self.checked.types.get(name)

    def has_term(self, name: str) -> bool:
        decl = self.declarations.get(name)
        return bool(getattr(decl, "term", None))

    def _term(self, name: str) -> str:
        return str(getattr(self.declarations.get(name), "term", None) or "")

    def _quoted(self, name: str) -> str:
        """The term, or the quoted words of the name (raw text)."""
        return self._term(name) or f"“{humanise(name)}”"

    def term(self, name: str) -> Any:
        """The term as the contract spells it, or the quoted words of the name."""
        return self.esc(self._quoted(name))

    def noun(self, name: str) -> Any:
        """The name as a noun phrase in a sentence: "the Closing Date", "Seller"."""
        if name in self.parties and name not in self.declarations:
            return self.esc(self.parties[name])
        if name not in self.declarations:
            return self.esc(the(humanise(name)))  # a parameter: "the calendar year"
        return self.esc(the(self._term(name)) if self.has_term(name) else self._quoted(name))

    def is_plural(self, name: str) -> bool:
        """Whether a term is plural ("the Declined Proceeds are ...")."""
        return self.has_term(name) and plural(self._term(name))

    def holds(self, name: str, positive: bool = True, style: str | None = None) -> Any:
        """A yes/no name as a proposition: "there is no Requisite Board Approval"."""
        decl = self.declarations.get(name)
        if style is None:
            style = "event" if isinstance(decl, ir.Fact) else "condition"
        if not self.has_term(name):
            quoted = self._quoted(name)
            if isinstance(decl, ir.Definition):
                return self.esc(f"{quoted} holds" if positive else f"{quoted} does not hold")
            return self.esc(f"{quoted} is {'true' if positive else 'false'}")
        return self.esc(holds(self._term(name), positive, style))

    def given(self, name: str, positive: bool = True) -> Any:
        """`X is given`, in words: a date fact is an event that happened or not."""
        decl = self.declarations.get(name)
        type_ = self.type_of(name)
        moment = type_ is not None and type_.kind in T.MOMENTS
        if not self.has_term(name):
            return self.esc(f"{self._quoted(name)} is {'given' if positive else 'not given'}")
        term = self._term(name)
        if isinstance(decl, ir.Fact):
            return self.esc(holds(term, positive, "event" if moment else "given"))
        if moment and not definite(term):
            return self.esc(holds(term, positive, "condition"))
        return self.esc(holds(term, positive, "event" if moment else "given"))

    def is_date_term(self, name: str) -> bool:
        """Whether a term already says it is a date ("the date of the stockholder
        meeting", "Record Date")."""
        words = str(getattr(self.declarations.get(name), "term", "") or "").lower().split()
        return "date" in words or "time" in words[:2]

    def party(self, name: str) -> Any:
        return self.esc(self.parties.get(name, humanise(name)))

    def parameter(self, param: ir.Parameter) -> Any:
        """"a calendar year": how a parametrised term introduces its parameter; a period
        by its family and its name, which the term's words use: "a royalty quarter q"."""
        if param.type.kind == "period" and param.type.family:
            return self.esc(f"{indefinite(self._family(param.type.family))} {param.name}")
        if param.type.kind in ("record", "choice"):  # "a Sale of Base Product Units s"
            return self.esc(f"{indefinite(self._noun_of(param.type))} {param.name}")
        return self.esc(indefinite(humanise(param.name)))

    # -- periods

    def _family(self, name: str, many: bool = False) -> str:
        decl = self.declarations.get(name)
        words = decl.display if isinstance(decl, ir.PeriodFamily) else ir.family_display(name)
        return plural_of(words) if many else words

    def family(self, name: str, many: bool = False) -> Any:
        """A period family as a noun, without its article: "royalty quarter", "calendar
        half-year"; `many`: in the plural ("royalty quarters")."""
        return self.esc(self._family(name, many))

    def is_variable(self, name: str) -> bool:
        """Whether a name is a parameter or the variable of a range (no declaration)."""
        return name not in self.declarations and name not in self.parties

    def given_for(self, name: str, positive: bool, args: Any) -> Any:
        """`X(q) is given` of a series fact, in words, its period after its term: "the
        date the statement was provided for q is known"."""
        if not self.has_term(name):
            return None
        decl = self.declarations.get(name)
        type_ = self.type_of(name)
        moment = type_ is not None and type_.kind in T.MOMENTS
        phrase = f"{self._term(name)} for {_HOLE}"
        if moment and self.is_date_term(name):
            # "the date the royalties were paid for q": a date that is set or not
            words = self.esc(f"{the(phrase)} is {'known' if positive else 'not known'}")
        else:
            style = "event" if moment else "given"
            if not isinstance(decl, ir.Fact) and moment and not definite(phrase):
                style = "condition"
            words = self.esc(holds(phrase, positive, style))
        filled = str(words).replace(_HOLE, str(args))
        return Markup(filled) if hasattr(words, "__html__") else filled

    # -- values

    def literal(self, e: ir.Literal) -> Any:
        return self.esc(literal(e.value, e.type, self.header.time_zone,
                                self.header.time_zone_label))

    def value_text(self, value: object, kind: str, currency: str = "USD",
                   type_: T.Type | None = None) -> Any:
        """A computed value (from an explanation), formatted as `eval` prints it; a list,
        record, share or member of a choice by its type, in the contract's words:
        "[A: $28,571.43; B: $71,428.58]", "Base Rate Loans"."""
        if type_ is not None and type_.kind in ("list", "record", "share", "choice"):
            return self.esc(self._data(value, type_))
        if kind in ("money", "percent", "date", "datetime", "days", "business_days",
                    "months", "decimal"):
            return self.esc(format_value(value, kind, currency))
        if isinstance(value, int) and not isinstance(value, bool):
            return self.esc(integer(value))
        return self.esc(format_value(value, kind if kind in _VALUE_KINDS else "text",
                                     currency))

    def _data(self, value: object, type_: T.Type | None, short: bool = False) -> str:
        """A value of the clause's data in words (raw); `short`: a record by its first
        text field, if it has one (as an item of a list, or what a share goes to)."""
        kind = type_.kind if type_ is not None else ""
        if value is None:
            return "no value"
        if kind == "choice" and isinstance(value, str):
            return str(self.member(value))
        if kind == "list" and isinstance(value, (tuple, list)):
            element = type_.element if type_ is not None else None
            many = element is not None and element.kind in ("record", "share")
            listed = [self._data(v, element, True) for v in value]
            return "[" + ("; " if many else ", ").join(listed) + "]"
        if kind == "share" and isinstance(value, dict):
            item = self._data(value.get("item"), type_.element if type_ else None, True)
            amount = format_value(value.get("amount"), "money",
                                  (type_.currency if type_ else None) or self.header.currency)
            return f"{item}: {amount}"
        decl = self.declarations.get(type_.name or "") if type_ is not None else None
        if kind == "record" and isinstance(value, dict) and \
                isinstance(decl, (ir.Record, ir.Table)):
            if short:
                for f in decl.fields:
                    if f.type.kind == "text" and isinstance(value.get(f.name), str):
                        return str(value[f.name])
            return "(" + ", ".join(f"{f.term or humanise(f.name)}: "
                                   f"{self._data(value.get(f.name), f.type)}"
                                   for f in decl.fields) + ")"
        if kind in _VALUE_KINDS and not isinstance(value, (tuple, list, dict)):
            if isinstance(value, int) and not isinstance(value, bool) and kind in \
                    ("integer", "decimal"):
                return integer(value)
            return format_value(value, kind, (type_.currency if type_ else None)
                                or self.header.currency)
        return format_value(value, "text")

    def calendar(self, name: str | None) -> Any:
        """After a number of business days: "" for the agreement's calendar (the default),
        else the calendar they are counted in ("in the New York banks' calendar")."""
        if name is None or name == self.header.calendar:
            return self.esc("")
        return self.esc(f"in the {self._calendar_name(name)}")

    def _calendar_name(self, name: str) -> str:
        decl = self.declarations.get(name)
        if isinstance(decl, ir.UserCalendar) and decl.term:
            return f"{decl.term} calendar"  # the agreement's own: "Business Day calendar"
        return calendar_name(name)

    def calendar_noun(self, name: str) -> Any:
        """A calendar as a noun: "the New York banks' calendar"."""
        return self.esc(f"the {self._calendar_name(name)}")

    def type_words(self, type_: T.Type) -> Any:
        """What kind of value a fact is ("a number of months"), with the calendar of
        business days when it is not the agreement's; a list, a record or a choice with
        what a value of it is made of ("a list of Term Lenders, each with: name (a text);
        outstanding Term Loans (`principal`: an amount of money)"), the names a fact's
        value is given with shown where the words differ from them."""
        return self._out(self._type_words(type_))

    def section_of(self, name: str) -> str | None:
        decl = self.declarations.get(name)
        return getattr(decl, "section", None)

    # -- lists, records and choices
    #
    # What is said of each item of a list ("each Term Lender's outstanding Term Loans",
    # "the number of Term Lenders that have delivered a rejection notice") is rendered by
    # the macros with marks where the list's variable goes (`variable`, `field_value`),
    # and the marks are then replaced by the words that fit where they stand: the first by
    # the list's head ("each Term Lender", "the first row of the Leverage Step-Down", with
    # the relative clause of its `when`), the others by "the Term Lender". Text in and out
    # of these methods is escaped for the format.

    def _out(self, text: str) -> Any:
        """Escaped text (a str of escaped words) as the format's escaped value."""
        return Markup(text) if self.fmt in ("html", "markdown") else text

    def _e(self, text: str) -> str:
        """Raw words, escaped for the format, as a str."""
        return str(self.esc(text))

    @property
    def _s(self) -> str:
        """The possessive "'s", escaped."""
        return self._e("'s")

    def member(self, name: str) -> Any:
        """A member of a choice as the contract names it: "Term Benchmark Loans"."""
        found = self._members.get(name)
        return self.esc(found[0].display if found else humanise(name))

    def is_member(self, name: str) -> bool:
        return name in self._members and name not in self.declarations

    def members(self, names: Iterable[str]) -> Any:
        """"Term Benchmark Loans or Daily Simple SOFR Loans" (the members of a case)."""
        return self._out(join([str(self.member(n)) for n in names], "or"))

    def case_says_subject(self, case: ir.Case) -> bool:
        """Whether a case names what it depends on ("depending on the Type of the
        Borrowing: ..."): unless it is the one fact or term of its choice, which the
        members' words then name ("for Term Benchmark Loans, 7.50%; ...")."""
        subject, type_ = case.subject, case.subject.type
        if not isinstance(subject, ir.Name) or type_ is None or type_.kind != "choice":
            return True
        same = [n for n, t in self.checked.types.items()
                if t is not None and t.kind == "choice" and t.name == type_.name]
        return same != [subject.name]

    def _noun_of(self, type_: T.Type | None, many: bool = False) -> str:
        """What one value of a type is called (raw words): "Term Lender", "row of the
        Leverage Step-Down", "Type of Loan", "amount"."""
        if type_ is None:
            return "items" if many else "item"
        decl = self.declarations.get(type_.name or "")
        if type_.kind == "record" and isinstance(decl, ir.Table):
            noun = f"row of {the(decl.term or humanise(decl.name))}"
        elif type_.kind in ("record", "choice") and decl is not None:
            noun = str(getattr(decl, "term", None) or humanise(decl.name))
        elif type_.kind == "list":
            noun = f"list of {self._noun_of(type_.element, True)}"
        else:
            noun = _ITEM_NOUNS.get(type_.kind, "item")
        return plural_of(noun) if many else noun

    def bind(self, variable: str, source: ir.Expr, words: object) -> str:
        """Read the items of `source` (whose English is `words`) as `variable`, until
        `unbind`: the macros of what is said of each item mark where it goes."""
        type_ = source.type
        element = type_.element if type_ is not None else None
        share = None
        if element is not None and element.kind == "share":
            share = str(words)  # the shares of an allocation: read as what they go to
            element = element.element
        noun = self._noun_of(element)
        qualifier = ""
        decl = self.declarations.get(element.name or "") if element is not None else None
        if isinstance(decl, ir.Table):  # "each row of the Leverage Step-Down"
            noun = "row"
            qualifier = f" of {self._e(the(decl.term or humanise(decl.name)))}"
        elif share is None:
            noun, implied = self._implied(noun, source, decl)
            if not implied:  # which list, when its words do not say: "in “lenders”"
                qualifier = f" in {words}"
        self._bound.append(_Binding(variable, self._e(noun), self._e(plural_of(noun)),
                                    qualifier, share))
        return ""

    def _implied(self, noun: str, source: ir.Expr, record: object) -> tuple[str, bool]:
        """What an item of a list fact or term is called, and whether that says which
        list it is of: "Term Lender" of the Term Lenders (or of “lenders”, a list of
        lenders); "Scheduled Payment" of the Scheduled Payments, a list of payments."""
        decl = self.declarations.get(source.name) if isinstance(source, ir.Name) else None
        if decl is None:
            return noun, False
        own = bare(str(getattr(decl, "term", None) or humanise(decl.name)))
        many = plural_of(noun)
        names = {many.lower()}
        if isinstance(record, (ir.Record, ir.Choice)):
            names.add(plural_of(humanise(record.name)).lower())
        if own.lower() in names:
            return noun, True
        if not getattr(record, "term", None) and own.lower().endswith(" " + many.lower()):
            # a record without a term, in a list whose term names it: "Scheduled Payment"
            tail = own[len(own) - len(many):]
            single = noun[:1].upper() + noun[1:] if tail[:1].isupper() else noun
            return own[:len(own) - len(many)] + single, True
        return noun, False

    def unbind(self) -> str:
        self._bound.pop()
        return ""

    def _index(self, name: str) -> int | None:
        for n in range(len(self._bound) - 1, -1, -1):
            if self._bound[n].variable == name:
                return n
        return None

    def _item_of(self, e: ir.Expr) -> int | None:
        """The binding whose item `e` is: its variable, or `.item` of a share's."""
        if isinstance(e, ir.Name):
            n = self._index(e.name)
            return n if n is not None and self._bound[n].share is None else None
        if isinstance(e, ir.Field) and e.field == "item" and isinstance(e.operand, ir.Name):
            n = self._index(e.operand.name)
            return n if n is not None and self._bound[n].share is not None else None
        return None

    def variable(self, name: str) -> Any:
        """The mark of a variable of a list being read, or None if `name` is not one."""
        n = self._index(name)
        if n is None:
            return None
        if self._bound[n].share is not None:  # a share: "the share of X allocated to ..."
            return self._out(f"the share of {self._bound[n].share} allocated to "
                             f"{_VAR}{n}{_END}")
        return self._out(f"{_VAR}{n}{_END}")

    def mentions_item(self, e: ir.Expr) -> bool:
        """Whether an expression speaks of an item of a list being read."""
        if not self._bound:
            return False
        names = {b.variable for b in self._bound}
        return any(isinstance(node, ir.Name) and node.name in names for node in ir.walk(e))

    def _field(self, e: ir.Field) -> tuple[str, bool]:
        """The raw words of a field of a record and whether they are its term."""
        type_ = e.operand.type
        decl = self.declarations.get(type_.name or "") if type_ is not None else None
        if isinstance(decl, (ir.Record, ir.Table)):
            for f in decl.fields:
                if f.name == e.field:
                    return (f.term, True) if f.term else (humanise(f.name), False)
        return humanise(e.field), False

    def fields_with_where(self, type_: T.Type) -> tuple[ir.RecordField, ...]:
        """The fields with a `where` of a record type, or of a list's records."""
        if type_.kind == "list" and type_.element is not None:
            type_ = type_.element
        decl = self.declarations.get(type_.name or "") if type_.kind == "record" else None
        if not isinstance(decl, (ir.Record, ir.Table)):
            return ()
        return tuple(f for f in decl.fields if f.constraint is not None)

    def column(self, f: ir.RecordField) -> Any:
        """A field or column of a record or table, as its term or its name's words."""
        return self.esc(f.term or humanise(f.name))

    def field_value(self, e: ir.Field, owner: object) -> Any:
        """A field of a record or share as a value: of an item of a list being read, a
        mark ("each Term Lender's outstanding Term Loans" once filled); else "the
        outstanding Term Loans of `owner`"."""
        operand = e.operand
        if (operand.type is not None and operand.type.kind == "share"):
            n = self._index(operand.name) if isinstance(operand, ir.Name) else None
            if n is not None and self._bound[n].share is not None:
                if e.field == "item":
                    return self._out(f"{_VAR}{n}{_END}")
                return self._out(f"the amount of {self._bound[n].share} allocated to "
                                 f"{_VAR}{n}{_END}")
            what = "amount" if e.field == "amount" else \
                self._noun_of(operand.type.element)
            return self._out(f"the {self._e(what)} of {owner}")
        words, _ = self._field(e)
        n = self._item_of(operand)
        if n is not None:
            # (without an article: "each row's first unit of the tier")
            return self._out(f"{_POS}{n}{_SEP}{self._e(bare(words))}{_END}")
        return self._out(f"{self._e(the(words))} of {owner}")

    def field_holds(self, e: ir.Field, positive: bool, owner: object) -> Any:
        """A yes/no field of a record as a proposition: "the Term Lender has delivered a
        rejection notice", "... is a Defaulting Lender", "... is “declined”"."""
        words, term = self._field(e)
        if not term:
            predicate = f"is “{words}”" if positive else f"is not “{words}”"
        elif is_clause(words):
            predicate = words if positive else negate_clause(words)
        elif _first(words).endswith("ed"):  # "delivered a notice": something done
            predicate = f"has {words}" if positive else f"has not {words}"
        elif _first(words).endswith("ing"):  # "using the DSP Framework"
            predicate = f"is {words}" if positive else f"is not {words}"
        else:
            predicate = f"is {indefinite(words)}" if positive else f"is not {indefinite(words)}"
        n = self._item_of(e.operand)
        subject = f"{_VAR}{n}{_END}" if n is not None else str(owner)
        return self._out(f"{subject} {self._e(predicate)}")

    def _of(self, owner: str, noun: str, words: str) -> str:
        """A field of an item: "each Term Lender's outstanding Term Loans"; where a
        possessive would not read ("Sale of Base Product Units's"), "the date of the
        Sale of Base Product Units"."""
        if " of " in noun or noun.endswith("s"):
            return f"{the(words)} of {owner}"
        return f"{owner}{self._s} {words}"

    def _fill(self, text: str, n: int,
              first: Callable[[str, str], str] | None = None) -> tuple[str, bool]:
        """`text` with the marks of binding `n` replaced: the first by `first(kind,
        words)` (if given), the others by "the Term Lender" and "the Term Lender's
        outstanding Term Loans"; and whether there was one."""
        binding = self._bound[n]
        found = False

        def later(kind: str, words: str) -> str:
            noun = f"the {binding.noun}"  # "the Term Lender", "the row"
            return noun if kind == _VAR else self._of(noun, binding.noun, words)

        def replace(m: re.Match[str]) -> str:
            nonlocal found
            if int(m.group(2)) != n:
                return m.group(0)
            kind, words = m.group(1), m.group(3) or ""
            chosen = first if first is not None and not found else later
            found = True
            return chosen(kind, words)

        return _MARK.sub(replace, text), found

    def _relative(self, when: object, n: int, many: bool) -> str:
        """The `when` of a list as a relative clause of its head: " that has delivered
        a rejection notice", " whose ending is on or after ...", " for which ..."."""
        text = str(squash(str(when))) if when else ""
        if not text:
            return ""
        m = _MARK.match(text)
        if m is not None and int(m.group(2)) == n:
            rest, _ = self._fill(text[m.end():], n)
            if m.group(1) == _POS:
                return f" whose {m.group(3)}{_agreeing(m.group(3), rest)}"
            if rest.startswith(" "):
                rest = rest[1:]
                return f" that {_plural_verb(rest) if many else rest}"
        filled, _ = self._fill(text, n)
        return f" for which {filled}"

    def each(self, body: object, when: object, det: str = "each") -> Any:
        """What is said of each item of the innermost list being read, with `det` before
        its head: "each Term Lender's outstanding Term Loans", "the outstanding Term
        Loans of each Term Lender that has delivered a rejection notice", "the maximum
        of the first row of the Leverage Step-Down whose ending is ..."."""
        n = len(self._bound) - 1
        b = self._bound[n]
        rel = self._relative(when, n, False)
        head = f"{det} {b.noun}{b.qualifier}"
        text = str(squash(str(body)))

        def first(kind: str, words: str) -> str:
            if kind == _VAR:
                return head + rel
            if b.qualifier or rel:
                return f"{the(words)} of {head}{rel}"
            return self._of(head, b.noun, words)

        m = _MARK.search(text)
        while m is not None and int(m.group(2)) != n:
            m = _MARK.search(text, m.end())
        if m is None or (rel and text[m.end():].strip() and
                         not text[m.end():].lstrip().startswith((",", ";"))):
            # the relative clause would run into what follows the head: "the Term
            # Lender's outstanding Term Loans times 2 for each Term Lender that ..."
            filled, _ = self._fill(text, n)
            return self._out(f"{filled} for {head}{rel}")
        filled, _ = self._fill(text, n, first)
        return self._out(filled)

    def all_items(self, when: object, det: str = "the") -> Any:
        """The items themselves, in the plural: "the Term Lenders that have delivered a
        rejection notice" (`det` "" after "the number of")."""
        n = len(self._bound) - 1
        b = self._bound[n]
        head = f"{det} {b.nouns}{b.qualifier}".strip()
        return self._out(head + self._relative(when, n, True))

    def quantified(self, kind: str, positive: bool, holds: object, fails: object,
                   when: object, simple: bool = True) -> Any:
        """`all of`, `any of` or `none of` what is said of each item (`holds`, and
        `fails` said negatively), as said with `positive`: "every Term Lender has
        delivered a rejection notice", "no row of ...", "for at least one Term Lender
        that ..., the Term Lender's ..."."""
        n = len(self._bound) - 1
        b = self._bound[n]
        rel = self._relative(when, n, False)
        text = str(squash(str(holds)))
        quantifier = {("all", True): "every", ("any", True): "at least one",
                      ("none", True): "no", ("all", False): "not every",
                      ("any", False): "no", ("none", False): "at least one"}[(kind, positive)]
        m = _MARK.match(text) if simple else None
        if m is not None and int(m.group(2)) == n and (m.group(1) == _VAR or not
                                                       (rel or b.qualifier)):
            rest, _ = self._fill(text[m.end():], n)
            if m.group(1) == _VAR:
                return self._out(f"{quantifier} {b.noun}{b.qualifier}{rel}{rest}")
            return self._out(self._of(f"{quantifier} {b.noun}", b.noun, m.group(3))
                             + _agreeing(m.group(3), rest))
        every = (kind, positive) in (("all", True), ("none", True), ("any", False))
        said = (kind, positive) in (("all", True), ("any", True), ("none", False))
        filled, _ = self._fill(str(squash(str(holds if said else fails))), n)
        intro = "every" if every else "at least one"
        return self._out(f"for {intro} {b.noun}{b.qualifier}{rel}, {filled}")

    def allocation(self, method: str, body: object, when: object) -> Any:
        """To whom an allocation applies its amount: "pro rata to the Term Lenders
        according to their outstanding Term Loans", "in order to the Installments, each
        up to its amount"."""
        n = len(self._bound) - 1
        b = self._bound[n]
        head = f"the {b.nouns}{b.qualifier}{self._relative(when, n, True)}"
        text = str(squash(str(body)))
        pro_rata = method == "pro_rata"

        def pronoun(kind: str, words: str) -> str:
            if kind == _VAR:
                return "them" if pro_rata else "it"
            return f"{'their' if pro_rata else 'its'} {words}"

        filled, found = _MARK.subn(
            lambda m: pronoun(m.group(1), m.group(3) or "") if int(m.group(2)) == n
            else m.group(0), text)
        if pro_rata:
            return self._out(f"pro rata to {head} according to {filled}" if found else
                             f"pro rata to {head} in proportion to {text} each")
        return self._out(f"in order to {head}, each up to {filled}" if found else
                         f"in order to {head}, each up to {text}")

    def first_item(self, source: ir.Expr, words: object) -> Any:
        """`first of` a list that is not built here: "the first Term Lender", "the
        first row of the Leverage Step-Down", "the first of “shares”"."""
        self.bind("", source, words)
        b = self._bound.pop()
        if b.share is not None:
            return self._out(f"the first share of {words}")
        return self._out(f"the first {b.noun}{b.qualifier}")

    def number_of(self, source: ir.Expr, words: object) -> Any:
        """`number of` a list that is not built here: "the number of Term Lenders", "...
        of rows of the Leverage Step-Down", "... of amounts in “caps”"."""
        self.bind("", source, words)
        b = self._bound.pop()
        if b.share is not None:
            return self._out(f"the number of shares of {words}")
        return self._out(f"the number of {b.nouns}{b.qualifier}")

    def _type_words(self, type_: T.Type) -> str:
        """`type_words`, escaped, as a str."""
        if type_.kind == "list" and type_.element is not None:
            element = type_.element
            what = f"a list of {self._e(self._noun_of(element, True))}"
            if element.kind == "record":
                return f"{what}, each with: {self._field_list(element)}"
            if element.kind == "choice":
                return f"{what}, each {self._type_words(element)}"
            return what
        if type_.kind == "record":
            return f"{self._e(indefinite(self._noun_of(type_)))}, with: " \
                   f"{self._field_list(type_)}"
        if type_.kind == "choice":
            decl = self.declarations.get(type_.name or "")
            if isinstance(decl, ir.Choice):
                show = code(self.fmt)
                listed = [self._e(m.display) + ("" if m.display == m.name else
                                                f" ({show(m.name)})") for m in decl.members]
                return "one of " + join(listed, "or")
        return self._e(type_words(type_, self.header.calendar))

    def _field_list(self, type_: T.Type) -> str:
        """"name (a text); outstanding Term Loans (`principal`: an amount of money)"."""
        decl = self.declarations.get(type_.name or "")
        if not isinstance(decl, (ir.Record, ir.Table)):
            return ""
        show = code(self.fmt)
        listed = []
        for f in decl.fields:
            words = f.term or humanise(f.name)
            named = "" if words == f.name else f"{show(f.name)}: "
            listed.append(f"{self._e(words)} ({named}{self._type_words(f.type)})")
        return "; ".join(listed)


# Where the arguments go in a phrase built before they are known (a private-use character,
# which no escaping touches).
_HOLE = "\ue000"

_VALUE_KINDS = frozenset({"bool", "integer", "decimal", "money", "percent", "date",
                          "datetime", "days", "business_days", "months", "party", "text"})

# Where the variable of a list being read goes in a phrase, until the words for it are known
# (Lexicon.bind): `_VAR n _END` is the item itself, `_POS n _SEP words _END` a field of it.
_VAR, _POS, _SEP, _END = "\ue001", "\ue003", "\ue004", "\ue002"
_MARK = re.compile("([\ue001\ue003])([0-9]+)(?:\ue004([^\ue002]*))?\ue002")

# What one item of a list of values of each kind is called.
_ITEM_NOUNS = {"money": "amount", "percent": "rate", "date": "date", "datetime": "time",
               "integer": "number", "decimal": "number", "bool": "condition", "text": "text",
               "party": "party", "days": "number of days", "business_days":
               "number of business days", "months": "number of months", "period": "period",
               "share": "share"}

# The verbs of a relative clause in the plural: "that have delivered a notice".
_PLURAL_VERBS = {"has": "have", "is": "are", "was": "were", "does": "do"}


def _plural_verb(clause: str) -> str:
    """A clause whose subject was singular, with its first verb in the plural: "has
    delivered" -> "have delivered", "is a Defaulting Lender" -> "are Defaulting Lenders"."""
    word, _, rest = clause.partition(" ")
    if word in _PLURAL_VERBS:
        word = _PLURAL_VERBS[word]
    elif word in _VERBS:
        word = _base_form(word)
    if word == "are":
        negated = rest.startswith("not ")
        after = rest[4:] if negated else rest
        if _first(after) in ("a", "an") and len(_words(after)) > 1:
            rest = ("not " if negated else "") + plural_of(bare(after))
    return f"{word} {rest}" if rest else word


def _agreeing(subject: str, rest: str) -> str:
    """What follows a subject, its verb in the plural if the subject is: "(whose
    outstanding Term Loans) are more than ..."."""
    if plural(subject) and rest.startswith(" is "):
        return " are " + rest[4:]
    return rest


class _Binding(NamedTuple):
    """A list being read (Lexicon.bind): its variable, what one item of it is called and
    in the plural (escaped), which list, if the words do not say (" in “lenders”", " of
    the Leverage Step-Down"), and for a list of shares the allocation's words."""

    variable: str
    noun: str
    nouns: str
    qualifier: str
    share: str | None


def kind_of(node: object) -> str:
    """The IR class of a node, which names its macro in english.j2."""
    return type(node).__name__


def filters(fmt: str = "text") -> dict[str, Callable[..., Any]]:
    """The filters every template of a format can use: `esc` (and its older name `md`)
    escapes for the format, `code` shows a name as code; the others only move words, and
    keep escaped text escaped."""
    esc = escaper(fmt)

    def join_words(items: Iterable[object], last: str = "and", separator: str = ", "
                   ) -> Any:
        listed = list(items)
        if any(hasattr(i, "__html__") for i in listed):
            return Markup(join([esc(i) for i in listed], last, separator))
        return join([str(i) for i in listed], last, separator)

    def keeping(phrase: Callable[[Any], str]) -> Callable[[Any], Any]:
        return lambda text: _keep(text, phrase(text))

    return {
        "kind": kind_of, "squash": squash, "sentence": sentence, "capital": capital,
        "the": keeping(the), "indefinite": keeping(indefinite), "plural": plural,
        "holds": lambda text, *a: _keep(text, holds(text, *a)),
        "days_words": days, "duration_words": duration, "unit_words": unit_words,
        "number_words": number_words, "join_words": join_words,
        "plural_of": keeping(plural_of), "period_basis": period_basis,
        "list_style": list_style, "item_label": item_label, "cite": keeping(cite),
        "cite_item": lambda section, label: _keep(section, cite_item(section, label)),
        "wrap": wrap, "humanise": humanise, "key": id, "type_words": type_words,
        "esc": esc, "md": esc, "code": code(fmt), "date_words": format_date,
        "chain": chain, "text_table": text_table,
    }
