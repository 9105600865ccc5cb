"""What a command imports: the command line imports a command's module only when that
command runs, so that `clausec check` pays for the parser and the checks, and nothing of
the templates, the language server, the summaries, the semantic diff, z3 or the SQL
backend. Asserted on the modules a fresh process holds, not on time (the machines that
run the tests are too noisy for that; benchmarks/check_time.py measures it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "clauses" / "rights_agreement"

# Imported by commands that need them, never by `check` or `fmt`.
HEAVY = ("jinja2", "pygls", "lsprotocol", "sqlglot", "duckdb", "pyarrow", "pyspark",
         "pandas", "polars", "z3", "hypothesis", "holidays", "clausec.tools.lsp",
         "clausec.backends.english", "clausec.backends.sql", "clausec.backends.smt",
         "clausec.backends.interpret", "clausec.analysis", "clausec.cli.diff",
         "clausec.cli.summarize", "clausec.cli.lsp", "clausec.cli.sql", "clausec.cli.batch",
         "clausec.cli.verify")

# Runs the command line in this process, then prints the modules it imported.
_PROBE = """
import contextlib, io, json, sys
import clausec.cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    status = clausec.cli.main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def imported(*argv: str, env: dict[str, str]) -> set[str]:
    run = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True,
                         text=True, env=env, timeout=120, check=True)
    report = json.loads(run.stdout)
    assert report["status"] == 0, run.stderr
    return set(report["modules"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


@pytest.fixture
def env(tmp_path, cli_env) -> dict[str, str]:
    return cli_env(CLAUSEC_CACHE_DIR=str(tmp_path / "cache"))


def test_check_imports_only_what_it_uses(env):
    modules = imported("check", str(SEED), env=env)
    assert "clausec.cli.check" in modules and "lark" in modules  # the probe ran check
    assert heavy(modules) == []
    assert "clausec.tools.formatter" not in modules


def test_fmt_imports_only_what_it_uses(env):
    modules = imported("fmt", "--check", str(SEED), env=env)
    assert "clausec.tools.formatter" in modules
    assert heavy(modules) == []


def test_the_command_line_alone_imports_no_pipeline(env):
    """`import clausec.cli`: what --help, --version and a usage error cost."""
    probe = "import json, sys, clausec.cli; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    modules = set(json.loads(run.stdout))
    assert heavy(modules) == []
    assert not {"lark", "clausec.api", "clausec.front.parser", "clausec.ir"} & modules
