"""`clausec lsp`: the language server of clause files, over standard input and output.

Diagnostics as you type (those of `clausec check`; an amendment is checked with its
agreement), hover, go to definition, references, completion, outline, rename,
formatting and semantic tokens. Built on pygls; the knowledge of clause files is in
workspace.py (which files belong together, incremental analysis) and navigation.py
(the symbol index). No request may bring the server down: every handler logs what went
wrong and answers with an empty result.

Every request is answered, whatever it holds (see `_protocol_class`): params that are not
what the method takes get InvalidParams, saying which field and why; an unknown method
MethodNotFound; a position past the end of its line or of the file is read as that end,
as the protocol says. A notification that makes no sense is dropped, as the protocol
says too. What the server keeps is bounded (workspace.py).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from clausec import __version__, ir
from clausec.diagnostics import Diagnostic
from clausec.front import parser
from clausec.tools.lsp import navigation, records
from clausec.tools.lsp.navigation import FileIndex, Occurrence, Range, Symbol
from clausec.tools.lsp.workspace import Group, Workspace

log = logging.getLogger("clausec.lsp")

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
BUILTINS = frozenset({"year", "month", "day", "days_between", "round"})

TOKEN_TYPES = ["keyword", "string", "number", "comment", "namespace", "function", "variable",
               "enumMember", "parameter", "type", "property"]
TOKEN_MODIFIERS = ["declaration", "readonly", "defaultLibrary"]
_DEFAULT_LIBRARY = 4  # the bit of "defaultLibrary": a built-in function
_NUMBERS = {"INT", "DECIMAL", "PERCENT", "MONEY", "ISO_DATE", "LONG_DATE", "DATETIME",
            "TIME_OF_DAY"}
_SECTION_WORDS = {"section", "sections"}


# ======================================================== what the features answer
# Pure functions of the workspace: the server below only converts to LSP types.


def _kind_of(indexes: list[FileIndex]) -> dict[str, str]:
    """name → kind (fact, definition, ..., party) of every name the group declares."""
    kinds: dict[str, str] = {}
    for index in indexes:
        for occurrence in index.occurrences:
            if occurrence.role == "decl" and occurrence.kind != "section":
                kinds.setdefault(occurrence.key, occurrence.kind)
    return kinds


def declarations_of(ws: Workspace, group: Group, key: str
                    ) -> list[tuple[Path, Occurrence]]:
    return [(Path(i.file), o) for i in ws.indexes(group) for o in i.occurrences
            if o.key == key and o.role == "decl"]


def occurrences_of(ws: Workspace, group: Group, key: str) -> list[tuple[Path, Occurrence]]:
    return [(Path(i.file), o) for i in ws.indexes(group) for o in i.occurrences
            if o.key == key]


def clamp(text: str, line: int, character: int) -> tuple[int, int]:
    """A position in `text`: a character past the end of its line is the end of the line
    (as the protocol says), a line past the end of the text the end of the text."""
    lines = text.split("\n")
    if line >= len(lines):
        return len(lines) - 1, len(lines[-1])
    line = max(line, 0)
    return line, max(0, min(character, len(lines[line])))


def definition(ws: Workspace, path: Path, line: int, character: int
               ) -> list[tuple[Path, Range]]:
    group = ws.group(path)
    occurrence = ws.index(path, group).at(line, character)
    if occurrence is None:
        return []
    found = declarations_of(ws, group, records.resolve(ws, group, path, occurrence))
    # The declaration of the file itself first: an amendment's own, or the agreement's.
    found.sort(key=lambda item: item[0] != path)
    return [(file, o.range) for file, o in found]


def references(ws: Workspace, path: Path, line: int, character: int,
               include_declaration: bool = True) -> list[tuple[Path, Range]]:
    group = ws.group(path)
    occurrence = ws.index(path, group).at(line, character)
    if occurrence is None:
        return []
    found = records.field_references(ws, group, path, occurrence) \
        if occurrence.kind == "field" else occurrences_of(ws, group, occurrence.key)
    return [(file, o.range) for file, o in found
            if include_declaration or o.role == "ref"]


def _symbol_at(index: FileIndex, r: Range) -> Symbol | None:
    stack = list(index.symbols)
    while stack:
        symbol = stack.pop()
        if symbol.selection == r:
            return symbol
        stack.extend(symbol.children)
    return None


def hover(ws: Workspace, path: Path, line: int, character: int) -> str | None:
    """Markdown: what the name or section under the cursor is."""
    group = ws.group(path)
    occurrence = ws.index(path, group).at(line, character)
    if occurrence is None:
        return None
    if occurrence.kind == "calendar":
        return calendar_hover(occurrence.text)
    if occurrence.kind == "field" or occurrence.kind.startswith("item:"):
        return records.hover(ws, group, path, occurrence)
    if occurrence.kind.startswith("range:"):
        family = occurrence.kind.removeprefix("range:")
        return f"`{occurrence.text}` — {_a(_family_words(ws, group, family))}"
    found = declarations_of(ws, group, occurrence.key)
    found.sort(key=lambda item: item[0] != path)
    if not found:
        return None
    file, declared = found[0]
    symbol = _symbol_at(ws.index(file, group), declared.range)
    if occurrence.kind == "section" or declared.kind == "section":
        return _section_hover(declared.text, symbol)
    if symbol is None:
        return f"**{declared.kind}** `{declared.text}`"
    if symbol.kind == "periods":
        return _periods_hover(ws, file, symbol)
    if symbol.kind in records.KINDS:
        return records.declaration_hover(ws, group, file, symbol)
    return _term_hover(ws, group, file, symbol)


def _family_words(ws: Workspace, group: Group, family: str) -> str:
    """What a period family is called: its declaration's title (`royalty quarter`), or
    its name in words; `calendar month` as it is."""
    if family in navigation.CALENDAR_FAMILIES:
        return family
    for file, declared in declarations_of(ws, group, navigation.name_key(family)):
        symbol = _symbol_at(ws.index(file, group), declared.range)
        if symbol is not None and symbol.kind == "periods" and symbol.title:
            return symbol.title
    return family.replace("_", " ")


def _a(words: str) -> str:
    return ("an " if words[:1].lower() in "aeiou" and words[:1] else "a ") + words


def _periods_hover(ws: Workspace, file: Path, symbol: Symbol) -> str:
    """`royalty quarter: calendar quarters from commencement_date`."""
    text = ws.text(file) or ""
    r = symbol.range
    lines = text.split("\n")[r.line:r.end_line + 1]
    if lines:
        lines[-1] = lines[-1][:r.end_character] if r.line != r.end_line else \
            lines[-1][r.character:r.end_character]
        if r.line != r.end_line:
            lines[0] = lines[0][r.character:]
    source = re.sub(r"\s+", " ", re.sub(r"#[^\n]*", "", "\n".join(lines)))
    rule = source.split("=", 1)[1].strip() if "=" in source else ""
    name = symbol.title or symbol.name.replace("_", " ")
    out = [f"**periods** `{symbol.name}`", "", f"{name}: {rule}" if rule else name]
    facts = [f"*{ir.cite(symbol.section)}*"] if symbol.section else []
    if file.name:
        facts.append(f"*in* `{file.name}`")
    if facts:
        out += ["", " · ".join(facts)]
    return "\n".join(out)


def calendar_hover(name: str) -> str:
    """Markdown: what a built-in calendar is, where its holidays come from, and the years
    it knows (or, for a name that is none, the nearest one)."""
    from clausec.backends.english.wording import calendar_name
    from clausec.passes import calendars

    info = calendars.calendar_info(name)
    if info is None:
        closest = calendars.closest(name)
        return f"**calendar** `{name}`: not a built-in calendar" + (
            f"; did you mean `{closest}`?" if closest else
            "; the calendars are " + ", ".join(f"`{n}`" for n in calendars.names()))
    if info.name in calendars.RULE_BASED:
        years = "every year (a generated module computes these holidays by rule)"
    else:
        years = (f"{info.first_year}–{info.last_year} (counting business days outside them "
                 f"is an error)")
    out = [f"**calendar** `{info.name}` — the {calendar_name(info.name)}", "",
           info.description, "",
           ("*Source:* none (no holidays)" if info.source == "none" else
            f"*Source:* the `holidays` package, {info.source}") + f" · *Years:* {years}"]
    if info.notes:
        out += ["", info.notes]
    return "\n".join(out)


def _section_hover(number: str, symbol: Symbol | None) -> str:
    out = [f"**{ir.cite(number)}**" + (f" — {symbol.title}" if symbol and symbol.title else "")]
    if symbol is not None and symbol.section_text:
        out += ["", _quote(symbol.section_text)]
    return "\n".join(out)


def _term_hover(ws: Workspace, group: Group, file: Path, symbol: Symbol) -> str:
    title = f" — “{symbol.title}”" if symbol.title else ""
    out = [f"**{symbol.kind}** `{symbol.name}`{title}"]
    type_, sentence = _meaning(ws, group, file, symbol)
    facts = [f"*Type:* {type_}"] if type_ else []
    if symbol.per:
        facts.insert(0, f"one value per {_family_words(ws, group, symbol.per)}")
    if symbol.section:
        facts.append(f"*{ir.cite(symbol.section)}*")
    if file.name:
        facts.append(f"*in* `{file.name}`")
    out += ["", " · ".join(facts)]
    if sentence:
        out += ["", sentence]
    if symbol.section_text and symbol.section:
        out += ["", "---", f"{ir.cite(symbol.section)}:", "", _quote(symbol.section_text)]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def _meaning(ws: Workspace, group: Group, file: Path, symbol: Symbol
             ) -> tuple[str | None, str | None]:
    """The type and the plain-English sentence of a declaration, from the last analysis of
    the group without errors (or the file alone, checked as it is)."""
    from clausec.backends.english import summaries as summarize
    from clausec.backends.english import wording as english
    from clausec.diagnostics import Diagnostics
    from clausec.passes import check

    candidates = []
    result = ws.last_good(group)
    if result is not None and result.versions:
        candidates = [checked for _, checked in reversed(result.versions)]
    else:
        last = ws.front(file).last
        if last is not None:
            candidates = [check.check(last.program, Diagnostics())]
    for checked in candidates:
        decl = checked.declarations.get(symbol.name)
        if decl is None or decl.span.file != str(file) or \
                decl.span.line != symbol.range.line + 1:
            continue
        type_ = checked.types.get(symbol.name)
        env = summarize.environment("markdown")
        words = summarize.english_module(env, english.Lexicon(checked, "markdown"))
        try:
            sentence = env.filters["sentence"](words.node(decl))
        except Exception:  # noqa: BLE001 - a half-checked declaration may not read
            sentence = None
        return (str(type_) if type_ is not None and type_.kind != "error" else None,
                str(sentence) if sentence else None)
    return None, None


_SECTION_CONTEXT = re.compile(
    r"(?:\bsections?\s+(?:[0-9A-Za-z.()]+\s*(?:,|\band\b)\s*)*)[0-9A-Za-z.()]*\Z")


# After `business days in` (or `business day in`) and the header's `calendar`: a calendar.
_CALENDAR_CONTEXT = re.compile(r"(?:\bbusiness\s+days?\s+in|\bcalendar)\s+[A-Za-z0-9_]*\Z")


# Where a period family goes: `for each`, `per`, `first`, and a type after `:`.
_FAMILY_CONTEXT = re.compile(r"\b(?:for\s+each|per|first)\s+[A-Za-z_]*\Z")
_TYPE_CONTEXT = re.compile(
    r"(?:^\s*(?:fact|define)\b[^=]*|\([^()]*):\s*[A-Za-z_]*\Z")
# `periods NAME "title" = calendar quarters from X`, word by word.
_PERIODS_BASIS = re.compile(r"^\s*periods\s+[A-Za-z_]\w*\s*(?:\"[^\"]*\"\s*)?=\s*[A-Za-z_]*\Z")
_PERIODS_UNITS = re.compile(
    r"^\s*periods\b[^=]*=\s*(?:calendar|fiscal|contract)\s+[A-Za-z_]*\Z")
_PERIODS_AFTER = re.compile(
    r"^\s*periods\b[^=]*=\s*(?:calendar|fiscal|contract)\s+(?:half\s+)?"
    r"(?:months|quarters|years)\s+[A-Za-z_]*\Z")
# After `for each FAMILY NAME`: the range.
_RANGE_CONTEXT = re.compile(
    r"\bfor\s+each\s+(?:calendar\s+(?:month|quarter|half\s+year|year)|[A-Za-z_]\w*)\s+"
    r"[A-Za-z_]\w*\s+[A-Za-z_]*\Z")
_TYPE_WORDS = ("bool", "integer", "decimal", "money", "percent", "date", "datetime", "days",
               "business days", "months", "party", "text", "list of")
# `list of T`; and `for each l in LIST` (a list's items: not a range of periods).
_LIST_TYPE_CONTEXT = re.compile(r"\blist\s+of\s+[A-Za-z_]*\Z")
_EACH_IN_CONTEXT = re.compile(r"\bfor\s+each\s+[A-Za-z_]\w*\s+in\s+[A-Za-z_]*\Z")
# Keywords of several words, offered as one.
PHRASES = ("for each", "start of", "end of", "number of", "last business day of",
           "first business day of", "is late on", "performed on", "promptly",
           "as soon as reasonably practicable", "but in any event", "in any event",
           "pro rata", "in order", "present value of", "list of", "first of", "none of",
           "compounded annually", *navigation.CALENDAR_FAMILIES)


@functools.cache
def _keywords() -> tuple[str, ...]:
    return tuple(sorted(parser.keywords()))


def _families(indexes: list[navigation.FileIndex]) -> list[tuple[str, str, str]]:
    """The period families of a group: its declared `periods`, then the calendar ones."""
    items: dict[str, tuple[str, str, str]] = {}
    for index in indexes:
        for symbol in index.declarations():
            if symbol.kind == "periods":
                items.setdefault(symbol.name, (symbol.name, "periods", symbol.title or ""))
    for family in navigation.CALENDAR_FAMILIES:
        items.setdefault(family, (family, "periods", ""))
    return list(items.values())


def completion(ws: Workspace, path: Path, line: int, character: int
               ) -> list[tuple[str, str, str]]:
    """(label, kind, detail): section numbers after `section`, calendars after `business
    days in` and `calendar`, else names and keywords."""
    text = ws.text(path) or ""
    lines = text.split("\n")
    prefix = lines[line][:character] if line < len(lines) else ""
    if _CALENDAR_CONTEXT.search(prefix):
        from clausec.backends.english.wording import calendar_name
        from clausec.passes import calendars

        return [(name, "calendar", calendar_name(name)) for name in calendars.names()]
    group = ws.group(path)
    indexes = list(ws.indexes(group))
    if "." in prefix or "case" in text:
        # A record's fields after `l.`; a choice's members in `case X of [...]`.
        found = records.completion(ws, group, path, line, character)
        if found is not None:
            return found
    if _SECTION_CONTEXT.search(prefix):
        own = ws.index(path, group)
        # An amendment's operations name the agreement's sections; a file its own.
        target = str(group.agreement) if group.agreement and path != group.agreement \
            and re.search(r"\b(replace|delete|append|add)\b", prefix) else str(path)
        numbers: dict[str, str] = {}
        for index in indexes if target != str(path) else [own]:
            for symbol in _all_symbols(index):
                if symbol.kind == "section" and index.file == target and symbol.name:
                    numbers.setdefault(symbol.name, symbol.title or "")
        return [(n, "section", title) for n, title in numbers.items()]
    if _PERIODS_BASIS.search(prefix):
        return [(w, "keyword", "") for w in ("calendar", "fiscal", "contract")]
    if _PERIODS_UNITS.search(prefix):
        return [(w, "keyword", "") for w in ("months", "quarters", "half years", "years")]
    if _PERIODS_AFTER.search(prefix):
        return [(w, "keyword", "") for w in ("from", "beginning")]
    each_in = _EACH_IN_CONTEXT.search(prefix)
    if _RANGE_CONTEXT.search(prefix) and not each_in:
        return [(w, "keyword", "") for w in ("from", "in the")]
    if _FAMILY_CONTEXT.search(prefix):
        return _families(indexes)
    if _TYPE_CONTEXT.search(prefix) or _LIST_TYPE_CONTEXT.search(prefix) or \
            records.in_field_type(text, line, character):
        return [*records.type_names(ws, group, indexes), *_families(indexes),
                *((w, "keyword", "") for w in _TYPE_WORDS)]
    items: dict[str, tuple[str, str, str]] = {}
    for index in indexes:
        for symbol in index.declarations():
            items.setdefault(symbol.name, (symbol.name, symbol.kind, symbol.title or ""))
    for word in (*_keywords(), *PHRASES):
        items.setdefault(word, (word, "keyword", ""))
    return list(items.values())


def _all_symbols(index: FileIndex) -> Iterator[Symbol]:
    """Every symbol of the file, in the order of the file."""
    def walk(symbols: tuple[Symbol, ...]) -> Iterator[Symbol]:
        for symbol in symbols:
            yield symbol
            yield from walk(symbol.children)
    return walk(index.symbols)


class RenameError(Exception):
    pass


def prepare_rename(ws: Workspace, path: Path, line: int, character: int) -> Range | None:
    group = ws.group(path)
    occurrence = ws.index(path, group).at(line, character)
    if occurrence is None or not occurrence.key.startswith("name:"):
        return None
    declared = declarations_of(ws, group, occurrence.key)
    if not declared or declared[0][1].kind == "party":
        return None
    return occurrence.range


def rename(ws: Workspace, path: Path, line: int, character: int, new_name: str
           ) -> dict[Path, list[tuple[Range, str]]]:
    """The edits that rename a term or fact in every file of its group."""
    group = ws.group(path)
    occurrence = ws.index(path, group).at(line, character)
    if occurrence is None or not occurrence.key.startswith("name:"):
        raise RenameError("only a defined term or a fact can be renamed")
    declared = declarations_of(ws, group, occurrence.key)
    if not declared:
        raise RenameError(f"'{occurrence.text}' is not declared in this agreement")
    if declared[0][1].kind == "party":
        raise RenameError("a party is renamed in the header by hand")
    if not NAME.match(new_name):
        raise RenameError(f"'{new_name}' is not a name: a name is a letter or '_' followed "
                          "by letters, digits and '_'")
    if new_name in parser.keywords():
        raise RenameError(f"'{new_name}' is a keyword of the language and cannot be a name")
    if new_name.startswith("_"):
        raise RenameError(f"'{new_name}': names may not start with '_'")
    if new_name in BUILTINS:
        raise RenameError(f"'{new_name}' is a built-in function")
    if new_name != occurrence.text and declarations_of(ws, group, navigation.name_key(
            new_name)):
        raise RenameError(f"'{new_name}' is already declared in this agreement")
    edits: dict[Path, list[tuple[Range, str]]] = {}
    for file, o in occurrences_of(ws, group, occurrence.key):
        edits.setdefault(file, []).append((o.range, new_name))
    return edits


def formatting(ws: Workspace, path: Path) -> str | None:
    """The formatted text, or None when there is nothing to change (or the text has
    syntax errors, which the formatter leaves alone)."""
    from clausec.diagnostics import CompileError
    from clausec.tools import formatter

    text = ws.text(path) or ""
    try:
        formatted: str = formatter.format_text(text, str(path))
    except CompileError:
        return None
    return None if formatted == text else formatted


def semantic_tokens(ws: Workspace, path: Path) -> list[int]:
    """The LSP encoding (relative positions) of the file's tokens."""
    group = ws.group(path)
    index = ws.index(path, group)
    kinds = _kind_of(list(ws.indexes(group)))
    at = {(o.range.line, o.range.character): o for o in index.occurrences}
    # The number of `exhibit A-1` is one token to the parser, three to a lexer of all
    # terminals: each of them is part of the number.
    numbers = {(o.range.line, c) for o in index.occurrences if o.kind == "section"
               and o.range.line == o.range.end_line
               for c in range(o.range.character, o.range.end_character)}
    data: list[int] = []
    previous = (0, 0)
    in_sections = False
    last_word = ""
    for lexeme in navigation.lex(ws.text(path) or ""):
        kind, modifiers = _classify(lexeme, at, kinds, in_sections or last_word == "section")
        if (lexeme.range.line, lexeme.range.character) in numbers:
            kind, modifiers = "namespace", 0
        if lexeme.type == "KEYWORD":
            in_sections = lexeme.text == "sections" or (in_sections and lexeme.text == "and")
            last_word = lexeme.text
        elif lexeme.type != "COMMA" and kind != "namespace":
            in_sections, last_word = False, ""
        elif kind == "namespace":
            last_word = ""
        if kind is None:
            continue
        for line, start, length in _lines_of(lexeme):
            data += [line - previous[0], start - (previous[1] if line == previous[0] else 0),
                     length, TOKEN_TYPES.index(kind), modifiers]
            previous = (line, start)
    return data


