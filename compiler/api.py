"""The pipeline end to end, and the Python API: `compile_file`, `load`, `check_file`."""

from __future__ import annotations

import hashlib
import linecache
import sys
import types
from pathlib import Path

import attrs

from . import check as check_pass
from . import codegen, parser, transform
from .diagnostics import CompileError, Diagnostic, Diagnostics
from .source import SourceFile


@attrs.frozen
class Result:
    """What one run of the front end found: the checked program, if it is sound."""

    source: SourceFile
    diagnostics: list[Diagnostic]
    checked: check_pass.CheckedProgram | None

    @property
    def ok(self) -> bool:
        return self.checked is not None


def analyse(source: SourceFile) -> Result:
    """Parse, build the IR and check one file; every problem lands in the diagnostics."""
    diagnostics = Diagnostics()
    try:
        trees = parser.parse(source, diagnostics)
        program = transform.build(source.name, trees, diagnostics)
        syntax_errors = any(d.code == "syntax" for d in diagnostics.items)
        checked = check_pass.check(program, diagnostics)
        if syntax_errors:
            # A name defined in a part that did not parse would be reported as undefined.
            diagnostics.items = [d for d in diagnostics.items if d.code not in ("name", "unused")]
    except RecursionError:
        diagnostics.error(source.span(1, 1), "this file nests too deeply to compile",
                          code="internal")
        checked = None
    if diagnostics.has_errors:
        checked = None
    return Result(source, diagnostics.sorted(), checked)


def compile_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """The generated Python of a clause file, or None and the diagnostics that say why."""
    result = analyse(source)
    if result.checked is None:
        return None, result.diagnostics
    return codegen.generate(result.checked, source), result.diagnostics


def compile_file(path: str | Path) -> str:
    """Compile a clause file to Python source; raise CompileError if it has errors."""
    source = SourceFile.read(path)
    code, diagnostics = compile_source(source)
    if code is None:
        raise CompileError(diagnostics, {source.name: source})
    return code


def check_file(path: str | Path) -> list[Diagnostic]:
    """All diagnostics (errors and warnings) of a clause file."""
    return analyse(SourceFile.read(path)).diagnostics


def load(path: str | Path) -> types.ModuleType:
    """Compile a clause file and import the result as a module (nothing written to disk)."""
    return module_from_source(compile_file(path), path)


def module_from_source(code: str, path: str | Path) -> types.ModuleType:
    """Import generated code as a module named after its clause file."""
    stem = Path(path).stem
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    name = f"clausec_generated.{stem}_{digest}"
    filename = f"<clausec {Path(path).name} -> {stem}.py>"
    module = types.ModuleType(name)
    module.__file__ = filename
    # Tracebacks through the module show its lines; dataclasses need it in sys.modules.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    sys.modules[name] = module
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - load() runs it
    return module
