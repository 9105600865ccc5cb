"""`clausec lsp` end to end: a real LSP client (pytest-lsp) talks to the server over stdio.

The workspace is a copy of the seed contracts (with a file of tests) in a temporary
folder; what the server answers is compared with what the compiler says in-process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from clausec import api
from clausec.front import parser
from clausec.source import SourceFile

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "clauses"

on_module_loop = pytest.mark.asyncio(loop_scope="module")

TESTS_FILE = """tests for patent_purchase

test "no closing without the board" {
  as of 2004-04-01
  given { deposit_received = $900,000 }
  expect closing_conditions_met = false
}
"""


def _env() -> dict[str, str]:
    """The server runs `python -m clausec`: from the venv in CI, from PYTHONPATH when
    developing; either way the environment is passed through."""
    return dict(os.environ)


CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "clausec", "lsp"],
                            server_env=_env())


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp_workspace")
    for folder in ("patent_purchase", "rights_agreement"):
        shutil.copytree(SEEDS / folder, root / folder)
    (root / "patent_purchase" / "closing.tests.clause").write_text(TESTS_FILE)
    return root


_initialized: list[lsp.InitializeResult] = []


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> Any:
    _initialized[:] = [await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(workspace.as_uri(), "seeds")]))]
    yield
    await lsp_client.shutdown_session()


# ------------------------------------------------------------------- helpers

PPA = ("patent_purchase", "patent_purchase.clause")
AMENDMENT = ("patent_purchase", "amendment_2004_03_31.clause")
TESTS = ("patent_purchase", "closing.tests.clause")


def path(workspace: Path, which: tuple[str, str]) -> Path:
    return workspace / which[0] / which[1]


def uri(workspace: Path, which: tuple[str, str]) -> str:
    return path(workspace, which).as_uri()


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, workspace: Path, which: tuple[str, str],
             text: str | None = None) -> str:
    u = uri(workspace, which)
    body = path(workspace, which).read_text() if text is None else text
    _versions[u] = 1
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(u, "clause", 1, body)))
    return body


def change_doc(client: LanguageClient, u: str, text: str) -> None:
    _versions[u] = _versions.get(u, 1) + 1
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=u, version=_versions[u]),
        [lsp.TextDocumentContentChangeWholeDocument(text)]))


def close_doc(client: LanguageClient, u: str) -> None:
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        lsp.TextDocumentIdentifier(u)))


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server did not publish the expected diagnostics in time")


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 1
                ) -> lsp.Position:
    """The position `offset` characters into the n-th occurrence of `needle`."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    column = start - (text.rfind("\n", 0, start) + 1)
    return lsp.Position(line, column + offset)


def expected(agreement: tuple[Path, str], amendments: list[tuple[Path, str]], file: Path
             ) -> list[tuple[str, int, int, int, int, str]]:
    """`clausec check`'s diagnostics of `file` for these texts: message (with hint) and
    0-based range."""
    result = api.analyse(SourceFile(str(agreement[0]), agreement[1]),
                         [SourceFile(str(p), t) for p, t in amendments])
    out = []
    for d in result.diagnostics:
        if Path(d.span.file) != file:
            continue
        end = d.span.end_column if (d.span.end_line, d.span.end_column) > (
            d.span.line, d.span.column) else d.span.column + 1
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        out.append((message, d.span.line - 1, d.span.column - 1, d.span.end_line - 1,
                    end - 1, d.severity))
    return out


def published(client: LanguageClient, u: str) -> list[tuple[str, int, int, int, int, str]]:
    severity = {lsp.DiagnosticSeverity.Error: "error", lsp.DiagnosticSeverity.Warning:
                "warning"}
    return [(d.message, d.range.start.line, d.range.start.character, d.range.end.line,
             d.range.end.character, severity[d.severity or lsp.DiagnosticSeverity.Error])
            for d in client.diagnostics.get(u, [])]


# ---------------------------------------------------------------- diagnostics


