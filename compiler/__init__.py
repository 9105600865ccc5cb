"""clausec: a compiler for contract clauses.

Pipeline, one module per pass: parser (text -> parse tree) -> transform (tree -> IR,
ir.py) -> check (names, types, cycles, conflicts) -> codegen (IR -> Python).
"""

from clausec.api import analyse, check_file, compile_file, compile_source, load
from clausec.diagnostics import CompileError, Diagnostic

__all__ = [
    "CompileError", "Diagnostic", "analyse", "check_file", "compile_file", "compile_source",
    "load",
]
__version__ = "0.1.0"
