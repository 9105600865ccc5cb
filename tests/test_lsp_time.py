"""`clausec lsp` on contracts that run over time, end to end (a real client over stdio):
period families, series facts, recurring obligations and the range variables of `for
each`, in a copy of the IntriCon licence and the Neon distribution agreement."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "clauses"

on_module_loop = pytest.mark.asyncio(loop_scope="module")

CONFIG = ClientServerConfig(server_command=[sys.executable, "-m", "clausec", "lsp"],
                            server_env=dict(os.environ))

INTRICON = ("intricon_license", "intricon_license.clause")
NEON = ("neon_distributor", "first_amendment.clause")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp_time_workspace")
    for folder in ("intricon_license", "neon_distributor"):
        shutil.copytree(SEEDS / folder, root / folder)
    return root


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> Any:
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(workspace.as_uri(), "seeds")]))
    yield
    await lsp_client.shutdown_session()


def uri(workspace: Path, which: tuple[str, str]) -> str:
    return (workspace / which[0] / which[1]).as_uri()


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, workspace: Path, which: tuple[str, str]) -> str:
    u = uri(workspace, which)
    text = (workspace / which[0] / which[1]).read_text(encoding="utf-8")
    _versions[u] = 1
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(u, "clause", 1, text)))
    return text


def change_doc(client: LanguageClient, u: str, text: str) -> None:
    _versions[u] = _versions.get(u, 1) + 1
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=u, version=_versions[u]),
        [lsp.TextDocumentContentChangeWholeDocument(text)]))


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 1
                ) -> lsp.Position:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return lsp.Position(line, start - (text.rfind("\n", 0, start) + 1) + offset)


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle))


async def hover(client: LanguageClient, u: str, at: lsp.Position) -> str:
    found = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(u), at))
    assert found is not None
    return found.contents.value  # type: ignore[union-attr]


async def definition(client: LanguageClient, u: str, at: lsp.Position) -> list[lsp.Location]:
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        lsp.TextDocumentIdentifier(u), at))
    assert isinstance(found, list)
    return [item for item in found if isinstance(item, lsp.Location)]


async def completion_at_end(client: LanguageClient, u: str, text: str) -> dict[str, Any]:
    change_doc(client, u, text)
    lines = text.split("\n")
    result = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(u), lsp.Position(len(lines) - 1, len(lines[-1]))))
    assert isinstance(result, lsp.CompletionList)
    return {item.label: item for item in result.items}


# -------------------------------------------------------------------------- hover


@on_module_loop
async def test_hover_on_a_period_family_shows_its_declaration(client: LanguageClient,
                                                             workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    u = uri(workspace, INTRICON)
    expected = "royalty quarter: calendar quarters from commencement_date"
    # Where it is declared, in a `for each`, and as a parameter's type.
    for needle, offset in (("periods royalty_quarter", 9),
                           ("for each royalty_quarter q", 10),
                           ("(q: royalty_quarter)", 5)):
        value = await hover(client, u, position_of(text, needle, offset=offset))
        assert "**periods** `royalty_quarter`" in value, needle
        assert expected in value, needle


@on_module_loop
async def test_hover_on_a_series_fact_says_one_value_per_period(client: LanguageClient,
                                                                workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    value = await hover(client, uri(workspace, INTRICON),
                        position_of(text, "fact royalties", offset=6))
    assert "**fact** `royalties`" in value
    assert "one value per royalty quarter" in value


@on_module_loop
async def test_hover_on_a_range_variable_names_its_period(client: LanguageClient,
                                                          workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    u = uri(workspace, INTRICON)
    declared = position_of(text, "for each royalty_quarter q from commencement_date until "
                           "minimum_payments_until", offset=len("for each royalty_quarter "))
    assert "a royalty quarter" in await hover(client, u, declared)
    used = position_of(text, "by start of q", offset=len("by start of "))
    assert "a royalty quarter" in await hover(client, u, used)
    # In an aggregate: `sum of [... for each calendar month m ...]`.
    month = position_of(text, "monthly_service_fees(m) for each", offset=len(
        "monthly_service_fees("))
    assert "a calendar month" in await hover(client, u, month)
    # Go to definition of a use: the variable of its own `for each`.
    (location,) = await definition(client, u, used)
    assert location.range.start == declared


@on_module_loop
async def test_range_variables_are_not_undefined(client: LanguageClient,
                                                 workspace: Path) -> None:
    open_doc(client, workspace, INTRICON)
    open_doc(client, workspace, NEON)
    for which in (INTRICON, NEON):
        u = uri(workspace, which)
        for _ in range(600):
            if u in client.diagnostics:
                break
            await __import__("asyncio").sleep(0.05)
        assert u in client.diagnostics, "no diagnostics published"
        messages = [d.message for d in client.diagnostics[u]]
        assert not [m for m in messages if "not defined" in m], messages


# --------------------------------------------------------------------- definition


@on_module_loop
async def test_definition_of_families_and_recurring_obligations(client: LanguageClient,
                                                                workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    u = uri(workspace, INTRICON)
    family = line_of(text, "periods royalty_quarter")
    for needle, offset in (("for each royalty_quarter q", 10), ("(q: royalty_quarter)", 5),
                           ("money per royalty_quarter", 11)):
        (location,) = await definition(client, u, position_of(text, needle, offset=offset))
        assert location.uri == u and location.range.start.line == family, needle
    # A recurring obligation's name in `statement(q).due`.
    (location,) = await definition(client, u, position_of(text, "statement(q).due", offset=2))
    assert location.range.start.line == line_of(text, "obligation statement ")


@on_module_loop
async def test_definition_of_a_family_across_agreement_and_amendment(
        client: LanguageClient, workspace: Path) -> None:
    text = open_doc(client, workspace, NEON)
    u = uri(workspace, NEON)
    at = position_of(text, "(y: fiscal_year)", offset=5)
    locations = await definition(client, u, at)
    assert locations
    target = locations[0]
    declared = Path(target.uri.removeprefix("file://"))
    assert "periods fiscal_year" in declared.read_text(encoding="utf-8").split("\n")[
        target.range.start.line]


# --------------------------------------------------------------------- completion


@on_module_loop
async def test_completion_offers_families_after_for_each_and_as_types(
        client: LanguageClient, workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    u = uri(workspace, INTRICON)
    families = {"royalty_quarter", "payment_year", "calendar month", "calendar quarter",
                "calendar year"}
    items = await completion_at_end(client, u, text + "\ndefine t: money = sum of [x for each ")
    assert families <= set(items)
    assert "define" not in items
    assert items["royalty_quarter"].kind == lsp.CompletionItemKind.Enum
    items = await completion_at_end(client, u, text + "\ndefine t(q: ")
    assert families <= set(items) and "money" in items
    items = await completion_at_end(client, u, text + "\nfact f: money per ")
    assert families <= set(items)
    change_doc(client, u, text)


@on_module_loop
async def test_completion_offers_the_words_of_periods_and_time(client: LanguageClient,
                                                               workspace: Path) -> None:
    text = open_doc(client, workspace, INTRICON)
    u = uri(workspace, INTRICON)
    items = await completion_at_end(client, u, text + "\nperiods p = ")
    assert {"calendar", "fiscal", "contract"} == set(items)
    items = await completion_at_end(client, u, text + "\nperiods p = fiscal ")
    assert {"months", "quarters", "years"} <= set(items)
    items = await completion_at_end(client, u, text + "\nperiods p = fiscal years ")
    assert {"beginning", "from"} <= set(items)
    items = await completion_at_end(
        client, u, text + "\ndefine t: money = sum of [x for each royalty_quarter q ")
    assert {"from", "in the"} <= set(items)
    items = await completion_at_end(client, u, text + "\ndefine t: date = ")
    assert {"start of", "end of", "number of", "previous", "next", "containing",
            "last business day of", "is late on", "promptly", "performed on", "periods",
            "as soon as reasonably practicable", "in any event", "royalty_quarter"} <= set(items)
    change_doc(client, u, text)