@on_module_loop
async def test_diagnostics_as_you_type_are_those_of_check(client: LanguageClient,
                                                         workspace: Path) -> None:
    u = uri(workspace, PPA)
    text = open_doc(client, workspace, PPA)
    await until(lambda: u in client.diagnostics)
    assert published(client, u) == []
    broken = text.replace("purchase_price - deposit_received",
                          "purchase_pryce - deposit_received + 2004-01-01", 1)
    assert broken != text
    change_doc(client, u, broken)
    amendment = path(workspace, AMENDMENT)
    want = expected((path(workspace, PPA), broken),
                    [(amendment, amendment.read_text())], path(workspace, PPA))
    assert any("purchase_pryce" in w[0] and "did you mean 'purchase_price'" in w[0]
               for w in want)
    await until(lambda: published(client, u) == want)
    d = next(d for d in client.diagnostics[u] if "purchase_pryce" in d.message)
    assert d.source == "clausec" and d.severity == lsp.DiagnosticSeverity.Error
    # A syntax error keeps the rest checked and is reported where `check` reports it.
    half = text.replace("section 3.4 {", "section 3.4 {\n  define oops = ", 1)
    change_doc(client, u, half)
    want = expected((path(workspace, PPA), half), [(amendment, amendment.read_text())],
                    path(workspace, PPA))
    assert want and all(w[5] == "error" for w in want)
    await until(lambda: published(client, u) == want)
    change_doc(client, u, text)
    await until(lambda: published(client, u) == [])
    close_doc(client, u)


@on_module_loop
async def test_amendment_is_checked_with_its_agreement_as_typed(client: LanguageClient,
                                                              workspace: Path) -> None:
    ua, um = uri(workspace, PPA), uri(workspace, AMENDMENT)
    agreement = open_doc(client, workspace, PPA)
    amendment = open_doc(client, workspace, AMENDMENT)
    await until(lambda: um in client.diagnostics and ua in client.diagnostics)
    assert published(client, um) == []
    # Editing the agreement (not saved) re-checks the open amendment: its operation on
    # Section 8.4 now names a section the agreement does not have.
    edited = agreement.replace("section 8.4", "section 8.9", 1)
    assert edited != agreement
    change_doc(client, ua, edited)
    want = expected((path(workspace, PPA), edited), [(path(workspace, AMENDMENT), amendment)],
                    path(workspace, AMENDMENT))
    assert any("8.4" in w[0] for w in want), want
    await until(lambda: published(client, um) == want)
    related = [d for d in client.diagnostics[um] if d.related_information]
    for d in related:
        assert all(r.location.uri.startswith("file://") for r in d.related_information)
    change_doc(client, ua, agreement)
    await until(lambda: published(client, um) == [])
    close_doc(client, ua)
    close_doc(client, um)


# ------------------------------------------------------------------ features


@on_module_loop
async def test_hover_shows_type_title_section_summary_and_text(client: LanguageClient,
                                                              workspace: Path) -> None:
    text = open_doc(client, workspace, PPA)
    at = position_of(text, "= purchase_price - deposit_received", offset=3)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri(workspace, PPA)), at))
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert "**definition** `purchase_price`" in value
    assert "*Type:* money" in value and "*Section 3.2*" in value
    assert "means" in value  # the plain-English sentence of the definition
    assert "> The total purchase price payable by Purchaser" in value  # the contract's words
    # A section number of an amendment's operation: the agreement's heading and words.
    amendment = open_doc(client, workspace, AMENDMENT)
    at = position_of(amendment, "delete sections 8.1", offset=len("delete sections "))
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri(workspace, AMENDMENT)), at))
    assert hover is not None and "**Section 8.1**" in hover.contents.value  # type: ignore
    nothing = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri(workspace, PPA)), lsp.Position(0, 0)))
    assert nothing is None


@on_module_loop
async def test_definition_across_agreement_amendment_and_tests(client: LanguageClient,
                                                               workspace: Path) -> None:
    agreement = path(workspace, PPA).read_text()
    amendment = open_doc(client, workspace, AMENDMENT)
    section = position_of(agreement, "section 3.1 ", offset=len("section "))
    for needle, skip in (("replace section 3.1", len("replace section ")),):
        found = await client.text_document_definition_async(lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(uri(workspace, AMENDMENT)),
            position_of(amendment, needle, offset=skip)))
        assert isinstance(found, list)
        assert [(f.uri, f.range.start.line, f.range.start.character) for f in found] == [
            (uri(workspace, PPA), section.line, section.character)]
    # A fact used in a file of tests goes to its declaration in the agreement.
    tests = open_doc(client, workspace, TESTS)
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        lsp.TextDocumentIdentifier(uri(workspace, TESTS)),
        position_of(tests, "deposit_received")))
    assert isinstance(found, list) and found
    files = {f.uri for f in found}
    assert uri(workspace, PPA) in files or uri(workspace, AMENDMENT) in files
    for f in found:
        declared = path(workspace, PPA if f.uri == uri(workspace, PPA) else AMENDMENT)
        line = declared.read_text().split("\n")[f.range.start.line]
        assert line[f.range.start.character:f.range.end.character] == "deposit_received"
        assert "fact deposit_received" in line or "define deposit_received" in line


