"""What the language server knows of choices, records, tables and lists.

The symbol index (navigation.py) is built from the parse trees alone: it knows where a
choice's members and a record's fields are declared, but not which record `l.principal`
reads (that takes the type of `l`, which only the checker knows). This module asks the
checker, on the last analysis of the group without errors or, failing that, on the file
as it is: the record of a field where it is used, the type of `l` in `[... for each l in
lenders]`, and what to offer after `l.` and after `case loan_kind of [`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from clausec import ir
from clausec.ir import types as T
from clausec.passes.check import CheckedProgram
from clausec.tools.lsp import navigation
from clausec.tools.lsp.navigation import Occurrence, Range, Symbol
from clausec.tools.lsp.workspace import LRU, Group, Workspace

# The kinds of symbols this module describes on hover.
KINDS = ("choice", "record", "table", "member")
# The two fields of a share of an allocation (`s.item`, `s.amount`).
SHARE_FIELDS = {
    "item": "the item of the list allocated over that the share goes to",
    "amount": "the money that goes to the item",
}
# How many lines of a table a hover shows.
TABLE_LINES = 12


# ================================================================ the checker's view


def good_programs(ws: Workspace, group: Group) -> list[CheckedProgram]:
    """Every version of the agreement from the last analysis of its group without errors,
    the latest first (it may be older than the text being typed)."""
    result = ws.last_good(group)
    if result is None or not result.versions:
        return []
    return [checked for _, checked in reversed(result.versions)]


def current_programs(ws: Workspace, group: Group, file: Path) -> list[CheckedProgram]:
    """Checked programs of the file's text as it is now: the last good analysis if it
    read this very text, else the file checked alone."""
    from clausec.diagnostics import Diagnostics
    from clausec.passes import check

    result = ws.last_good(group)
    text = ws.text(file) or ""
    if result is not None and result.versions:
        source = result.sources.get(str(file))
        if source is not None and source.text == text:
            return good_programs(ws, group)
    cached = _ALONE.get(file)
    if cached is not None and cached[0] == text:
        return cached[1]
    ws.index(file, group)  # brings the file's front end up to its text
    last = ws.front(file).last
    checked = [check.check(last.program, Diagnostics())] if last is not None else []
    _ALONE[file] = (text, checked)
    return checked


# The files last checked alone (a request asks several times): their text, the result.
_ALONE: LRU[Path, tuple[str, list[CheckedProgram]]] = LRU(4)


def _expressions(programs: Iterable[CheckedProgram], file: Path) -> Iterator[ir.Expr]:
    """Every typed expression of the declarations of `file` in the programs."""
    for checked in programs:
        for decl in checked.program.declarations:
            if decl.span.file != str(file):
                continue
            for node in ir.walk(decl):
                if isinstance(node, ir.Expr):
                    yield node


def field_owners(ws: Workspace, group: Group, file: Path) -> dict[tuple[int, int], str]:
    """Where a field is read in the file (`l.principal`), by the end of its name (0-based
    line and character): the record or table it is a field of ("" for a share's)."""
    owners: dict[tuple[int, int], str] = {}
    for node in _expressions(current_programs(ws, group, file), file):
        if isinstance(node, ir.Field):
            owner = _owner(node.operand.type)
            if owner is not None:
                owners.setdefault((node.span.end_line - 1, node.span.end_column - 1), owner)
    return owners


def field_owner(ws: Workspace, group: Group, file: Path, r: Range) -> str | None:
    """The record (or table) whose field the name at `r` reads, in `l.principal`; "" for
    a field of a share of an allocation; None when the checker does not know."""
    return field_owners(ws, group, file).get((r.end_line, r.end_character))


def _owner(type_: T.Type | None) -> str | None:
    if type_ is None:
        return None
    if type_.kind == "record":
        return type_.name
    return "" if type_.kind == "share" else None


def item_type(ws: Workspace, group: Group, file: Path, occurrence: Occurrence
              ) -> T.Type | None:
    """The type of `l` in `[... for each l in lenders ...]`: an item of the list."""
    r = occurrence.range
    at = (r.line + 1, r.character + 1)
    best: tuple[tuple[int, int], T.Type] | None = None
    for node in _expressions(current_programs(ws, group, file), file):
        if not isinstance(node, (ir.ForEach, ir.PresentValue)) or \
                node.variable != occurrence.text:
            continue
        span = node.span
        if (span.line, span.column) <= at <= (span.end_line, span.end_column):
            element = (node.source.type or T.ERROR).element
            start = (span.line, span.column)
            if element is not None and element.kind != "error" and (
                    best is None or start > best[0]):
                best = (start, element)  # the innermost
        if best is not None and at < (span.line, span.column):
            break
    return best[1] if best is not None else None


def resolve(ws: Workspace, group: Group, file: Path, occurrence: Occurrence) -> str:
    """The key to look a name up by: a field's own (`field:lender.principal`) where the
    index only has its name (or the fact a test gives records of); any other
    occurrence's as it is."""
    found = navigation.field_of(occurrence.key)
    if found is None or (found[0] and not found[0].startswith("@")):
        return occurrence.key
    if found[0]:
        owner = _given_owner(ws, group, file, found[0][1:])
    else:
        owner = field_owner(ws, group, file, occurrence.range)
    return navigation.field_key(owner, found[1]) if owner else occurrence.key


def _given_owner(ws: Workspace, group: Group, file: Path, fact: str) -> str | None:
    """The record of the records a test gives the fact `fact`."""
    type_ = _types(ws, group, file).get(fact)
    if type_ is not None and type_.kind == "list":
        type_ = type_.element
    return type_.name if type_ is not None and type_.kind == "record" else None


def _types(ws: Workspace, group: Group, file: Path) -> dict[str, T.Type]:
    """The types of the facts and terms of the group, as far as the checker knows them:
    of the file as it is, then of the last analysis without errors, then of the
    agreement as it is."""
    programs = [*current_programs(ws, group, file), *good_programs(ws, group)]
    if group.agreement is not None and group.agreement != file:
        programs += current_programs(ws, group, group.agreement)
    types: dict[str, T.Type] = {}
    for checked in reversed(programs):  # the first ones win
        types.update({n: t for n, t in checked.types.items() if t.kind != "error"})
    return types


def field_references(ws: Workspace, group: Group, file: Path, occurrence: Occurrence
                     ) -> list[tuple[Path, Occurrence]]:
    """Where a field of a record is declared and read, in every file of the group."""
    key = resolve(ws, group, file, occurrence)
    found = navigation.field_of(key)
    if found is None or not found[0]:
        return []
    owner, name = found
    out = []
    for index in ws.indexes(group):
        path = Path(index.file)
        owners: dict[tuple[int, int], str] | None = None
        for o in index.occurrences:
            other = navigation.field_of(o.key)
            if other is None or other[1] != name:
                continue
            if not other[0] and owners is None:
                owners = field_owners(ws, group, path)
            if o.key == key or (not other[0] and owners is not None and owners.get(
                    (o.range.end_line, o.range.end_character)) == owner) or (
                    other[0].startswith("@") and resolve(ws, group, path, o) == key):
                out.append((path, o))
    return out


def _records(ws: Workspace, group: Group, file: Path) -> dict[str, ir.Record | ir.Table]:
    """The records and tables the checker knows, their fields typed."""
    out: dict[str, ir.Record | ir.Table] = {}
    for checked in [*current_programs(ws, group, file), *good_programs(ws, group)]:
        for decl in checked.program.declarations:
            if isinstance(decl, (ir.Record, ir.Table)):
                out.setdefault(decl.name, decl)
    return out


def type_words(type_: T.Type | None) -> str:
    """A type as hover shows it: `lender`, list of `lender`, money."""
    if type_ is None:
        return "unknown"
    if type_.kind in ("choice", "record") and type_.name:
        return f"`{type_.name}`" + (" (optional)" if type_.optional else "")
    if type_.kind in ("list", "share") and type_.element is not None:
        return f"{type_.kind} of {type_words(type_.element)}"
    return str(type_)


# ========================================================================== hover


def hover(ws: Workspace, group: Group, file: Path, occurrence: Occurrence) -> str | None:
    """Markdown for a field (where declared or read) or the variable of `for each`."""
    if occurrence.kind.startswith("item:"):
        return _item_hover(ws, group, file, occurrence)
    found = navigation.field_of(resolve(ws, group, file, occurrence))
    if found is None:
        return None
    owner, name = found
    if not owner:
        if field_owner(ws, group, file, occurrence.range) == "" and name in SHARE_FIELDS:
            return f"**field** `{name}` of a share of an allocation: {SHARE_FIELDS[name]}"
        return None
    declared = [(Path(index.file), symbol) for index in ws.indexes(group)
                for symbol in _all(index.symbols)
                if symbol.kind == "field" and symbol.owner == owner and symbol.name == name]
    title = f" — “{declared[0][1].title}”" if declared and declared[0][1].title else ""
    record = _records(ws, group, file).get(owner)
    typed = {f.name: f.type for f in record.fields} if record is not None else {}
    facts = [f"*Type:* {type_words(typed[name])}"] if name in typed else []
    kind = "table" if isinstance(record, ir.Table) else "record"
    facts.append(f"a field of the {kind} `{owner}`" + (
        f" (“{record.term}”)" if record is not None and record.term else ""))
    if declared and declared[0][1].section:
        facts.append(f"*{ir.cite(declared[0][1].section or '')}*")
    return "\n".join([f"**field** `{name}`{title}", "", " · ".join(facts)])


def _item_hover(ws: Workspace, group: Group, file: Path, occurrence: Occurrence) -> str:
    source = occurrence.kind.removeprefix("item:")
    of = f" of `{source}`" if source else " of the list"
    type_ = item_type(ws, group, file, occurrence)
    out = f"`{occurrence.text}` — each item{of}"
    return out + (f" · *Type:* {type_words(type_)}" if type_ is not None else "")


def declaration_hover(ws: Workspace, group: Group, file: Path, symbol: Symbol) -> str:
    """Markdown for a choice, a member, a record or a table."""
    title = f" — “{symbol.title}”" if symbol.title else ""
    out = [f"**{symbol.kind}** `{symbol.name}`{title}", ""]
    index = ws.index(file, group)
    facts = []
    if symbol.kind == "member":
        choice = next((s for s in _all(index.symbols)
                       if s.kind == "choice" and s.name == symbol.owner), None)
        term = f" (“{choice.title}”)" if choice is not None and choice.title else ""
        facts.append(f"a value of the choice `{symbol.owner}`{term}")
        if choice is not None:
            facts.append("one of " + ", ".join(f"`{m.name}`" for m in choice.children))
    elif symbol.kind == "choice":
        facts.append("one of " + ", ".join(
            f"`{m.name}`" + (f" (“{m.title}”)" if m.title else "") for m in symbol.children))
    else:
        record = _records(ws, group, file).get(symbol.name)
        typed = {f.name: f.type for f in record.fields} if record is not None else {}
        fields = ", ".join(f"`{f.name}`" + (f": {type_words(typed[f.name])}"
                                             if f.name in typed else "")
                           for f in symbol.children)
        if symbol.kind == "record":
            facts.append(f"*Fields:* {fields}")
        else:
            rows = len(record.rows) if isinstance(record, ir.Table) else None
            facts.append(f"*Columns:* {fields}")
            facts.append((f"{rows} row{'s' if rows != 1 else ''}; " if rows is not None
                          else "") + "as a value, the list of its rows")
    if symbol.section:
        facts.append(f"*{ir.cite(symbol.section)}*")
    if file.name:
        facts.append(f"*in* `{file.name}`")
    out.append(" · ".join(facts))
    if symbol.kind == "table":
        lines = (ws.text(file) or "").split("\n")[symbol.range.line:symbol.range.end_line + 1]
        shown = lines[:TABLE_LINES] + (["  ..."] if len(lines) > TABLE_LINES else [])
        indent = min((len(x) - len(x.lstrip()) for x in shown if x.strip()), default=0)
        out += ["", "```clause", *(x[indent:] for x in shown), "```"]
    return "\n".join(out)


def _all(symbols: Iterable[Symbol]) -> Iterator[Symbol]:
    stack = list(symbols)
    while stack:
        symbol = stack.pop()
        yield symbol
        stack.extend(symbol.children)


# ===================================================================== completion

_DECLARATION_START = re.compile(
    r"^\s*(?:fact|define|condition|exception|obligation|power|invariant|periods|choice|"
    r"record|table|section|article|exhibit|schedule|test|expect|given)\b")
# `l.`, `s.item.`, `loan.kind.am`: a dotted name being typed.
_FIELD_CONTEXT = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.([A-Za-z_]\w*)?\Z")
# `case loan_kind of [`: the subject, then the arms so far.
_CASE = re.compile(r"\bcase\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s+of\s*\[")
# Where an arm's members go: after `[`, `,` or `;`, and after `or`.
_ARM_START = re.compile(r"(?:^|[,;])\s*(?:[A-Za-z_]\w*\s+or\s+)*([A-Za-z_]\w*)?\Z")


def _statement(text: str, line: int, character: int) -> tuple[str, str]:
    """The declaration the cursor is in: its text before the cursor, and after it."""
    lines = text.split("\n")
    first = line
    while first > 0 and not _DECLARATION_START.match(lines[first]):
        first -= 1
    last = line + 1
    while last < len(lines) and not _DECLARATION_START.match(lines[last]):
        last += 1
    before = "\n".join([*lines[first:line], lines[line][:character]])
    after = "\n".join([lines[line][character:], *lines[line + 1:last]])
    return before, after


def completion(ws: Workspace, group: Group, file: Path, line: int, character: int
               ) -> list[tuple[str, str, str]] | None:
    """(label, kind, detail) after `x.` where x is a record or a share (its fields), and
    where a member goes in `case X of [...]` (the members not yet listed, `otherwise`);
    None elsewhere."""
    text = ws.text(file) or ""
    before, after = _statement(text, line, character)
    field = _FIELD_CONTEXT.search(before)
    if field is not None:
        type_ = _type_of(ws, group, file, field.group(1), before + after)
        return _fields_of(ws, group, file, type_) if type_ is not None else None
    case = _open_case(before)
    if case is not None:
        subject, arms = case
        type_ = _type_of(ws, group, file, subject, before + after)
        if type_ is None or type_.kind != "choice":
            return None
        used = set(re.findall(r"[A-Za-z_]\w*", re.sub(r":[^,;]*", "", arms)))
        members = _members(ws, group, file, type_.name or "")
        return [*((m.name, "member", m.term or "") for m in members if m.name not in used),
                ("otherwise", "keyword", "")]
    return None


def _open_case(before: str) -> tuple[str, str] | None:
    """The subject of the `case ... of [` the cursor is in, where an arm's members go,
    and the arms before the cursor."""
    for match in reversed(list(_CASE.finditer(before))):
        arms = before[match.end():]
        depth = 0
        top = []  # the text of the arms at the case's own level
        for char in arms:
            if char in "[(":
                depth += 1
            elif char in "])":
                depth -= 1
                if depth < 0:
                    break
            elif depth == 0:
                top.append(char)
        else:
            if depth == 0 and _ARM_START.search("".join(top)):
                return match.group(1), "".join(top)
            return None
    return None


def _members(ws: Workspace, group: Group, file: Path, name: str) -> tuple[ir.Member, ...]:
    """The members of a choice (from the checker: the section being typed in may not
    parse, and then the index has none of its declarations)."""
    for checked in [*current_programs(ws, group, file), *good_programs(ws, group)]:
        choice = checked.declarations.get(name)
        if isinstance(choice, ir.Choice):
            return choice.members
    return ()


def _type_of(ws: Workspace, group: Group, file: Path, dotted: str, statement: str
             ) -> T.Type | None:
    """The type of `l` or `s.item` in a declaration: `l` its parameter, the variable of
    its `for each`, a fact, a term or a table; then each field in turn."""
    head, *fields = dotted.split(".")
    types = _types(ws, group, file)
    records = _records(ws, group, file)
    type_: T.Type | None = None
    each = re.search(rf"\bfor\s+each\s+{re.escape(head)}\s+in\s+([A-Za-z_]\w*)\b", statement)
    param = re.search(rf"[(,]\s*{re.escape(head)}\s*:\s*(list\s+of\s+)?([A-Za-z_]\w*)",
                      statement)
    if each is not None:
        listed = types.get(each.group(1))
        type_ = listed.element if listed is not None and listed.kind == "list" else None
    elif param is not None and param.group(2) in records and not param.group(1):
        type_ = T.record(param.group(2))
    else:
        type_ = types.get(head)
    for name in fields:
        if type_ is None:
            return None
        type_ = _field_type(records, type_, name)
    return type_


def _field_type(records: dict[str, ir.Record | ir.Table], type_: T.Type, name: str
                ) -> T.Type | None:
    if type_.kind == "share":
        return type_.element if name == "item" else (
            T.money(type_.currency or "") if name == "amount" else None)
    record = records.get(type_.name or "") if type_.kind == "record" else None
    if record is None:
        return None
    return next((f.type for f in record.fields if f.name == name), None)


def _fields_of(ws: Workspace, group: Group, file: Path, type_: T.Type
               ) -> list[tuple[str, str, str]]:
    if type_.kind == "share":
        return [(name, "field", words) for name, words in SHARE_FIELDS.items()]
    record = _records(ws, group, file).get(type_.name or "") if type_.kind == "record" \
        else None
    if record is None:
        return []
    return [(f.name, "field", f"{type_words(f.type).replace('`', '')}"
             + (f" — {f.term}" if f.term else "")) for f in record.fields]


_BLOCK_OF_FIELDS = re.compile(r'\b(?:record|table)\s+[A-Za-z_]\w*\s*(?:"[^"\n]*"\s*)?\{')
_FIELD_TYPE = re.compile(r'(?:^|\|)\s*[A-Za-z_]\w*\s*(?:"[^"\n]*"\s*)?:\s*[A-Za-z_]*\Z')


def in_field_type(text: str, line: int, character: int) -> bool:
    """Whether the cursor is where a field's type goes, in `record lender { principal: `
    or in the columns of `table t { | ending: `."""
    lines = text.split("\n")
    before = "\n".join([*lines[:line], lines[line][:character]])
    blocks = list(_BLOCK_OF_FIELDS.finditer(before))
    if not blocks or "}" in before[blocks[-1].end():]:
        return False
    return bool(_FIELD_TYPE.search(lines[line][:character]))


def type_names(ws: Workspace, group: Group, indexes: Iterable[navigation.FileIndex]
               ) -> list[tuple[str, str, str]]:
    """The choices, records and tables of a group: names of types (of the text as it is,
    and of the last analysis without errors, for the section being typed in)."""
    found = {s.name: (s.name, s.kind, s.title or "") for index in indexes
             for s in index.declarations() if s.kind in ("choice", "record", "table")}
    for checked in good_programs(ws, group):
        for decl in checked.program.declarations:
            if isinstance(decl, (ir.Choice, ir.Record, ir.Table)):
                kind = {ir.Choice: "choice", ir.Record: "record"}.get(type(decl), "table")
                found.setdefault(decl.name, (decl.name, kind, decl.term or ""))
    return list(found.values())
