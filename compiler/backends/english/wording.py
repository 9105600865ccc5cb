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
from typing import Any

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
    if isinstance(value, (int, Decimal)) and kind == "percent":
        return format_percent(Decimal(value))
    if isinstance(value, int):
        return integer(value)
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

    def value_text(self, value: object, kind: str, currency: str = "USD") -> Any:
        """A computed value (from an explanation), formatted as `eval` prints it."""
        if kind in ("money", "percent", "date", "datetime", "days", "business_days",
                    "months", "decimal"):
            return self.esc(format_value(value, kind, currency))
        if isinstance(value, int) and not isinstance(value, bool):
            return self.esc(integer(value))
        return self.esc(format_value(value, kind if kind in _VALUE_KINDS else "text",
                                     currency))

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
        business days when it is not the agreement's."""
        return self.esc(type_words(type_, self.header.calendar))

    def section_of(self, name: str) -> str | None:
        decl = self.declarations.get(name)
        return getattr(decl, "section", None)


# Where the arguments go in a phrase built before they are known (a private-use character,
# which no escaping touches).
_HOLE = "\ue000"

_VALUE_KINDS = frozenset({"bool", "integer", "decimal", "money", "percent", "date",
                          "datetime", "days", "business_days", "months", "party", "text"})


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
        "chain": chain,
    }