@on_module_loop
async def test_references_span_the_agreement_and_its_amendment(client: LanguageClient,
                                                               workspace: Path) -> None:
    agreement = open_doc(client, workspace, PPA)
    at = position_of(agreement, "closing_conditions_met", offset=2)
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri(workspace, PPA)), position=at,
        context=lsp.ReferenceContext(include_declaration=True)))
    assert found is not None
    by_file: dict[str, int] = {}
    for f in found:
        by_file[f.uri] = by_file.get(f.uri, 0) + 1
        text = Path(f.uri.removeprefix("file://")).read_text().split("\n")
        assert text[f.range.start.line][f.range.start.character:f.range.end.character] \
            == "closing_conditions_met"
    assert by_file[uri(workspace, PPA)] >= 3 and by_file[uri(workspace, AMENDMENT)] >= 1
    assert by_file[uri(workspace, TESTS)] == 1  # `expect closing_conditions_met`


@on_module_loop
async def test_completion_of_sections_names_and_keywords(client: LanguageClient,
                                                         workspace: Path) -> None:
    um = uri(workspace, AMENDMENT)
    amendment = open_doc(client, workspace, AMENDMENT)
    typed = amendment + "\nreplace section "
    change_doc(client, um, typed)
    lines = typed.split("\n")
    result = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(um), lsp.Position(len(lines) - 1, len(lines[-1]))))
    assert isinstance(result, lsp.CompletionList)
    labels = {i.label for i in result.items}
    # The agreement's sections (not the amendment's own 1.1-5.1 only).
    assert {"3.1", "3.4", "8.4", "9.11"} <= labels
    assert "define" not in labels
    typed = amendment + "\ndefine x = clo"
    change_doc(client, um, typed)
    lines = typed.split("\n")
    result = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(um), lsp.Position(len(lines) - 1, len(lines[-1]))))
    assert isinstance(result, lsp.CompletionList)
    items = {i.label: i for i in result.items}
    assert "closing_conditions_met" in items and "deposit_received" in items
    assert items["deposit_received"].kind == lsp.CompletionItemKind.Variable
    assert "purchaser" in items  # a party
    assert set(parser.keywords()) <= set(items)
    assert items["unless"].kind == lsp.CompletionItemKind.Keyword
    change_doc(client, um, amendment)


@on_module_loop
async def test_outline_is_sections_with_their_declarations(client: LanguageClient,
                                                           workspace: Path) -> None:
    open_doc(client, workspace, PPA)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        lsp.TextDocumentIdentifier(uri(workspace, PPA))))
    assert symbols is not None
    by_name = {s.name: s for s in symbols if isinstance(s, lsp.DocumentSymbol)}
    assert "patent_purchase" in by_name  # the header, with the parties
    assert {c.name for c in by_name["patent_purchase"].children or []} >= {"purchaser",
                                                                        "seller"}
    section = by_name["Section 4.3"]
    assert section.detail == "License Agreement"
    children = {c.name: c for c in section.children or []}
    assert set(children) == {"license_agreement_assignment", "license_agreement_performance"}
    assert children["license_agreement_assignment"].kind == lsp.SymbolKind.Event
    assert children["license_agreement_assignment"].detail == \
        "assignment of the License Agreement"
    assert by_name["Section 3.4"].children
    for child in children.values():
        assert section.range.start.line <= child.range.start.line <= section.range.end.line