def _classify(lexeme: navigation.Lexeme, at: dict[tuple[int, int], Occurrence],
              kinds: dict[str, str], section_context: bool) -> tuple[str | None, int]:
    t = lexeme.type
    occurrence = at.get((lexeme.range.line, lexeme.range.character))
    if t == "KEYWORD" and occurrence is not None and occurrence.key.startswith("name:"):
        # The parser read a keyword as a name: a built-in call (`month(d)`, `day(d)`).
        if lexeme.text in BUILTINS:
            return "function", _DEFAULT_LIBRARY
        t = "NAME"
    if t == "KEYWORD":
        return "keyword", 0
    if t == "COMMENT":
        return "comment", 0
    if t in ("STRING", "LONG_STRING"):
        return "string", 0
    if t in ("SECTION_NUMBER", "PART_NUMBER") or (occurrence is not None
                                                  and occurrence.kind == "section") or (
            section_context and (t in _NUMBERS or t == "LABEL")):
        return "namespace", 0
    if t in _NUMBERS:
        return "number", 0
    if t != "NAME":
        return None, 0
    modifiers = 1 if occurrence is not None and occurrence.role == "decl" else 0
    if occurrence is not None and occurrence.kind == "field":  # `l.principal`
        return "property", modifiers
    if occurrence is not None and occurrence.kind.startswith("item:"):  # `for each l in`
        return "parameter", modifiers
    key = navigation.name_key(lexeme.text)
    kind = kinds.get(key)
    if kind is None:
        return None, 0
    if kind == "fact":
        return "variable", modifiers | 2
    if kind in ("party", "member"):
        return "enumMember", modifiers | 2
    if kind in ("choice", "record", "table"):
        return "type", modifiers
    return "function", modifiers


