"""Shared helpers of the language, diagnostics and CLI tests.

`compile_text(tmp_path, text)` writes a clause file and returns `clausec.load(path)`;
`diagnostics_of(tmp_path, text)` returns `clausec.check_file(path)`. Both are plain
functions, exposed as fixtures of the same name so tests need not import this module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import settings

# The property tests run the same examples on every run, so that a failure in CI is one
# anybody can reproduce and a passing suite stays passing: a flaky test is a failing
# test. Set CLAUSEC_EXPLORE=1 to draw new examples (and keep the ones that fail in
# hypothesis's database). No test has a deadline: these machines are too noisy for one,
# and speed is measured by benchmarks/, not asserted.
settings.register_profile("repeatable", derandomize=True, deadline=None, database=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("explore" if os.environ.get("CLAUSEC_EXPLORE") else "repeatable")

CLAUSE_NAME = "contract.clause"

# Clause files the tests read as data (some hold test blocks on purpose), not tests to run.
collect_ignore = ["data"]


def write_clause(tmp_path: Path, text: str, name: str = CLAUSE_NAME) -> Path:
    """Write `text` (dedented, leading newline dropped) as a clause file; return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def compile_text(tmp_path: Path, text: str, name: str = CLAUSE_NAME) -> ModuleType:
    """Compile clause text and import the module (raises clausec.CompileError)."""
    import clausec  # here, not at the top: test_runtime.py runs without clausec installed

    return clausec.load(write_clause(tmp_path, text, name))


def diagnostics_of(tmp_path: Path, text: str, name: str = CLAUSE_NAME) -> list[Any]:
    """Every diagnostic (errors and warnings) of clause text."""
    import clausec

    return clausec.check_file(write_clause(tmp_path, text, name))


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m clausec`: this process's, PYTHONPATH included when
    set (a source checkout), so that the subprocess imports the same clausec."""
    env = dict(os.environ)
    if env.get("PYTHONPATH"):
        # Absolute, so that the subprocess finds clausec from any working directory.
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve()) if entry else entry
            for entry in env["PYTHONPATH"].split(os.pathsep))
    env.update(extra)
    return env


def run_cli(*args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m clausec ARGS` in a subprocess and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "clausec", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env if env is not None else cli_env(),
        timeout=120, check=False,
    )


@pytest.fixture(name="write_clause")
def _write_clause_fixture() -> Callable[..., Path]:
    return write_clause


@pytest.fixture(name="compile_text")
def _compile_text_fixture() -> Callable[..., ModuleType]:
    return compile_text


@pytest.fixture(name="diagnostics_of")
def _diagnostics_of_fixture() -> Callable[..., list[Any]]:
    return diagnostics_of


@pytest.fixture(name="run_cli")
def _run_cli_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture(name="cli_env")
def _cli_env_fixture() -> Callable[..., dict[str, str]]:
    return cli_env


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark for the whole run (its JVM takes seconds to start): two cores, no
    UI, two shuffle partitions, timestamps in UTC, bound to the loopback address."""
    sql = pytest.importorskip("pyspark.sql")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Spark needs Java 17 or later")
    spark = (sql.SparkSession.builder.master("local[2]").appName("clausec tests")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