@on_module_loop
async def test_rename_a_term_everywhere_and_reject_bad_names(client: LanguageClient,
                                                             workspace: Path) -> None:
    agreement = open_doc(client, workspace, PPA)
    at = position_of(agreement, "closing_conditions_met", offset=3)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        lsp.TextDocumentIdentifier(uri(workspace, PPA)), at, "conditions_met"))
    assert edit is not None and edit.changes is not None
    assert set(edit.changes) >= {uri(workspace, x) for x in (PPA, AMENDMENT, TESTS)}
    texts = {}
    for u, edits in edit.changes.items():
        lines = Path(u.removeprefix("file://")).read_text().split("\n")
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                        reverse=True):
            line = lines[e.range.start.line]
            assert line[e.range.start.character:e.range.end.character] == \
                "closing_conditions_met"
            lines[e.range.start.line] = (line[:e.range.start.character] + e.new_text
                                         + line[e.range.end.character:])
        texts[u] = "\n".join(lines)
    renamed = api.analyse(SourceFile("a.clause", texts[uri(workspace, PPA)]),
                          [SourceFile("b.clause", texts[uri(workspace, AMENDMENT)])])
    assert renamed.ok, renamed.diagnostics
    assert "closing_conditions_met" not in texts[uri(workspace, PPA)]
    assert "expect conditions_met = false" in texts[uri(workspace, TESTS)]
    for bad, why in (("section", "keyword"), ("3x", "not a name"),
                     ("purchase_price", "already declared")):
        with pytest.raises(JsonRpcException, match=why):
            await client.text_document_rename_async(lsp.RenameParams(
                lsp.TextDocumentIdentifier(uri(workspace, PPA)), at, bad))
    keyword = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        lsp.TextDocumentIdentifier(uri(workspace, PPA)), position_of(agreement, "section 3.4")))
    assert keyword is None


@on_module_loop
async def test_formatting_is_one_edit_with_the_formatters_text(client: LanguageClient,
                                                               workspace: Path) -> None:
    from clausec.tools.formatter import format_text

    u = uri(workspace, PPA)
    text = open_doc(client, workspace, PPA)
    messy = text.replace("  define purchase_price", "      define    purchase_price", 1)
    assert messy != text
    change_doc(client, u, messy)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(u), lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None and len(edits) == 1
    assert edits[0].range.start == lsp.Position(0, 0)
    assert edits[0].new_text == format_text(messy, str(path(workspace, PPA)))
    assert "      define    purchase_price" not in edits[0].new_text
    change_doc(client, u, messy + "\nsection {{\n")  # syntax errors: nothing to format
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(u), lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert not edits
    change_doc(client, u, text)


def decode(data: list[int], legend: lsp.SemanticTokensLegend, text: str
           ) -> dict[tuple[int, int], tuple[str, str, set[str]]]:
    """(line, start) → (token text, type, modifiers)."""
    lines = text.split("\n")
    out = {}
    line = start = 0
    for i in range(0, len(data), 5):
        dl, ds, length, kind, mods = data[i:i + 5]
        line += dl
        start = start + ds if dl == 0 else ds
        modifiers = {m for b, m in enumerate(legend.token_modifiers) if mods & (1 << b)}
        out[(line, start)] = (lines[line][start:start + length], legend.token_types[kind],
                              modifiers)
    return out


@on_module_loop
async def test_semantic_tokens(client: LanguageClient, workspace: Path) -> None:
    text = open_doc(client, workspace, AMENDMENT)
    result = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(
        lsp.TextDocumentIdentifier(uri(workspace, AMENDMENT))))
    assert result is not None and result.data
    provider = _initialized[0].capabilities.semantic_tokens_provider
    assert isinstance(provider, lsp.SemanticTokensOptions)
    tokens = decode(result.data, provider.legend, text)

    def at(needle: str, offset: int = 0) -> tuple[str, str, set[str]]:
        p = position_of(text, needle, offset=offset)
        return tokens[(p.line, p.character)]

    assert at("replace section 3.1") == ("replace", "keyword", set())
    assert at("replace section 3.1", len("replace section ")) == ("3.1", "namespace", set())
    assert at("delete sections 8.1, 8.2", len("delete sections 8.1, ")) == (
        "8.2", "namespace", set())
    assert at("# Amendment to Patent") [1] == "comment"
    assert at("fact board_approved_at_meeting_on", 5) == (
        "board_approved_at_meeting_on", "variable", {"declaration", "readonly"})
    assert at("condition requisite_board_approval", 10) == (
        "requisite_board_approval", "function", {"declaration"})
    assert at('text """')[1] == "keyword"
    assert at('text """', 5)[1] == "string"
    assert at("dated March 31, 2004", len("dated ")) == ("March 31, 2004", "number", set())
    # a reference to a fact inside an expression
    p = position_of(text, "board_approved_at_meeting_on", occurrence=1, offset=0)
    assert tokens[(p.line, p.character)] == ("board_approved_at_meeting_on", "variable",
                                             {"readonly"})


# ------------------------------------------------------- months, years and calendars

