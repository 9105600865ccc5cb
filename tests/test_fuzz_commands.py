"""Every command, on mutated seed contracts and hostile inputs: exit code 0 or 1 (2 only for
a usage error), never a traceback or "internal error", never a hang, never code run from
the input. `benchmarks/fuzz.py` runs the same cases by the hundred thousand."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzing import (
    BASE_TEXTS,
    COMMANDS,
    HOSTILE_FACT_FILES,
    HOSTILE_NAMES,
    HOSTILE_SNIPPETS,
    Case,
    LspClient,
    make_case,
    run_case,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture,
                                       # summarize and diff search with hypothesis themselves
                                       HealthCheck.nested_given])
SECONDS = 60.0  # far above any honest answer: a case that takes this long is hanging
LSP_SECONDS = 20.0  # per request: the server answers a request in well under a second


@pytest.fixture(scope="module")
def lsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LspClient]:
    client = LspClient(tmp_path_factory.mktemp("fuzz_lsp"))
    yield client
    client.close()


def _run(case: Case, lsp: LspClient | None = None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="clausec-fuzz-"))
    try:
        outcome = run_case(case, folder, seconds=LSP_SECONDS if lsp else SECONDS, lsp=lsp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert outcome.ok, f"{case.describe()}: {outcome.problems}\n{outcome.output[-3000:]}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "lsp"])
@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_and_hostile_inputs_never_break_a_command(command: str, seed: int) -> None:
    _run(make_case(random.Random(seed), command))


@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_and_hostile_inputs_never_break_the_language_server(
        lsp_server: LspClient, seed: int) -> None:
    _run(make_case(random.Random(seed), "lsp"), lsp_server)



SMALL = 'agreement a "A" {\n  parties { seller "S" as seller }\n}\n\nfact x: integer\n' \
        'define y: integer = x + 1\n'


@pytest.mark.parametrize("snippet", HOSTILE_SNIPPETS, ids=range(len(HOSTILE_SNIPPETS)))
@pytest.mark.parametrize("command", ["check", "compile", "fmt", "summarize"])
def test_each_hostile_snippet_in_each_command(command: str, snippet: str) -> None:
    text = SMALL + "define z: integer = " + snippet + "\n"
    _run(Case(command=command, file_name="hostile.clause", text=text, base="small"))


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
@pytest.mark.parametrize("command", ["check", "compile", "summarize", "eval"])
def test_each_hostile_file_name_in_each_command(command: str, name: str) -> None:
    _run(Case(command=command, file_name=name, text=SMALL, base="small", name="y",
              facts='{"x": 1}'))


@pytest.mark.parametrize("facts", HOSTILE_FACT_FILES, ids=range(len(HOSTILE_FACT_FILES)))
@pytest.mark.parametrize("command", ["eval", "agenda"])
def test_each_hostile_facts_file_in_eval(command: str, facts: str) -> None:
    _run(Case(command=command, file_name="facts.clause", text=SMALL, base="small", name="y",
              facts=facts))


@pytest.mark.parametrize("base", sorted(BASE_TEXTS))
def test_each_unmutated_base_alone_in_a_folder(base: str) -> None:
    """A file without the files it goes with (an amendment without its agreement, tests
    without theirs) is an error to report, not a crash."""
    for command in ("check", "test", "summarize"):
        _run(Case(command=command, file_name=base, text=BASE_TEXTS[base], base=base))