def _lines_of(lexeme: navigation.Lexeme) -> Iterator[tuple[int, int, int]]:
    """A token cut at line ends: most editors do not take tokens over several lines."""
    r = lexeme.range
    for i, part in enumerate(lexeme.text.split("\n")):
        start = r.character if i == 0 else 0
        if part:
            yield r.line + i, start, len(part)


def outline(ws: Workspace, path: Path) -> tuple[Symbol, ...]:
    return ws.index(path).symbols


# ================================================================= the server

F = TypeVar("F", bound=Callable[..., Any])


class NotAFile(Exception):
    """A URI that names no file (`untitled:`, `http:`...): nothing to answer about."""


def _usable_id(value: object) -> bool:
    # The LSP's ids are integers and strings; pygls echoes anything else (a list, a
    # fraction) back, which no client can match to its request.
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def describe_params_error(error: BaseException) -> str:
    """What is wrong with a request's params, for the editor's log: each field the
    protocol's types refused, by its JSON path (`params.position: Position.line should be
    in range [0:2147483647], but was -1.`)."""
    import attrs
    import cattrs

    kinds = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}

    def detail(exc: BaseException, type_: Any) -> str:
        if isinstance(exc, KeyError):
            return "required field missing"
        if type_ in kinds:
            return f"expected {kinds[type_]}"
        if isinstance(type_, type) and attrs.has(type_):
            return f"expected {type_.__name__} (an object)"
        if isinstance(exc, ValueError) and str(exc):
            return str(exc)  # the protocol's own words: "... should be in range ..."
        from cattrs.v import format_exception
        return str(format_exception(exc, type_))

    if not isinstance(error, cattrs.BaseValidationError):
        return f"{type(error).__name__}: {error}"
    lines = []
    for line in cattrs.transform_error(error, path="$", format_exception=detail):
        what, _, where = line.rpartition(" @ $")
        where = ".".join(_camel(part) for part in where.lstrip(".").split("."))
        lines.append(f"{where or 'the message'}: {what}")
    return "; ".join(dict.fromkeys(lines)) or str(error)