LOAN = ("loan", "loan.clause")
LOAN_TEXT = (REPO / "tests" / "data" / "time_units.clause").read_text() + """
define payment_month "the payment month": integer = month(closing_on)
define misspelt: date = 2 business days in nyce after closing_on
"""


@on_module_loop
async def test_calendars_hover_complete_and_highlight(client: LanguageClient,
                                                      workspace: Path) -> None:
    from clausec.passes import calendars

    path(workspace, LOAN).parent.mkdir(exist_ok=True)
    path(workspace, LOAN).write_text(LOAN_TEXT)
    u = uri(workspace, LOAN)
    text = open_doc(client, workspace, LOAN)
    await until(lambda: u in client.diagnostics)
    # The misspelt calendar is reported as `check` reports it, with the nearest name.
    assert any("unknown calendar 'nyce'" in d.message and "nyse" in d.message
               for d in client.diagnostics[u])

    async def hover_at(needle: str, offset: int) -> str:
        found = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(u), position_of(text, needle, offset=offset)))
        assert found is not None, needle
        return found.contents.value  # type: ignore[union-attr]

    # A calendar after `business days in`: what it is, where its dates come from, the years.
    value = await hover_at("in new_york_banks after", len("in new_"))
    assert "**calendar** `new_york_banks`" in value
    assert "Days on which commercial banks in New York are closed" in value
    assert "holidays.financial_holidays('XFED')" in value
    assert "1999–2099" in value and "error" in value
    # In a fact's type, and in the header.
    value = await hover_at("business days in new_york_banks\n", len("business days in n"))
    assert "**calendar** `new_york_banks`" in value
    value = await hover_at("calendar us_federal", len("calendar us_"))
    assert "U.S. federal legal public holidays" in value
    assert "holidays.country_holidays('US')" in value
    assert "every year" in value  # computed by rule, not from a table of years
    # A name that is no calendar: the nearest that is.
    value = await hover_at("in nyce", len("in ny"))
    assert "not a built-in calendar" in value and "`nyse`" in value
    # Every use of a calendar in the file.
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(u),
        position=position_of(text, "in new_york_banks after", offset=len("in new_")),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert found is not None and len(found) == 3
    for f in found:
        line = text.split("\n")[f.range.start.line]
        assert line[f.range.start.character:f.range.end.character] == "new_york_banks"

    # Completion after `business days in` (and `business day in`, and the header's
    # `calendar`): the calendars, with what each is.
    for typed in ("define q: date = 2 business days in ", "define q: date = 1 business day in n",
                  "fact f: business days in "):
        change_doc(client, u, text + typed)
        result = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(u),
            lsp.Position(len((text + typed).split("\n")) - 1, len(typed))))
        assert isinstance(result, lsp.CompletionList)
        items = {i.label: i for i in result.items}
        assert set(items) == set(calendars.names()), typed
        nyse = items["nyse"]
        assert nyse.kind == lsp.CompletionItemKind.Constant
        assert nyse.detail == "calendar New York Stock Exchange calendar"
        assert isinstance(nyse.documentation, lsp.MarkupContent)
        assert "New York Stock Exchange trading holidays" in nyse.documentation.value
    # Elsewhere the new keywords are offered with the others.
    typed = "define q: date = 3 "
    change_doc(client, u, text + typed)
    result = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(u),
        lsp.Position(len((text + typed).split("\n")) - 1, len(typed))))
    assert isinstance(result, lsp.CompletionList)
    items = {i.label: i for i in result.items}
    for word in ("month", "months", "year", "years", "in"):
        assert items[word].kind == lsp.CompletionItemKind.Keyword
    change_doc(client, u, text)

    # Semantic tokens: the new words are keywords; `month(...)` is the built-in function.
    result = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(
        lsp.TextDocumentIdentifier(u)))
    assert result is not None
    provider = _initialized[0].capabilities.semantic_tokens_provider
    assert isinstance(provider, lsp.SemanticTokensOptions)
    tokens = decode(result.data, provider.legend, text)

    def at(needle: str, offset: int) -> tuple[str, str, set[str]]:
        p = position_of(text, needle, offset=offset)
        return tokens[(p.line, p.character)]

    assert at("5 years after", 2) == ("years", "keyword", set())
    assert at("+ 1 month\n", 4) == ("month", "keyword", set())
    assert at("12 months before", 3) == ("months", "keyword", set())
    assert at("1 year after", 2) == ("year", "keyword", set())
    assert at(": months default", 2) == ("months", "keyword", set())
    assert at("in new_york_banks after", 0) == ("in", "keyword", set())
    assert at("month(closing_on)", 0) == ("month", "function", {"defaultLibrary"})
    assert at("fact closing_on", 5) == ("closing_on", "variable", {"declaration", "readonly"})
    close_doc(client, u)


