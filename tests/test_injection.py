"""File and folder names cannot inject code into a compiled module.

A clause file's name reaches the module in string literals (positions, `_FILE`), in
docstrings ("Clause: file:line") and in comments (the line above each function, the
exceptions of a term, the banner). A name may hold a line break, NUL, a lone surrogate
or any other character the file system allows; in a comment a line break would end the
comment and the rest of the name would run as code. Whatever the names, the module must
compile, import, define the public names that the same clauses define under a plain
name, and execute nothing else: its syntax tree is the plain module's, string contents
aside.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import clausec
from clausec import api
from clausec.backends.interpret import interpret
from clausec.backends.python.codegen import comment_text
from clausec.backends.python.runtime import ClauseError
from clausec.source import SourceFile

AGREEMENT = '''\
agreement deal "Deal" {
  dated January 5, 2004
  party buyer "Buyer": "B Inc"
  party seller "Seller": "S Inc"
}

fact amount: money
fact count: integer default 1
fact late: bool default false

section 1 "Price" {
  text """
    The price is twice the amount.
  """
  define price "Price": money = amount * 2
  define share: money = amount / count
  exception to price = $0 when late
}

section 2 "Payment" {
  text """
    Buyer shall pay the price.
  """
  obligation pay: buyer must pay price to seller on January 30, 2004
  power end: seller may terminate when late
}
'''

AMENDMENT = '''\
amendment deal_amendment "Amendment" amends deal {
  dated March 1, 2004
  effective March 1, 2004
}

replace section 1 {
  text """
    The price is three times the amount.
  """
  define price "Price": money = amount * 3
  define share: money = amount / count
  exception to price = $0 when late
  exception waived to price = $1 when count == 0
}
'''

CANARY = "clausec_canary"
# Pieces of names: what ends a line or a comment somewhere (Python, str.splitlines,
# terminals), what ends a string or starts an escape, and code that would leave a trace.
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
          "\u2029", "\x00", "\t", "\x1b[2J", "\u202e", "\ufeff", "\udc80", "\udcff", "\ud800"]
QUOTES = ["\\", "\\n", '"', "'", '"""', "'''", "#", "{", "}", "%s", "{0}", " ", "é", "💼"]
CODE = [
    f"import builtins; builtins.{CANARY} = 1",
    f"__import__('builtins').{CANARY} = 1",
    f"open('{CANARY}', 'w').close()",
    f"__import__('sys').modules['{CANARY}'] = 1",
    "raise SystemExit(3)",
    "\nimport os; os.system('touch " + CANARY + "')\n#",
]
PIECES = BREAKS + QUOTES + CODE

names = st.lists(st.one_of(st.sampled_from(PIECES), st.text(min_size=1, max_size=8)),
                 min_size=1, max_size=6).map("".join)
# Names a file system accepts (a path component with no "/" or NUL, not "." or "..",
# encodable, short enough).
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _can_create(name: str) -> bool:
    if "/" in name or "\x00" in name or name in (".", ".."):
        return False
    try:
        encoded = os.fsencode(name + ".clause")
    except UnicodeError:
        return False
    return len(encoded) <= 255


