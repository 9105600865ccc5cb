"""clausec: a compiler for contract clauses.

The pipeline is the package's folders: front/ (parser: text -> parse tree; transform:
tree -> IR, ir/) -> passes/ (consolidate the amendments, then check names, types, cycles
and conflicts of each version) -> backends/ (Python, English, z3, the interpreter).

The API below is imported when first used: `import clausec` (and the command line, which
imports the package first) costs nothing of the pipeline until it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from clausec.api import Result, analyse, check_file, compile_file, compile_source, load
    from clausec.diagnostics import CompileError, Diagnostic

__all__ = [
    "CompileError", "Diagnostic", "analyse", "check_file", "compile_file", "compile_source",
    "load", "summarize",
]
__version__ = "0.1.0"

_LAZY = {
    "analyse": "clausec.api", "check_file": "clausec.api", "compile_file": "clausec.api",
    "compile_source": "clausec.api", "load": "clausec.api",
    "CompileError": "clausec.diagnostics", "Diagnostic": "clausec.diagnostics",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def summarize(result: Result, fmt: str = "markdown", as_of: date | None = None,
              templates: str | Path | None = None) -> str:
    """The plain-English summary of an analysed agreement (`analyse`) in one format
    (markdown, html or text), as `clausec summarize` writes it: the table of what each
    amendment changed says whether each result gives the same answers (the semantic
    diff) when z3 and hypothesis are installed (clausec[verify]); without them, that
    column says it needs them."""
    from clausec.analysis import semdiff
    from clausec.backends.english import summaries

    try:
        verdicts: list[tuple[summaries.Verdict, ...]] | None = semdiff.summary_verdicts(result)
    except ImportError as error:  # z3 or hypothesis not installed: no verdicts
        if (error.name or "").partition(".")[0] not in ("z3", "hypothesis"):
            raise
        verdicts = None
    return summaries.render(result, fmt, as_of, templates, verdicts)