# ------------------------------------------------------------------ robustness

SEED = (SEEDS / "patent_purchase" / "amendment_2004_03_31.clause").read_text()
FRAGMENTS = ["}", "{", "section ", "\n", "define x = ", '"', '"""', "(", "and ", "3.1",
             "replace section ", "fact f: ", " = ", "#", "$", "when ", "\ntest \"t\" {"]

edits = st.lists(st.tuples(st.integers(0, len(SEED)), st.integers(0, 30),
                           st.sampled_from(FRAGMENTS)), min_size=1, max_size=6)
positions = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 120)), min_size=1,
                     max_size=4)


@pytest.fixture(scope="module")
def raw_session(workspace: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, LanguageClient]]:
    """A client of its own on a loop of its own: hypothesis drives it synchronously."""
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(CONFIG.start())
    assert isinstance(client, LanguageClient)
    loop.run_until_complete(client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("neovim"), root_uri=workspace.as_uri())))
    yield loop, client
    loop.run_until_complete(client.shutdown_session())
    loop.run_until_complete(client.stop())
    loop.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(script=edits, probes=positions)
def test_half_written_files_never_break_a_request(
        raw_session: tuple[asyncio.AbstractEventLoop, LanguageClient], workspace: Path,
        script: list[tuple[int, int, str]], probes: list[tuple[int, int]]) -> None:
    loop, client = raw_session
    text = SEED
    for where, cut, fragment in script:
        text = text[:where] + fragment + text[where + cut:]
    loop.run_until_complete(_probe(client, workspace, text, probes))


_raw_opened: list[str] = []


async def _probe(client: LanguageClient, workspace: Path, text: str,
                 probes: list[tuple[int, int]]) -> None:
    u = uri(workspace, AMENDMENT)
    if not _raw_opened:
        _raw_opened.append(u)
        open_doc(client, workspace, AMENDMENT, SEED)
    change_doc(client, u, text)
    doc = lsp.TextDocumentIdentifier(u)
    for line, character in probes:
        at = lsp.Position(line, character)
        await client.text_document_hover_async(lsp.HoverParams(doc, at))
        await client.text_document_definition_async(lsp.DefinitionParams(doc, at))
        await client.text_document_references_async(lsp.ReferenceParams(
            text_document=doc, position=at,
            context=lsp.ReferenceContext(include_declaration=True)))
        completion = await client.text_document_completion_async(
            lsp.CompletionParams(doc, at))
        assert completion is not None
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(doc))
    assert symbols is not None
    tokens = await client.text_document_semantic_tokens_full_async(
        lsp.SemanticTokensParams(doc))
    assert tokens is not None and len(tokens.data) % 5 == 0
    # Every handler answered without an error, and nothing went wrong inside them.
    assert client.error is None
    failures = [m.message for m in client.log_messages if "failed" in m.message]
    assert failures == []


# ------------------------------------------------- the incremental front end


@settings(max_examples=12, deadline=None)
@given(script=edits)
def test_incremental_analysis_says_what_check_says(script: list[tuple[int, int, str]]) -> None:
    """The server re-parses only the chunks an edit touched: its diagnostics must be
    those of a full `api.analyse` of the same texts, edit after edit."""
    from clausec.front.incremental import FileFront

    agreement_text = (SEEDS / "patent_purchase" / "patent_purchase.clause").read_text()
    fronts = {"a.clause": FileFront(), "m.clause": FileFront()}

    def front(source: SourceFile, diagnostics: Any) -> Any:
        return fronts[source.name].front(source, diagnostics)

    agreement = SourceFile("a.clause", agreement_text)
    text = SEED
    for where, cut, fragment in script:
        text = text[:where] + fragment + text[where + cut:]
        amendment = SourceFile("m.clause", text)
        full = api.analyse(agreement, [amendment])
        fast = api.analyse(agreement, [amendment], front=front)
        assert [d.to_dict() for d in fast.diagnostics] == \
            [d.to_dict() for d in full.diagnostics]
        assert fast.ok == full.ok