@functools.cache
def _protocol_class() -> type:
    """pygls's LanguageServerProtocol, answering every request.

    pygls structures a message (turns its JSON into lsprotocol's types) in the object hook
    of `json.loads`, and an error there only reaches its reading loop, which logs it: a
    request whose params do not structure (`null`, a position at line -1, a `tabSize` of
    -1, a missing field) or an unknown method without params went unanswered, and after
    `shutdown` every request did. Here the hook leaves the JSON as it is and
    `handle_message` structures the message whole, answering what does not structure
    with an error, as JSON-RPC and the LSP say."""
    import attrs
    from lsprotocol import types as lsp
    from pygls.exceptions import (
        JsonRpcException,
        JsonRpcInternalError,
        JsonRpcInvalidParams,
        JsonRpcInvalidRequest,
        JsonRpcMethodNotFound,
        JsonRpcServerNotInitialized,
    )
    from pygls.protocol import (
        JsonRPCNotification,
        JsonRPCRequestMessage,
        LanguageServerProtocol,
        lsp_method,
    )

    class Protocol(LanguageServerProtocol):
        def structure_message(self, data: dict[str, Any]) -> Any:
            return data

        def handle_message(self, message: Any) -> None:
            msg_id = message.get("id") if isinstance(message, dict) else None
            try:
                self._dispatch(message)
            except Exception as error:
                # Not raised once pygls has the message: its handlers answer for
                # themselves. Before that, the request is answered here.
                log.exception("message not handled")
                if isinstance(message, dict) and "method" in message and _usable_id(msg_id):
                    self.refuse(msg_id, JsonRpcInternalError(
                        f"{type(error).__name__}: {error}"))

        def _dispatch(self, raw: Any) -> None:
            if not isinstance(raw, dict):
                self.refuse(None, JsonRpcInvalidRequest(
                    f"a message is a JSON object, not {type(raw).__name__}"))
                return
            if "id" not in raw:
                self._notification(raw)
                return
            msg_id = raw["id"]
            if "method" not in raw:
                if "result" in raw or "error" in raw:
                    self._response(raw)
                else:
                    self.refuse(msg_id if _usable_id(msg_id) else None, JsonRpcInvalidRequest(
                        "a request has a method, a response a result or an error"))
                return
            method = raw["method"]
            refusal: JsonRpcException | None = None
            if not _usable_id(msg_id):
                msg_id = None
                refusal = JsonRpcInvalidRequest("a request's id is an integer or a string")
            elif raw.get("jsonrpc") != self.VERSION:
                refusal = JsonRpcInvalidRequest('"jsonrpc" must be "2.0"')
            elif not isinstance(method, str):
                refusal = JsonRpcInvalidRequest("a request's method is a string")
            elif self._shutdown:
                refusal = JsonRpcInvalidRequest("the server is shutting down: only the exit "
                                                "notification is taken")
            elif method not in self.fm.builtin_features and method not in self.fm.features:
                refusal = JsonRpcMethodNotFound.of(method)
            elif self._workspace is None and method != lsp.INITIALIZE:
                refusal = JsonRpcServerNotInitialized("the server is not initialized: send "
                                                      "`initialize` first")
            elif "id" not in attrs.fields_dict(message_type := self.get_message_type(method)
                                              or JsonRPCRequestMessage):
                # pygls would take it for the notification, and not answer
                refusal = JsonRpcInvalidRequest(
                    f"{method} is a notification: it is sent without an id")
            if refusal is None:
                try:
                    message = self._converter.structure(raw, message_type)
                except Exception as error:  # noqa: BLE001 - whatever the converter says
                    refusal = JsonRpcInvalidParams(
                        f"{method}: invalid params: {describe_params_error(error)}")
            if refusal is not None:
                self.refuse(msg_id, refusal)
                return
            super().handle_message(message)

        def _notification(self, raw: dict[str, Any]) -> None:
            method = raw.get("method")
            if raw.get("jsonrpc") != self.VERSION or not isinstance(method, str):
                log.warning("ignored a message that is no notification: %.200r", raw)
                return
            if self._workspace is None and method != lsp.EXIT:
                log.warning("ignored %s before initialize", method)
                return
            try:
                message = self._converter.structure(
                    raw, self.get_message_type(method) or JsonRPCNotification)
            except Exception as error:  # noqa: BLE001 - a notification is not answered
                log.warning("ignored %s: invalid params: %s", method,
                            describe_params_error(error))
                return
            super().handle_message(message)

        def _response(self, raw: dict[str, Any]) -> None:
            try:
                message = super().structure_message(raw)
            except JsonRpcException:
                log.warning("ignored a response that does not read: %.200r", raw)
                return
            super().handle_message(message)

        def refuse(self, msg_id: Any, error: JsonRpcException) -> None:
            log.info("answered %r with error %s: %s", msg_id, error.code, error.message)
            self._send_data({"jsonrpc": self.VERSION, "id": msg_id,
                             "error": {"code": error.code, "message": error.message}})

        def _execute_handler(self, msg_id: Any, handler: Any, callback: Any,
                             args: Any = None, kwargs: Any = None) -> None:
            # pygls keeps the future of a handler that is a generator (its own didOpen,
            # didChange, didClose...) until a response is sent, and a notification has
            # none: one future per notification, forever.
            def done(future: Any) -> None:
                if self._request_futures.get(msg_id) is future:
                    del self._request_futures[msg_id]
                callback(future)
            super()._execute_handler(msg_id, handler, done, args, kwargs)

        def _send_data(self, data: Any) -> None:
            # As pygls sends, but an answer that does not serialise is answered with an
            # InternalError instead of nothing.
            if not data or self.writer is None:
                return
            try:
                body = json.dumps(data, default=self._serialize_message)
            except Exception as error:
                log.exception("a message could not be written")
                msg_id = data.get("id") if isinstance(data, dict) else getattr(data, "id", None)
                is_request = (data.get("method") if isinstance(data, dict)
                              else getattr(data, "method", None)) is not None
                if is_request or not _usable_id(msg_id):
                    return
                body = json.dumps({"jsonrpc": self.VERSION, "id": msg_id, "error": {
                    "code": JsonRpcInternalError.CODE,
                    "message": f"the answer could not be written: {error}"}})
            payload = body.encode(self.CHARSET)
            header = (f"Content-Length: {len(payload)}\r\n"
                      f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n")
            try:
                result = self.writer.write(header.encode(self.CHARSET) + payload)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except BrokenPipeError:
                log.exception("the client is gone")
                raise
            except Exception as error:
                log.exception("a message could not be sent")
                self._server._report_server_error(error, JsonRpcInternalError)

        @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
        def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams
                                          ) -> Any:
            # pygls raises on a change to a document that is not open (a KeyError that
            # reaches the user); such a change is dropped.
            if unquote(params.text_document.uri) not in self.workspace.text_documents:
                log.warning("ignored a change to %s, which is not open",
                            params.text_document.uri)
                return
            yield from super().lsp_text_document__did_change(params)

    return Protocol


