"""Tests of the code generator: what `clausec.compile_file` writes.

The generated module must be deterministic, lint- and type-clean, standalone (standard
library only), documented with the contract's words, immune to injection from anything a
clause file can say, and must point every run-time error back at the clause file.

The fixture `tests/data/all_constructs.clause` uses every construct of the language;
every seed contract in `clauses/` is checked too (whatever files exist when this runs),
each agreement compiled with its amendments, as `clausec compile clauses -o build` does.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import clausec
from clausec import api, ir
from clausec.backends.python.codegen import py_name
from clausec.front.parser import keywords
from clausec.ir import types as T
from clausec.passes.check import BUILTINS
from clausec.source import SourceFile
from clausec.tools import testing

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "all_constructs.clause"
# Months, years and business days of named calendars (their holidays embedded as tables).
TIME_FIXTURE = ROOT / "tests" / "data" / "time_arithmetic.clause"
SEEDS = sorted((ROOT / "clauses").rglob("*.clause"))


@dataclass(frozen=True)
class Unit:
    """What compiles to one module: an agreement's file and the files that amend it."""

    agreement: Path
    amendments: tuple[Path, ...] = ()

    def __str__(self) -> str:
        return self.agreement.name + "".join(f"+{a.name}" for a in self.amendments)

    def compile(self) -> str:
        if self.amendments:
            return clausec.compile_file(self.agreement, list(self.amendments))
        return clausec.compile_file(self.agreement)

    def load(self) -> ModuleType:
        return _load_code(self.compile(), str(self.agreement))

    def checked(self) -> Any:
        """The checked program as in force now (what the module's top level computes)."""
        source = SourceFile.read(self.agreement)
        if self.amendments:
            result = api.analyse(source, [SourceFile.read(a) for a in self.amendments])
        else:
            result = api.analyse(source)
        assert result.checked is not None, [d.message for d in result.diagnostics]
        return result.checked

    def texts(self) -> dict[str, str]:
        return {p.name: SourceFile.read(p).text for p in (self.agreement, *self.amendments)}


def _seed_units() -> list[Unit]:
    grouping = getattr(api, "group", None)  # agreements with their amendments
    if grouping is None:
        return [Unit(p) for p in SEEDS]
    return [Unit(Path(a), tuple(Path(x) for x in amendments))
            for a, amendments in grouping(SEEDS)]


UNITS = [Unit(FIXTURE), Unit(TIME_FIXTURE), *_seed_units()]
UNIT_IDS = [str(u) for u in UNITS]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _load_code(code: str, name: str = "generated.clause") -> ModuleType:
    return api.module_from_source(code, name)


def _compile_text(text: str, name: str = "t.clause") -> str:
    """The generated module of clause source text; fails the test on compile errors."""
    code, diagnostics = api.compile_source(SourceFile(name, text))
    errors = [d.render({name: SourceFile(name, text)}) for d in diagnostics
              if d.severity == "error"]
    assert code is not None, "\n\n".join(errors)
    return code


def _load_text(text: str, name: str = "t.clause") -> ModuleType:
    return _load_code(_compile_text(text, name), name)


def _clause_string(text: str) -> str:
    """A Clause "..." literal whose value is `text` (the lexer's escapes: \\\\ \\" \\n)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _tool(name: str) -> list[str]:
    """How to run ruff or mypy: as a module of this interpreter, or from PATH."""
    probe = subprocess.run([sys.executable, "-m", name, "--version"], check=False,
                           capture_output=True, env=dict(os.environ))
    if probe.returncode == 0:
        return [sys.executable, "-m", name]
    found = shutil.which(name)
    assert found is not None, f"{name} is a test dependency but is not installed"
    return [found]


def _sample_facts(module: ModuleType, members: dict[str, str]) -> dict[str, object]:
    """A value of the right kind for every fact of a module (from FACT_TYPES); `members`:
    a member of each choice, by the choice's name as FACT_TYPES spells it."""
    return _sample_facts_of(module.FACT_TYPES, list(module._PARTY_NAMES), members)