def _skeleton(code: str) -> str:
    """The module's syntax tree with every string constant blanked: what runs, not what
    it says."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def _code(agreement: str, amendment: str) -> str:
    code, diagnostics = api.compile_source(SourceFile(agreement, AGREEMENT),
                                           [SourceFile(amendment, AMENDMENT)])
    assert code is not None, diagnostics
    return code


PLAIN_CODE = _code("deal.clause", "amendment.clause")
PLAIN = _skeleton(PLAIN_CODE)
PLAIN_MODULE = api.module_from_source(PLAIN_CODE, "deal.clause")
PUBLIC = frozenset(n for n in dir(PLAIN_MODULE) if not n.startswith("_"))
# The kinds of statement a module has at its top level (the prelude's and its own).
TOP_LEVEL = (ast.Expr, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign,
             ast.AnnAssign)


@contextmanager
def _watched(directory: Path) -> Iterator[None]:
    """Run in `directory`, then check that nothing was left behind: no canary file, no
    new builtin, no module but generated ones."""
    before = set(sys.modules)
    cwd = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(cwd)
    assert not hasattr(builtins, CANARY)
    assert not [p for p in directory.rglob("*") if p.name == CANARY]
    added = set(sys.modules) - before
    assert all(n.startswith("clausec_generated.") for n in added), added
    for name in added:  # the modules of this run: do not let them pile up
        del sys.modules[name]


def _check_code(code: str) -> None:
    """The module is the plain one, strings aside, and only of the expected kinds."""
    code.encode("utf-8")  # writable as a file: no lone surrogate in the text itself
    tree = ast.parse(code)
    assert all(isinstance(node, TOP_LEVEL) for node in tree.body)
    # The only bare expression is the docstring.
    exprs = [node for node in tree.body if isinstance(node, ast.Expr)]
    assert exprs == [tree.body[0]] and isinstance(exprs[0].value, ast.Constant)
    assert _skeleton(code) == PLAIN
    for line in code.split("\n"):
        if line.lstrip().startswith("#"):
            assert line.isprintable(), repr(line)


def _check_module(module: ModuleType, agreement: str, amendment: str) -> None:
    assert frozenset(n for n in dir(module) if not n.startswith("_")) == PUBLIC
    file = Path(agreement).name
    assert module._FILE == file
    facts = module.Facts(amount="10.50")
    assert module.price(facts) == Decimal("31.50")
    assert module.at(module.date(2004, 2, 1)).price(facts) == Decimal("21.00")
    # Positions in errors and explanations are data: the name as it is, shown on one line.
    with pytest.raises(module.ClauseRuntimeError) as division:
        module.share(module.Facts(amount=1, count=0))
    assert division.value.file == Path(amendment).name
    assert "\n" not in str(division.value)
    assert comment_text(Path(amendment).name) in str(division.value)
    with pytest.raises(module.ConflictError) as conflict:
        module.price(module.Facts(amount=1, count=0, late=True))
    assert "\n" not in str(conflict.value)
    explained = str(module.explain("price", facts))
    assert explained.count("\n") == str(PLAIN_MODULE.explain("price", PLAIN_MODULE.Facts(
        amount="10.50"))).count("\n")
    # The docstrings name the file escaped: one line per position.
    doc = module.pay.__doc__
    assert doc is not None and f"Clause: {comment_text(file)}:" in doc


def _load_written(path: Path) -> ModuleType:
    """Import a module that `clausec compile` wrote, by its path."""
    name = f"clausec_generated.written_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# Any name, straight to the compiler (names no file system allows included)
# ---------------------------------------------------------------------------


@SETTINGS
@given(names, names, names)
@example("p\nimport os; os.system('touch " + CANARY + "')\n#", "a", "f")
@example("\x00\r\u2028\ud800", "\\", "a/b\n")
def test_any_file_name_given_to_the_compiler(stem: str, amendment: str, folder: str) -> None:
    agreement = f"{folder}/{stem}.clause"
    amended = f"{folder}/{amendment}.clause"
    assume(Path(agreement).name != Path(amended).name)
    code = _code(agreement, amended)
    _check_code(code)
    with tempfile.TemporaryDirectory() as tmp, _watched(Path(tmp)):
        module = api.module_from_source(code, agreement)
        _check_module(module, agreement, amended)
        # The interpreter shows positions the same way.
        result = api.analyse(SourceFile(agreement, AGREEMENT), [SourceFile(amended, AMENDMENT)])
        with pytest.raises(ClauseError) as error:
            interpret(result).evaluate("share", {"amount": 1, "count": 0})
        assert "\n" not in str(error.value)


# ---------------------------------------------------------------------------
# Files and folders on disk: load(), and `clausec compile` then import
# ---------------------------------------------------------------------------


def _write(root: Path, folder: str, stem: str, amendment: str) -> tuple[Path, Path, Path]:
    directory = root / folder
    directory.mkdir()
    agreement = directory / f"{stem}.clause"
    amended = directory / f"{amendment}.clause"
    agreement.write_text(AGREEMENT, encoding="utf-8")
    amended.write_text(AMENDMENT, encoding="utf-8")
    return directory, agreement, amended


@SETTINGS
@given(names, names, names)
@example("p\nimport os; os.system('touch " + CANARY + "')\n#", "amendment", "deal")
def test_any_file_and_folder_name_on_disk(stem: str, amendment: str, folder: str) -> None:
    assume(all(_can_create(n) for n in (stem, amendment, folder)) and stem != amendment)
    with tempfile.TemporaryDirectory() as tmp, _watched(Path(tmp)):
        directory, agreement, amended = _write(Path(tmp), folder, stem, amendment)
        _check_code(clausec.compile_file(directory))
        _check_module(clausec.load(directory), str(agreement), str(amended))
        _check_module(clausec.load(agreement, [amended]), str(agreement), str(amended))


# ---------------------------------------------------------------------------
# The report's reproducer
# ---------------------------------------------------------------------------

REPRODUCER = "p\nimport os; os.system('touch " + CANARY + "')\n#"
SINGLE = '''\
agreement p "P" {
  dated December 30, 2003
  party a "A": "A Inc"
}
fact amount: money
section 1 "S" {
  define twice: money = amount * 2
}
'''


def test_reproducer_through_load(tmp_path: Path) -> None:
    clause = tmp_path / f"{REPRODUCER}.clause"
    clause.write_text(SINGLE, encoding="utf-8")
    with _watched(tmp_path):
        module = clausec.load(clause)
        assert module.twice(module.Facts(amount=2)) == 4
        module = clausec.load(tmp_path)
        assert module.twice(module.Facts(amount=2)) == 4
    assert module.__file__ is not None and "\n" not in module.__file__


def test_reproducer_through_the_command_line(tmp_path: Path) -> None:
    clause = tmp_path / f"{REPRODUCER}.clause"
    clause.write_text(SINGLE, encoding="utf-8")
    out = tmp_path / "out"
    run = run_cli("compile", clause, "-o", out, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    # What the command prints names the file on one line: no line of it reads as a command.
    assert run.stdout.count("\n") == 1 and run.stdout.startswith("wrote "), run.stdout
    (written,) = out.glob("*.py")
    assert written.name == f"{REPRODUCER}.py"
    code = written.read_text(encoding="utf-8")
    _check_single(code)
    with _watched(tmp_path):
        module = _load_written(written)
        assert module.twice(module.Facts(amount=2)) == 4
    # Importing it in a fresh interpreter runs nothing either.
    probe = ("import importlib.util, sys\n"
             "spec = importlib.util.spec_from_file_location('m', sys.argv[1])\n"
             "m = importlib.util.module_from_spec(spec); sys.modules['m'] = m\n"
             "spec.loader.exec_module(m)\n"
             "print(m.twice(m.Facts(amount=3)))\n")
    ran = subprocess.run([sys.executable, "-c", probe, str(written)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "6\n"
    assert not [p for p in tmp_path.rglob("*") if p.name == CANARY]


def _check_single(code: str) -> None:
    plain, _ = api.compile_source(SourceFile("p.clause", SINGLE))
    assert plain is not None
    assert _skeleton(code) == _skeleton(plain)
    for line in code.split("\n"):
        if line.lstrip().startswith("#"):
            assert line.isprintable(), repr(line)


def test_comment_text_escapes_every_line_break() -> None:
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\udc80\ud800\u202e\x1b"
    text = comment_text(f"a{breaks}b\\c")
    assert text.isprintable() and len(text.splitlines()) == 1
    assert text == ("a\\n\\r\\x0b\\x0c\\x1c\\x1d\\x1e\\x85\\u2028\\u2029\\x00\\udc80\\ud800"
                    "\\u202e\\x1bb\\\\c")
    # Unambiguous: a backslash in a name is not read as the start of an escape.
    assert comment_text("a\\nb") != comment_text("a\nb")
    # Plain names are shown as they are.
    assert comment_text("patent_purchase.clause") == "patent_purchase.clause"
    assert comment_text("Vertrag über Patente — 2004 💼.clause") == \
        "Vertrag über Patente — 2004 💼.clause"


def test_positions_in_run_time_messages_are_one_line(tmp_path: Path) -> None:
    source = SourceFile("x\ny.clause", "fact n: integer\ndefine r: decimal = 1 / n\n")
    code, _ = api.compile_source(source)
    assert code is not None
    module: Any = api.module_from_source(code, source.name)
    with pytest.raises(module.ClauseRuntimeError) as error:
        module.r(module.Facts(n=0))
    assert error.value.file == "x\ny.clause"  # the data, as it is
    assert str(error.value) == "x\\ny.clause:2:21: division by zero"