def _server_class() -> type:
    from pygls.exceptions import FeatureRequestError, JsonRpcException, JsonRpcParseError
    from pygls.lsp.server import LanguageServer

    class Server(LanguageServer):
        def report_server_error(self, error: Exception, source: Any) -> None:
            from lsprotocol import types as lsp
            if source is JsonRpcException:
                # From pygls's reading loop, which handle_message never raises to: the
                # body is not JSON (or not UTF-8), so its id is unknown: null, as JSON-RPC
                # says.
                self.protocol.refuse(None, JsonRpcParseError(  # type: ignore[attr-defined]
                    f"the message is not JSON: {type(error).__name__}: {error}"))
                return
            if source is FeatureRequestError:
                return  # the request's answer says what went wrong
            # A notification that could not be applied: logged, not shown; the user has
            # nothing to do about it.
            log.warning("%s: %s", getattr(source, "__name__", source), error)
            try:
                self.window_log_message(lsp.LogMessageParams(
                    lsp.MessageType.Warning, f"clausec: {error}"))
            except Exception:  # before initialize there is nowhere to log
                log.debug("not logged to the client", exc_info=True)

    return Server


def build_server() -> Any:
    """The pygls server with every feature registered (imported here: `clausec --help`
    does not pay for pygls)."""
    from lsprotocol import types as lsp
    from pygls.exceptions import JsonRpcInvalidParams
    from pygls.lsp.server import LanguageServer
    from pygls.uris import from_fs_path, to_fs_path

    server: LanguageServer = _server_class()(
        "clausec", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
        protocol_cls=_protocol_class())
    ws = Workspace()
    pending: set[Path] = set()
    scheduled: list[asyncio.Task[None]] = []
    published: dict[Path, set[Path]] = {}  # a group's head → files given diagnostics

    def path_of(uri: str) -> Path:
        fs_path = to_fs_path(uri) if uri.lower().startswith("file:") else None
        if not fs_path or "\0" in fs_path:
            raise NotAFile(uri)
        try:
            return Path(fs_path).resolve()
        except (OSError, RuntimeError) as error:  # a name too long, a loop of links
            raise NotAFile(uri) from error

    def uri_of(path: Path) -> str:
        return from_fs_path(str(path)) or path.as_uri()

    def to_range(r: Range) -> lsp.Range:
        return lsp.Range(lsp.Position(r.line, r.character),
                         lsp.Position(r.end_line, r.end_character))

    def safe(empty: Any) -> Callable[[F], F]:
        """Log and answer `empty` instead of failing: a request must never bring the
        server down, nor leave the editor without an answer."""
        def wrap(fn: F) -> F:
            @functools.wraps(fn)
            def handler(ls: LanguageServer, params: Any) -> Any:
                try:
                    return fn(ls, params)
                except JsonRpcInvalidParams:
                    raise
                except NotAFile as error:
                    log.info("%s: %s is not a file", fn.__name__, error)
                    return empty() if callable(empty) else empty
                except Exception as error:
                    log.exception("%s failed", fn.__name__)
                    ls.window_log_message(lsp.LogMessageParams(
                        lsp.MessageType.Error,
                        f"clausec: {fn.__name__} failed: {type(error).__name__}: {error}"))
                    return empty() if callable(empty) else empty
            return handler  # type: ignore[return-value]
        return wrap

    # ------------------------------------------------------------ diagnostics

    def to_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
        span = d.span
        end_column = span.end_column if (span.end_line, span.end_column) > (
            span.line, span.column) else span.column + 1
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        related = [lsp.DiagnosticRelatedInformation(
            lsp.Location(uri_of(Path(r.span.file).resolve()), to_range(Range(
                r.span.line - 1, r.span.column - 1, r.span.end_line - 1,
                r.span.end_column - 1))), r.message) for r in d.related]
        return lsp.Diagnostic(
            range=to_range(Range(span.line - 1, span.column - 1, span.end_line - 1,
                                 end_column - 1)),
            message=message, source="clausec", code=d.code,
            severity=lsp.DiagnosticSeverity.Error if d.severity == "error"
            else lsp.DiagnosticSeverity.Warning,
            related_information=related or None)

    def publish(path: Path) -> None:
        analysis = ws.analyse(path)
        head = analysis.group.agreement or analysis.group.alone or path
        shown = set()
        for file, found in analysis.diagnostics.items():
            if file in ws.documents:
                server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                    uri_of(file), [to_diagnostic(d) for d in found]))
                shown.add(file)
        for file in published.get(head, set()) - shown:
            server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri_of(file), []))
        published[head] = shown

    async def flush() -> None:
        await asyncio.sleep(0)  # let changes already read come in: analyse the last one
        while pending:
            path = pending.pop()
            try:
                publish(path)
            except Exception:
                log.exception("analysis of %s failed", path)
        scheduled.clear()

    def schedule(path: Path) -> None:
        pending.add(path)
        if not scheduled:
            scheduled.append(asyncio.get_running_loop().create_task(flush()))

    def sync(ls: LanguageServer, uri: str) -> Path | None:
        """The workspace takes an open document's text as typed; None if it is not open
        (a save or a change that came without its open)."""
        path = path_of(uri)
        document = ls.workspace.text_documents.get(unquote(uri))
        if document is None:
            return None
        ws.open(path, document.source)
        return path

    def where(params: Any) -> tuple[Path, int, int]:
        """The file and position a request is about: an open document as typed, any
        other file as it is on disk (asking about a file does not open it)."""
        path = path_of(params.text_document.uri)
        line, character = clamp(ws.text(path) or "", params.position.line,
                                params.position.character)
        return path, line, character

    @server.feature(lsp.INITIALIZED)
    @safe(None)
    def initialized(ls: LanguageServer, params: lsp.InitializedParams) -> None:
        uris = [f.uri for f in ls.workspace.folders.values()] or [ls.workspace.root_uri]
        roots = []
        for uri in uris:
            try:
                roots.append(path_of(uri or ""))
            except NotAFile:
                pass  # a folder the server cannot read, of a remote workspace
        ws.roots = roots

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @safe(None)
    def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        if (path := sync(ls, params.text_document.uri)) is not None:
            schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @safe(None)
    def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        if (path := sync(ls, params.text_document.uri)) is not None:
            schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @safe(None)
    def did_save(ls: LanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        if (path := sync(ls, params.text_document.uri)) is not None:
            schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @safe(None)
    def did_close(ls: LanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        path = path_of(params.text_document.uri)
        ws.close(path)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            params.text_document.uri, []))
        for head in list(published):
            published[head].discard(path)
            if not published[head]:
                del published[head]
        # The others of its group now see the file as it is on disk.
        members = ws.group(path).files
        for other in list(ws.documents):
            if other in members:
                schedule(other)
                break

    # --------------------------------------------------------------- features

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @safe(None)
    def on_hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        path, line, character = where(params)
        text = hover(ws, path, line, character)
        if text is None:
            return None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text))

    def locations(found: list[tuple[Path, Range]]) -> list[lsp.Location]:
        return [lsp.Location(uri_of(file), to_range(r)) for file, r in found]

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @safe(list)
    def on_definition(ls: LanguageServer, params: lsp.DefinitionParams
                      ) -> list[lsp.Location]:
        path, line, character = where(params)
        return locations(definition(ws, path, line, character))

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    @safe(list)
    def on_references(ls: LanguageServer, params: lsp.ReferenceParams
                      ) -> list[lsp.Location]:
        path, line, character = where(params)
        return locations(references(ws, path, line, character,
                                    params.context.include_declaration))

    completion_kinds = {
        "section": lsp.CompletionItemKind.Module, "fact": lsp.CompletionItemKind.Variable,
        "party": lsp.CompletionItemKind.EnumMember, "keyword": lsp.CompletionItemKind.Keyword,
        "obligation": lsp.CompletionItemKind.Event, "power": lsp.CompletionItemKind.Event,
        "calendar": lsp.CompletionItemKind.Constant, "periods": lsp.CompletionItemKind.Enum,
        "choice": lsp.CompletionItemKind.Enum, "member": lsp.CompletionItemKind.EnumMember,
        "record": lsp.CompletionItemKind.Struct, "table": lsp.CompletionItemKind.Struct,
        "field": lsp.CompletionItemKind.Field,
    }

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[" ", "("]))
    @safe(lambda: lsp.CompletionList(is_incomplete=False, items=[]))
    def on_completion(ls: LanguageServer, params: lsp.CompletionParams
                      ) -> lsp.CompletionList:
        path, line, character = where(params)
        found = completion(ws, path, line, character)
        items = [lsp.CompletionItem(
            label=label, kind=completion_kinds.get(kind, lsp.CompletionItemKind.Function),
            detail=f"{kind} {detail}".strip() if kind != "keyword" else "keyword",
            documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, calendar_hover(label))
            if kind == "calendar" else None,
            sort_text=("1" if kind == "keyword" else "0") + label)
            for label, kind, detail in found]
        return lsp.CompletionList(is_incomplete=False, items=items)

    symbol_kinds = {
        "section": lsp.SymbolKind.Namespace, "operation": lsp.SymbolKind.Namespace,
        "fact": lsp.SymbolKind.Variable, "definition": lsp.SymbolKind.Function,
        "condition": lsp.SymbolKind.Boolean, "exception": lsp.SymbolKind.Function,
        "obligation": lsp.SymbolKind.Event, "power": lsp.SymbolKind.Event,
        "invariant": lsp.SymbolKind.Boolean, "party": lsp.SymbolKind.EnumMember,
        "agreement": lsp.SymbolKind.Module, "amendment": lsp.SymbolKind.Module,
        "test": lsp.SymbolKind.Method, "tests": lsp.SymbolKind.Module,
        "periods": lsp.SymbolKind.Enum, "choice": lsp.SymbolKind.Enum,
        "member": lsp.SymbolKind.EnumMember, "record": lsp.SymbolKind.Struct,
        "table": lsp.SymbolKind.Struct, "field": lsp.SymbolKind.Field,
    }

    def document_symbol(symbol: Symbol) -> lsp.DocumentSymbol:
        name = symbol.name
        if symbol.kind == "section":
            name = ir.cite(symbol.name)
        return lsp.DocumentSymbol(
            name=name, detail=symbol.title or symbol.kind,
            kind=symbol_kinds.get(symbol.kind, lsp.SymbolKind.Object),
            range=to_range(symbol.range), selection_range=to_range(symbol.selection),
            children=[document_symbol(c) for c in symbol.children])

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @safe(list)
    def on_symbols(ls: LanguageServer, params: lsp.DocumentSymbolParams
                   ) -> list[lsp.DocumentSymbol]:
        path = path_of(params.text_document.uri)
        return [document_symbol(s) for s in outline(ws, path)]

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    @safe(None)
    def on_prepare_rename(ls: LanguageServer, params: lsp.PrepareRenameParams
                          ) -> lsp.Range | None:
        path, line, character = where(params)
        r = prepare_rename(ws, path, line, character)
        return to_range(r) if r is not None else None

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    @safe(None)
    def on_rename(ls: LanguageServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        path, line, character = where(params)
        try:
            edits = rename(ws, path, line, character, params.new_name)
        except RenameError as error:
            raise JsonRpcInvalidParams(str(error)) from None
        return lsp.WorkspaceEdit(changes={
            uri_of(file): [lsp.TextEdit(to_range(r), text) for r, text in found]
            for file, found in edits.items()})

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    @safe(list)
    def on_formatting(ls: LanguageServer, params: lsp.DocumentFormattingParams
                      ) -> list[lsp.TextEdit]:
        path = path_of(params.text_document.uri)
        text = ws.text(path) or ""
        formatted = formatting(ws, path)
        if formatted is None:
            return []
        lines = text.split("\n")
        whole = Range(0, 0, len(lines) - 1, len(lines[-1]))
        return [lsp.TextEdit(to_range(whole), formatted)]

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                    lsp.SemanticTokensLegend(token_types=TOKEN_TYPES,
                                             token_modifiers=TOKEN_MODIFIERS))
    @safe(lambda: lsp.SemanticTokens(data=[]))
    def on_semantic_tokens(ls: LanguageServer, params: lsp.SemanticTokensParams
                           ) -> lsp.SemanticTokens:
        path = path_of(params.text_document.uri)
        return lsp.SemanticTokens(data=semantic_tokens(ws, path))

    return server