def _sample_facts_of(fact_types: dict[str, str], parties: list[str],
                     members: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, spelled in fact_types.items():
        kind = spelled.replace(" (optional)", "")
        if " per " in kind:  # a series: one value, for the period containing a date
            single = _sample_facts_of({name: kind.split(" per ")[0]}, parties, members)[name]
            values[name] = {"2010-06-30": single}
            continue
        if kind.startswith("list of "):  # no items: every aggregate has its empty value
            values[name] = []
            continue
        if kind in members:
            values[name] = members[kind]
            continue
        if kind.endswith("business days"):  # "new_york_banks business days"
            kind = "business days"
        if kind.startswith("money"):
            currency = kind.split()[1] if " " in kind else "USD"
            values[name] = "$1,000.00" if currency == "USD" else f"{currency} 1,000.00"
            continue
        values[name] = {
            "bool": True, "integer": 3, "decimal": "1.5", "percent": "10%",
            "date": "2004-03-30", "datetime": "2004-03-30T17:00:00-05:00", "days": 3,
            "business days": 2, "months": 3, "text": "some text",
            "party": parties[0] if parties else "nobody",
        }[kind]
    return values


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_compiling_twice_in_one_process_gives_identical_output(unit: Unit) -> None:
    first = unit.compile()
    second = unit.compile()
    assert first == second
    # Loading a module in between must not change what the compiler produces.
    _load_code(first, str(unit.agreement))
    assert unit.compile() == first


def test_compiling_in_separate_processes_with_different_hash_seeds_is_byte_identical(
        tmp_path: Path) -> None:
    expected = clausec.compile_file(FIXTURE).encode("utf-8")
    outputs = []
    for seed in ("0", "1", "987654321"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-m", "clausec", "compile", str(FIXTURE), "-o", str(out)],
            check=False, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        outputs.append((out / "all_constructs.py").read_bytes())
    for output in outputs:
        assert output == expected


def test_compiling_every_contract_in_separate_processes_is_byte_identical(
        tmp_path: Path) -> None:
    # `clausec compile clauses -o build`, as the README quickstart runs it.
    files = [str(FIXTURE), str(TIME_FIXTURE), *map(str, SEEDS)]
    written = []
    for seed in ("0", "4242"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-m", "clausec", "compile", *files, "-o",
                              str(out)], check=False, capture_output=True, text=True, env=env,
                             cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        written.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert written[0] == written[1]
    for unit in UNITS:
        assert written[0][unit.agreement.stem + ".py"] == unit.compile().encode("utf-8")


# ---------------------------------------------------------------------------
# Lint- and type-clean
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_generated_module_passes_ruff(unit: Unit, tmp_path: Path) -> None:
    target = tmp_path / (unit.agreement.stem + ".py")
    target.write_text(unit.compile(), encoding="utf-8")
    run = subprocess.run([*_tool("ruff"), "check", "--isolated", "--no-cache", str(target)],
                         check=False, capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_generated_module_passes_mypy_strict(unit: Unit, tmp_path: Path,
                                             mypy_cache: Path) -> None:
    target = tmp_path / (unit.agreement.stem + ".py")
    target.write_text(unit.compile(), encoding="utf-8")
    run = subprocess.run(
        [*_tool("mypy"), "--strict", "--cache-dir", str(mypy_cache), str(target)],
        check=False, capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr


# ---------------------------------------------------------------------------
# Standalone
# ---------------------------------------------------------------------------

# Run with `python -I` in an empty directory. `import clausec` is made impossible even if
# clausec is installed in site-packages, so any use of it by the module fails.
_RUNNER = textwrap.dedent("""
    import importlib, json, sys
    sys.modules["clausec"] = None
    sys.path.insert(0, sys.argv[1])
    m = importlib.import_module(sys.argv[2])
    facts = m.Facts.from_dict(json.loads(sys.argv[3]))
    ran = 0
    for name, args in json.loads(sys.argv[4]):
        try:
            m.evaluate(name, facts, *args)
            str(m.explain(name, facts, *args))
        except m.ClauseError:
            pass
        ran += 1
    m.explain(next(iter(m.FACT_TYPES)), facts) if m.FACT_TYPES else None
    loaded = sorted(n for n in sys.modules if n.split(".")[0] == "clausec"
                    and sys.modules[n] is not None)
    print(json.dumps({"ran": ran, "clausec_modules": loaded, "file": m.__file__}))
""")


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_generated_module_runs_alone_in_isolated_mode(unit: Unit, tmp_path: Path) -> None:
    code = unit.compile()
    empty = tmp_path / "empty"
    empty.mkdir()
    module_name = "generated_" + unit.agreement.stem
    (empty / f"{module_name}.py").write_text(code, encoding="utf-8")
    module = _load_code(code, str(unit.agreement))
    members = {str(T.choice(d.name)): d.members[0].name
               for d in unit.checked().program.declarations if isinstance(d, ir.Choice)}
    facts = _sample_facts(module, members)
    # Each term, obligation and power; one that takes periods, for those containing a date.
    names = [(d.name, ["2010-06-30"] * len(testing.parameters(d)))
             for d in unit.checked().program.declarations
             if isinstance(d, (ir.Obligation, ir.Power, ir.Definition))
             and all(p.type.kind == "period" for p in testing.parameters(d))]
    run = subprocess.run(
        [sys.executable, "-I", "-c", _RUNNER, str(empty), module_name, json.dumps(facts),
         json.dumps(names)],
        check=False, capture_output=True, text=True, cwd=empty, env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["clausec_modules"] == []
    assert report["ran"] == len(names)
    assert Path(report["file"]).parent == empty


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_generated_module_imports_only_the_standard_library(unit: Unit) -> None:
    tree = ast.parse(unit.compile())
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "a relative import"
            imported.append(node.module or "")
    assert imported, "the module imports nothing?"
    for name in imported:
        root = name.split(".")[0]
        assert root != "clausec"
        assert root in sys.stdlib_module_names, name
    # Nothing is imported dynamically either.
    calls = {node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "__import__" not in calls
    assert "clausec" not in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# ---------------------------------------------------------------------------
# Docstrings: section number and contract text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_every_function_docstring_has_its_section_and_contract_text(unit: Unit) -> None:
    checked = unit.checked()
    module = unit.load()
    documented = 0
    for decl in checked.program.declarations:
        if not isinstance(decl, (ir.Definition, ir.Obligation, ir.Power)):
            continue
        doc = inspect.getdoc(getattr(module, py_name(decl.name)))
        assert doc, decl.name
        assert f"{Path(decl.span.file).name}:{decl.span.line}" in doc, (decl.name, doc)
        if decl.section is None:
            continue
        assert f"Section {decl.section}" in doc, (decl.name, doc)
        section = checked.sections.get(decl.section)
        assert section is not None, decl.section
        doc_lines = {line.strip() for line in doc.splitlines()}
        for line in section.text.splitlines():
            assert line.strip() in doc_lines, (decl.name, line)
        documented += 1
    assert documented > 0 or unit.agreement != FIXTURE


def test_fixture_docstrings_quote_the_contract() -> None:
    module = clausec.load(FIXTURE)
    fee = inspect.getdoc(module.fee)
    assert fee is not None
    assert "Section 1" in fee
    assert '"Fee" means 7.5% of the Purchase Price, rounded to the cent.' in fee
    assert "A second, one-line block of contract text." in fee
    deadline = inspect.getdoc(module.closing_deadline)
    assert deadline is not None and "Section 2.1(a)" in deadline
    assert "The Closing Deadline is ten business days after the Signing Date" in deadline
    met = inspect.getdoc(module.closing_conditions_met)
    assert met is not None and "Section 4.2(b)(ii)" in met
    assert "least $1,000 and (c) no waiver when a Closing has occurred." in met
    # Definitions in a section without text still name their section.
    bare = _load_text('fact f: integer\nsection 7.1 "Bare" {\n  define x: integer = f\n}\n')
    bare_doc = inspect.getdoc(bare.x)
    assert bare_doc is not None and "Section 7.1" in bare_doc


# ---------------------------------------------------------------------------
# Injection: nothing a clause file says can become code
# ---------------------------------------------------------------------------

_MARKER_CODE = '__import__("pathlib").Path(MARKER).write_text("pwned")'

_PAYLOADS = [
    '"""; ' + _MARKER_CODE + '; """',
    "'''; " + _MARKER_CODE + "; '''",
    '"); ' + _MARKER_CODE + ' #',
    "'); " + _MARKER_CODE + " #",
    ');\nimport os; os.system("echo pwned") #',
    "\\",
    'ends with a quote"',
    "ends with a backslash\\",
    '\\"""\\\n' + _MARKER_CODE,
    "{" + _MARKER_CODE + "} {0} {{}} }",
    "# comment\n" + _MARKER_CODE + "\n# another",
    "line\n" + _MARKER_CODE,
    "\\n \\t \\x41 \\u0041 \\N{BULLET} \\N{LATIN SMALL LETTER A}",
    "controls \x00 \x01 \x07 \x08 \x0b \x0c \x1b \x1c \x1f \x7f \x85 end",
    "separators \u2028" + _MARKER_CODE + "\u2029 \u202e rtl \ufeff bom end",
    "unicode: § ¶ “quotes” ‘single’ – — € 💼 ℕ",
]


def _hostile_clause(payload: str) -> str:
    q = _clause_string(payload)
    # Text blocks cannot hold `"""` or lines that start or end with spaces (they are
    # dedented): wrap each line in brackets.
    block = "\n".join(f"    [{line}]" for line in payload.replace('"""', "'''").split("\n"))
    return (
        f"agreement hostile {q} {{\n"
        f"  governing law {q}\n"
        f"  party buyer {q}: {q}\n"
        f"  party seller\n"
        f"  time zone America/New_York {q}\n"
        f"}}\n"
        f"fact flag {q}: bool default true {q}\n"
        f"fact memo {q}: text default {q} {q}\n"
        f"section 1 {q} {{\n"
        f"  text {q}\n"
        f'  text """\n{block}\n  """\n'
        f"  define said {q}: text = {q}\n"
        f"  define chosen(n: integer) {q}: text = if n > 1 then {q} else memo\n"
        f"  condition same {q} = memo is {q}\n"
        f"  exception quiet to said {q} = {q} when not flag\n"
        f"  obligation tell {q}: buyer must {q} {q} to seller when flag\n"
        f"  power speak {q}: either party may {q} when flag\n"
        f"    then seller must {q} memo to buyer\n"
        f"}}\n"
    )


def _block_text(payload: str) -> str:
    return "\n".join(f"[{line}]" for line in payload.replace('"""', "'''").split("\n"))


@pytest.mark.parametrize("payload", _PAYLOADS, ids=[repr(p)[:40] for p in _PAYLOADS])
def test_hostile_text_is_data_not_code(payload: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "MARKER"
    payload = payload.replace("MARKER", repr(str(marker)))
    source = _hostile_clause(payload)
    code = _compile_text(source, "hostile.clause")
    # (a) it is Python
    tree = ast.parse(code)
    # Only the prelude's imports: nothing imported by the clause.
    imports = {ast.unparse(n) for n in ast.walk(tree)
               if isinstance(n, (ast.Import, ast.ImportFrom))}
    plain = _compile_text("fact flag: bool\ncondition c = flag\n")
    assert imports == {ast.unparse(n) for n in ast.walk(ast.parse(plain))
                       if isinstance(n, (ast.Import, ast.ImportFrom))}
    # (b) importing it and using it runs nothing injected
    monkeypatch.setattr(os, "system", _forbidden)
    module = _load_code(code, "hostile.clause")
    facts = module.Facts()
    for name in module._EVALUATORS:
        args = (2,) if name == "chosen" else ()
        str(module.evaluate(name, facts, *args))
        str(module.explain(name, facts, *args))
    assert not marker.exists()
    # The written file, imported in a fresh interpreter, runs nothing either.
    (tmp_path / "hostile_module.py").write_text(code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-I", "-c",
         ("import sys; sys.path.insert(0, sys.argv[1]); import hostile_module as m; "
          "print(m.said(m.Facts()) == m.AGREEMENT['title'])"), str(tmp_path)],
        check=False, capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
    assert "pwned" not in run.stdout
    assert not marker.exists()
    # (c) the text comes back unchanged
    assert module.AGREEMENT["title"] == payload
    assert module.AGREEMENT["governing_law"] == payload
    assert module.PARTIES["buyer"] == (payload, payload)
    assert module.SECTIONS["1"] == (payload, payload + "\n\n" + _block_text(payload))
    assert module.said(facts) == payload
    assert module.evaluate("said", facts) == payload
    assert module.said(module.Facts(flag=False)) == payload
    assert module.chosen(facts, 2) == payload
    assert module.chosen(facts, 1) == payload
    assert facts.memo == payload
    assert module.evaluate("memo", facts) == payload
    assert module.same(facts) is True
    obligation = module.tell(facts)
    assert obligation.action == payload
    assert obligation.object == payload
    assert obligation.obligor == payload
    power = module.speak(facts)
    assert power.action == payload
    assert power.consequences[0].action == payload
    assert power.consequences[0].beneficiary == payload
    assert module.explain("said", facts).label == f"said ({payload})"
    assert payload in str(module.explain("said", facts))
    # Docstrings hold the words too (module, Facts, functions).
    assert module.__doc__ is not None and payload in module.__doc__
    facts_doc = module.Facts.__doc__
    assert facts_doc is not None and payload in facts_doc.replace("\n    ", "\n")
    said_doc = module.said.__doc__
    assert said_doc is not None and payload in said_doc.replace("\n    ", "\n")


def _forbidden(*args: object) -> int:
    raise AssertionError(f"os.system called from generated code: {args!r}")


def test_hostile_text_block_with_raw_control_characters() -> None:
    # Characters that only a text block can carry raw (a "..." string has no \r escape).
    body = "a\rb\x00c\x1bd\u2028e\u2029f\x85g\\N{BULLET}h'''i\"\"j\\"
    source = (f'fact f: integer\nsection 1 {{\n  text """\n    {body}\n  """\n'
              '  define x: integer = f\n}\n')
    code = _compile_text(source)
    ast.parse(code)
    module = _load_code(code)
    assert module.SECTIONS["1"] == (None, body)
    doc = module.x.__doc__
    assert doc is not None and body in doc


def test_clause_names_that_are_python_keywords_or_builtins() -> None:
    module = _load_text(textwrap.dedent("""\
        agreement a "A" {
          party buyer "Buyer"
          party seller "Seller"
        }
        fact lambda: bool
        fact import "Imported": integer default 4
        define class = 1
        define print = 2
        define return(x: integer): integer = x + class
        condition def = lambda
        obligation pass: seller must pay print to buyer when def
        power from: buyer may terminate when not lambda
        """))
    assert {py_name(n) for n in ("class", "print", "lambda", "def", "return", "pass", "from")} \
        == {"class_", "print_", "lambda_", "def_", "return_", "pass_", "from_"}
    facts = module.Facts(lambda_=True)
    assert module.Facts.from_dict({"lambda": True}) == facts
    assert facts.lambda_ is True
    assert facts.import_ == 4
    assert module.class_(facts) == 1
    assert module.print_(facts) == 2
    assert module.return_(facts, 5) == 6
    assert module.def_(facts) is True
    assert module.pass_(facts).active is True
    assert module.from_(facts).available is False
    assert module.evaluate("class", facts) == 1
    assert module.evaluate("print", facts) == 2
    assert module.evaluate("return", facts, 1) == 2
    assert module.evaluate("lambda", facts) is True
    assert module.evaluate("import", facts) == 4
    assert module.explain("class", facts).value == 1
    assert module.explain("lambda", facts).value is True
    assert module.explain("def", facts).value is True
    assert set(module.FACT_TYPES) == {"lambda", "import"}
    # print() is still Python's print inside the module.
    assert module.__dict__.get("print") is None


_RUNTIME_PROBE = textwrap.dedent("""\
    agreement a "A" {
      party seller "Seller"
      time zone America/New_York
    }
    fact amount: money
    fact units: integer
    fact start: date
    define per_unit: money = amount / units
    define due: date = 2 business days after start
    define back: date = 3 business days before start
    define cob: datetime = close of business on due
    define total: money = sum of [(a) amount, (b) $1,000.50]
    define first: date = earlier of [(a) due, (b) start]
    define rounded: money = round(amount / 3, 2)
    define square: decimal = 1.5 ^ 2
    condition big = all of [(a) amount > $10, (b) units is at least 1]
    obligation payment: seller must pay total by cob when big
    """)


def _shadowable_names() -> list[str]:
    """Every Python builtin, keyword and soft keyword, and every global of a generated
    module, that is a legal clause name not used by the probe above."""
    probe = _load_text(_RUNTIME_PROBE)
    used = set(re.findall(r"[A-Za-z_]\w*", _RUNTIME_PROBE)) | set(BUILTINS)
    names = set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist) | set(vars(probe))
    return sorted(n for n in names if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", n)
                  and n not in keywords() and n not in used)


def _probe_results(module: ModuleType) -> dict[str, object]:
    facts = module.Facts.from_dict({"amount": "$1,000", "units": 3, "start": "2004-07-01"})
    results: dict[str, object] = {}
    checks = {
        "per_unit": lambda: module.per_unit(facts),
        "due": lambda: module.due(facts),
        "back": lambda: module.back(facts),
        "cob": lambda: module.cob(facts),
        "total": lambda: module.total(facts),
        "first": lambda: module.first(facts),
        "rounded": lambda: module.rounded(facts),
        "square": lambda: module.square(facts),
        "big": lambda: module.big(facts),
        "payment": lambda: str(module.payment(facts)),
        "explain": lambda: module.explain("total", facts).to_dict()["value"],
        "bad fact": lambda: type(_raises(lambda: module.Facts(amount=1.5, units=1,
                                                              start=date(2004, 1, 1)))).__name__,
        "division by zero": lambda: type(_raises(lambda: module.per_unit(
            module.Facts(amount=1, units=0, start=date(2004, 1, 1))))).__name__,
    }
    for key, check in checks.items():
        try:
            results[key] = check()
        except Exception as error:  # noqa: BLE001 - reported as a difference
            results[key] = f"raised {type(error).__name__}: {error}"
    return results


def _raises(thunk: Any) -> BaseException | None:
    try:
        thunk()
    except Exception as error:  # noqa: BLE001
        return error
    return None


_PROBE_EXPECTED = {
    # 1000 / 3 does not terminate: its whole-number part and 28 digits after it.
    "per_unit": Decimal("333." + "3" * 28),
    "due": date(2004, 7, 6),  # July 2 (Fri), July 5 is the observed Independence Day
    "back": date(2004, 6, 28),
    "cob": datetime(2004, 7, 6, 17, 0, tzinfo=ZoneInfo("America/New_York")),
    "total": Decimal("2000.50"),
    "first": date(2004, 7, 1),
    "rounded": Decimal("333.33"),
    "square": Decimal("2.25"),
    "big": True,
    "payment": "Seller must pay $2,000.50 by July 6, 2004, 5:00 P.M. (America/New_York)",
    "explain": "$2,000.50",
    "bad fact": "FactError",
    "division by zero": "ClauseRuntimeError",
}


def test_runtime_probe_is_right_without_shadowing() -> None:
    assert _probe_results(_load_text(_RUNTIME_PROBE)) == _PROBE_EXPECTED


def test_definitions_named_like_builtins_do_not_change_the_runtime() -> None:
    # `define abs = ...` must not replace the abs() that the business-day calendar uses.
    names = _shadowable_names()
    assert {"abs", "map", "print", "class", "lambda", "Decimal", "Calendar"} <= set(names)
    source = _RUNTIME_PROBE + "".join(
        f"define {name}: integer = {i}\n" for i, name in enumerate(names))
    module = _load_text(source)
    facts = module.Facts(amount=1, units=1, start=date(2004, 1, 1))
    wrong = {name: module.evaluate(name, facts) for i, name in enumerate(names)
             if module.evaluate(name, facts) != i}
    assert wrong == {}
    results = _probe_results(module)
    assert {k: v for k, v in results.items() if v != _PROBE_EXPECTED[k]} == {}


@pytest.mark.parametrize("name", ["abs", "map", "sorted", "zip", "hash", "divmod"])
def test_one_definition_named_like_a_builtin(name: str) -> None:
    module = _load_text(_RUNTIME_PROBE + f"define {name}: integer = 7\n")
    results = _probe_results(module)
    assert {k: v for k, v in results.items() if v != _PROBE_EXPECTED[k]} == {}


def test_facts_named_like_builtins_do_not_change_the_runtime() -> None:
    names = _shadowable_names()
    source = _RUNTIME_PROBE + "".join(
        f"fact {name}: integer default {i}\n" for i, name in enumerate(names))
    module = _load_text(source)
    facts = module.Facts(amount=1, units=1, start=date(2004, 1, 1))
    assert {n: module.evaluate(n, facts) for n in names} == {n: i for i, n in enumerate(names)}
    data = {name: i + 1 for i, name in enumerate(names)}
    facts = module.Facts.from_dict({**data, "amount": 1, "units": 1, "start": "2004-01-01"})
    assert {n: module.evaluate(n, facts) for n in names} == data
    results = _probe_results(module)
    assert {k: v for k, v in results.items() if v != _PROBE_EXPECTED[k]} == {}


# ---------------------------------------------------------------------------
# Line mapping
# ---------------------------------------------------------------------------

_DECLARATION = re.compile(r"^\s*(?:define|condition|obligation|power)\s+([A-Za-z_]\w*)",
                          re.MULTILINE)


def _declaration_lines(text: str) -> dict[str, int]:
    """Where each declaration keyword is, found independently of the compiler."""
    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))
    # Text blocks and comments may hold words like "condition"; keep their newlines only.
    text = re.sub(r'"""(?:.|\n)*?"""', blank, text)
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', blank, text)
    lines = {}
    for m in _DECLARATION.finditer(text):
        keyword_at = m.start(0) + len(m.group(0)) - len(m.group(0).lstrip())
        lines.setdefault(m.group(1), text.count("\n", 0, keyword_at) + 1)
    return lines


def _function_comments(code: str) -> dict[str, str]:
    lines = code.split("\n")
    tree = ast.parse(code)
    return {node.name: lines[node.lineno - 2] for node in tree.body
            if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("unit", UNITS, ids=UNIT_IDS)
def test_each_function_is_preceded_by_its_clause_line(unit: Unit) -> None:
    lines = {name: _declaration_lines(text) for name, text in unit.texts().items()}
    code = unit.compile()
    comments = _function_comments(code)
    module = _load_code(code, str(unit.agreement))
    seen = 0
    for decl in unit.checked().program.declarations:
        if not isinstance(decl, (ir.Definition, ir.Obligation, ir.Power)):
            continue
        file = Path(decl.span.file).name
        where = f"# {file}:{lines[file][decl.name]}"
        if decl.section is not None:
            where += f" (Section {decl.section})"
        # The function the module's name stands for (a version's, in an amended agreement).
        function = getattr(module, py_name(decl.name))
        assert comments[function.__name__] == where, decl.name
        seen += 1
    assert seen > 0 or unit.agreement != FIXTURE


def test_line_mapping_with_unusual_layout() -> None:
    text = textwrap.dedent('''\
        # a comment
        fact a: integer

        section 1 {
          text """
            two lines
            of text
          """
          define
            x
            : integer =
            a + 1
          condition   y =   # a comment
            x > 1
        }
        define z = x *
          2
        section 2(b) { obligation
          o: seller must pay z }
        agreement a "A" { party seller }
        ''')
    comments = _function_comments(_compile_text(text, "layout.clause"))
    assert comments["x"] == "# layout.clause:9 (Section 1)"
    assert comments["y"] == "# layout.clause:13 (Section 1)"
    assert comments["z"] == "# layout.clause:16"
    assert comments["o"] == "# layout.clause:18 (Section 2(b))"


# ---------------------------------------------------------------------------
# Run-time errors point at the clause
# ---------------------------------------------------------------------------


def _fixture_facts(module: ModuleType, **changes: object) -> Any:
    data: dict[str, object] = {
        "signed_on": "2004-03-30", "price": "$1,800,000", "units": 4, "approved": True,
        "extension": 0, "grace": 5, "review": 2, "reviewer": "seller",
        "memo_title": "Memo", "share": "10%", "weight": "2", "window_opens":
        "2004-04-01T09:00:00-05:00",
    }
    data.update(changes)
    return module.Facts.from_dict(data)


def _line_of(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def test_division_by_zero_is_reported_at_the_clause() -> None:
    module = clausec.load(FIXTURE)
    text = FIXTURE.read_text(encoding="utf-8")
    facts = _fixture_facts(module, units=0)
    line, column = _line_of(text, "price / units")
    for call in (lambda: module.price_per_unit(facts),
                 lambda: module.evaluate("price_per_unit", facts),
                 lambda: module.explain("price_per_unit", facts)):
        with pytest.raises(module.ClauseRuntimeError) as info:
            call()
        error = info.value
        assert Path(error.file).name == FIXTURE.name
        assert (error.line, error.column, error.section) == (line, column, "1")
        assert "division by zero" in str(error)
        assert f"{FIXTURE.name}:{line}:{column}" in str(error)
    # A clause that uses the failing term fails with the same position.
    other = _load_text("fact n: integer\ndefine r = 1 / n\n\n\ndefine s = r + 1\n",
                       "zero.clause")
    with pytest.raises(other.ClauseRuntimeError) as info:
        other.s(other.Facts(n=0))
    assert (info.value.file, info.value.line, info.value.column) == ("zero.clause", 2, 12)


def test_missing_optional_fact_is_reported_at_the_clause() -> None:
    module = clausec.load(FIXTURE)
    text = FIXTURE.read_text(encoding="utf-8")
    facts = _fixture_facts(module)  # closing_on is not given
    line, column = _line_of(text, "closing_on is after closing_deadline")
    for call in (lambda: module.late(facts), lambda: module.evaluate("late", facts),
                 lambda: module.explain("late", facts)):
        with pytest.raises(module.MissingFactError) as info:
            call()
        error = info.value
        assert isinstance(error, module.ClauseRuntimeError)
        assert error.fact == "closing_on"
        assert Path(error.file).name == FIXTURE.name
        assert (error.line, error.column, error.section) == (line, column, "4.2(b)(ii)")
        assert "'closing_on'" in str(error)
    # Given, it is fine.
    assert module.late(_fixture_facts(module, closing_on="2004-05-01")) is True


def test_other_runtime_errors_are_reported_at_the_clause() -> None:
    module = clausec.load(FIXTURE)
    text = FIXTURE.read_text(encoding="utf-8")
    # A term that has no value ("earlier of" events that have not happened) used where a
    # value is needed.
    # "1 day after the_earlier" needs the_earlier, which has no value: the error is where
    # it is needed, also when the term is reached from another one.
    line, column = _line_of(text, "1 day after the_earlier")
    column += len("1 day after ")
    facts = _fixture_facts(module, approved=False)
    for call in (lambda: module.first_event(facts),
                 lambda: module.event_before_outside(facts)):
        with pytest.raises(module.ClauseRuntimeError) as info:
            call()
        assert Path(info.value.file).name == FIXTURE.name
        assert (info.value.line, info.value.column, info.value.section) == \
            (line, column, "2.1(a)")
    # An optional fact in arithmetic.
    line, column = _line_of(text, "discount)")
    with pytest.raises(module.MissingFactError) as missing:
        module.discounted(_fixture_facts(module))
    assert (missing.value.line, missing.value.column, missing.value.section) == \
        (line, column, "1")


# ---------------------------------------------------------------------------
# The fixture's values (the generated code computes what the contract says)
# ---------------------------------------------------------------------------


def test_fixture_values() -> None:
    m = clausec.load(FIXTURE)
    f = _fixture_facts(m, closing_on="2004-04-12")
    assert m.net_price(f) == Decimal("1798999.50")
    assert m.fee(f) == Decimal("135000.00")
    assert m.price_per_unit(f) == Decimal(450000)
    assert m.signing_year(f) == 2004
    # 10 business days after Tuesday March 30, 2004 (no holidays in between).
    assert m.closing_deadline(f) == date(2004, 4, 13)
    assert m.outside_date(f) == date(2004, 4, 29)
    assert m.early_warning(f) == date(2004, 4, 27)
    assert m.span_days(f) == 14
    assert m.grace_total(f) == 5 + 5  # the default of grace_default, and grace
    assert m.review_end(f) == date(2004, 1, 6)  # 2 business days after Friday January 2
    assert m.payee_default_is_seller(f) is True
    assert m.has_note(f) is False
    assert m.has_note(_fixture_facts(m, note="a note")) is True
    assert m.payment_cutoff(f) == datetime(2004, 4, 13, 17, 0,
                                           tzinfo=ZoneInfo("America/New_York"))
    assert m.local_moment(f) == m.fixed_moment(f)
    assert m.the_earlier(f) == date(2004, 4, 12)
    assert m.largest(f) == Decimal("135000.00")
    assert m.total(f) == Decimal(1800000) + Decimal("135000.00") + Decimal("1000.50")
    assert m.revenue_limitation(f, 2005) == Decimal(500000)
    assert m.revenue_limitation(f, 2004) == Decimal("250000.25")
    assert m.revenue_limitation(m.Facts.from_dict({**_facts_dict(f), "waived": True}),
                                1999) == Decimal(1)
    assert m.big(f) == Decimal("1234567.89")
    assert m.cents(f) == Decimal("0.01")
    assert m.half(f) == Decimal("0.5")
    assert m.count(f) == 27037814
    assert m.closing_conditions_met(f) is True
    assert m.fee(m.Facts.from_dict({**_facts_dict(f), "waived": True})) == 0
    payment = m.closing_payment_due(f)
    assert (payment.obligor, payment.beneficiary, payment.due, payment.active) == \
        ("Buyer", "Seller", date(2004, 4, 13), True)
    power = m.terminate(f)
    assert power.available is False
    assert [c.obligor for c in power.consequences] == ["Buyer", "Seller"]
    assert m.terminate(_fixture_facts(m, units=101)).available is True


def _facts_dict(facts: Any) -> dict[str, object]:
    return {k: v for k, v in vars(facts).items() if v is not None}


# ---------------------------------------------------------------------------
# Robustness: what the front end accepts, the back end must turn into Python
# ---------------------------------------------------------------------------


def test_a_file_without_facts_compiles_to_a_module_that_loads() -> None:
    code = _compile_text("define x: integer = 1\n", "nofacts.clause")
    ast.parse(code)
    module = _load_code(code, "nofacts.clause")
    assert module.x(module.Facts()) == 1


def test_either_party_in_a_file_without_parties() -> None:
    text = "fact a: integer\nobligation o: either party must pay a\n"
    source = SourceFile("either.clause", text)
    code, diagnostics = api.compile_source(source)  # must not raise
    if code is None:
        assert any(d.severity == "error" and d.span.line == 2 for d in diagnostics)
        return
    module = _load_code(code, "either.clause")
    assert module.o(module.Facts(a=1)).active is True


@pytest.mark.parametrize("depth", [100, 250, 500])
def test_long_expressions_are_rejected_or_compile_to_valid_python(depth: int) -> None:
    text = "fact a: integer\ndefine x: integer = " + " + ".join(["a"] * depth) + "\n"
    source = SourceFile("long.clause", text)
    code, diagnostics = api.compile_source(source)  # must not raise
    if code is None:
        assert any(d.severity == "error" for d in diagnostics)
        return
    module = _load_code(code, "long.clause")
    assert module.x(module.Facts(a=2)) == 2 * depth


@pytest.mark.parametrize("spelled, value", [
    ("integer default 4", 4),
    ("decimal default 2.5", Decimal("2.5")),
    ("money default $1,000.50", Decimal("1000.50")),
    ("percent default 7.5%", Decimal("0.075")),
    ("bool default true", True),
    ("date default 2004-03-30", date(2004, 3, 30)),
    ("date default March 30, 2004", date(2004, 3, 30)),
    ("datetime default 2004-03-30 5:00 PM America/New_York",
     datetime(2004, 3, 30, 17, 0, tzinfo=ZoneInfo("America/New_York"))),
    ("text default \"x\"", "x"),
    ("days default 10 days", 10),
    ("business days default 2 business days", 2),
    ("party default seller", "seller"),
])
def test_a_fact_of_every_type_can_have_a_default(spelled: str, value: object) -> None:
    # README: `fact NAME: TYPE [optional] [default LITERAL]`, and the types table lists a
    # literal for every type (`10 days`, `2 business days`, a party's name).
    module = _load_text('agreement a "A" {\n  party seller "Seller"\n}\n'
                        f"fact f: {spelled}\ndefine g = f\n")
    assert module.g(module.Facts()) == value
    assert module.Facts().f == value
