"""Running a plan over a table of facts: embedded in DuckDB, or on Spark (locally or on a
cluster).

`batch(result, facts, names)` reads the facts' column names, compiles the plan for them
(plan.py), registers the facts as the table `facts` and each calendar the plan joins, runs
the query and returns the answers (a pyarrow Table from DuckDB, a Spark DataFrame from
Spark) or writes them to a Parquet, CSV or JSON-lines file. `prepare` does the same up to
running the query, for callers that want a preview, the counts, or both the table and a
file (the command line).

The facts are a file (Parquet, CSV, JSON lines), a folder of Parquet files, or a table in
memory (pyarrow, pandas, polars, a DuckDB relation, a Spark DataFrame). DuckDB reads files
where they are and writes with COPY, so inputs larger than memory stream through; Spark
reads them in parallel.

The engines (duckdb, pyarrow, pyspark) are optional extras: they are imported by the
functions that use them, and a missing one is a `BatchError` naming the extra to install.
Every problem with the input or output (a missing or unreadable file, an unknown format, a
facts column of the wrong type) is a `BatchError`, one message for the user; a construct
with no SQL translation is plan.py's `SqlError`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, Protocol

from sqlglot import exp

from clausec.backends.sql.plan import FactColumn, Plan, compile_plan

__all__ = ["ENGINES", "INPUT_FORMATS", "OUTPUT_FORMATS", "BatchError", "Counts",
           "MissingExtraError", "Run", "batch", "input_format", "output_format", "prepare",
           "require"]

ENGINES = ("duckdb", "spark")
# The name the query reads the facts from (plan.py's default): `clausec sql` prints a query
# over this table, so that a user can run it by hand as a batch runs it.
FACTS_TABLE = "facts"

# A file's format by how its name ends (gzip-compressed text files are read as they are).
INPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv",
                 ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonl.gz": "jsonl",
                 ".ndjson.gz": "jsonl"}
OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}

# The extra that brings each engine's modules, and what it installs, for the message when
# one is missing.
EXTRAS = {"duckdb": "sql", "pyarrow": "sql", "sqlglot": "sql", "pyspark": "spark"}
EXTRA_PACKAGES = {"sql": "sqlglot, duckdb and pyarrow", "spark": "pyspark"}


class BatchError(Exception):
    """A problem with a batch's facts or output, said in one message (the command line
    prints it and exits 1)."""


class MissingExtraError(BatchError):
    """An engine that is not installed: which packages, and the extra that brings them."""

    def __init__(self, packages: str, extra: str) -> None:
        super().__init__(f"a batch on this engine needs {packages}: pip install "
                         f"'clausec[{extra}]'")
        self.packages = packages
        self.extra = extra


class Counts(NamedTuple):
    rows: int
    errors: int  # rows whose `error` is not NULL


class Run(Protocol):
    """A query ready to run over the facts, on one engine."""

    plan: Plan

    def table(self) -> Any:
        """Every answer: a pyarrow Table (DuckDB) or a Spark DataFrame (Spark)."""

    def write(self, output: str | os.PathLike[str]) -> Counts:
        """The answers written to a .parquet, .csv or .jsonl file, atomically."""

    def preview(self, rows: int) -> tuple[list[str], list[tuple[object, ...]]]:
        """The column names and the first rows (datetimes naive, in UTC)."""

    def counts(self) -> Counts:
        """How many rows, and how many with an error."""


def batch(result: object, facts: object, names: Sequence[str] = (), *,
          engine: str = "duckdb", as_of: date | None = None, spark: Any = None,
          master: str | None = None, output: str | os.PathLike[str] | None = None,
          progress: bool = False, as_of_column: str | None = None) -> Any:
    """The answers to `names` (every term, condition, obligation and power without
    parameters, if none) for each row of `facts`, in the agreement of `result`
    (`clausec.api.analyse(...)`) as in force on `as_of` (now, if None).

    `facts`: a path (a .parquet, .csv, .jsonl or .ndjson file, or a folder of Parquet
    files; on Spark also a URI its cluster reads), a pyarrow Table, a pandas or polars
    DataFrame, a DuckDB relation or a Spark DataFrame. `engine`: "duckdb" (embedded) or
    "spark"; a Spark DataFrame, a `spark` session or a `master` URL run on Spark. Spark
    runs in the session given, else on `master` (a cluster's URL), else locally
    (`local[*]`).

    Returns a pyarrow Table (DuckDB) or a Spark DataFrame (Spark); with `output` (a path
    ending in .parquet, .csv or .jsonl), writes the answers there instead and returns None.
    `progress`: show the engine's progress bar on standard error. `as_of_column`: a
    column of dates: each row answered in the version in force on its date.

    Raises `BatchError` for a problem with the facts or the output, `SqlError` for what
    has no SQL translation (or a name that is not the agreement's)."""
    if output is not None:
        output_format(output)  # an unknown format is refused before any work
    run = prepare(result, facts, names, engine=engine, as_of=as_of, spark=spark,
                  master=master, progress=progress, as_of_column=as_of_column)
    if output is None:
        return run.table()
    run.write(output)
    return None


def prepare(result: object, facts: object, names: Sequence[str] = (), *,
            engine: str = "duckdb", as_of: date | None = None, spark: Any = None,
            master: str | None = None, progress: bool = False,
            as_of_column: str | None = None) -> Run:
    """The query for `facts` compiled and registered on its engine, not yet run (see
    `batch` for the arguments)."""
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "spark" or spark is not None or master is not None \
            or _kind_of(facts) == "spark":
        return _SparkRun.prepare(result, facts, names, as_of=as_of, spark=spark,
                                 master=master, progress=progress, as_of_column=as_of_column)
    return _DuckDBRun.prepare(result, facts, names, as_of=as_of, progress=progress,
                              as_of_column=as_of_column)


# ---------------------------------------------------------------- formats


def input_format(path: str | os.PathLike[str]) -> str:
    """The format of a facts file by its name: parquet, csv or jsonl; a folder is one of
    Parquet files."""
    if _is_uri(path):
        if str(path).rstrip("/").endswith(tuple(INPUT_FORMATS)):
            return _suffix_format(path, INPUT_FORMATS, "facts")
        return "parquet"  # a folder on the cluster's storage
    if Path(path).is_dir():
        return "parquet"
    return _suffix_format(path, INPUT_FORMATS, "facts")


def output_format(path: str | os.PathLike[str]) -> str:
    """The format of an output file by its name: parquet, csv or jsonl."""
    return _suffix_format(path, OUTPUT_FORMATS, "output")


def _suffix_format(path: str | os.PathLike[str], formats: dict[str, str], what: str) -> str:
    name = str(path).lower()
    # The longest ending first: ".csv.gz" before ".gz" would match nothing else.
    for suffix in sorted(formats, key=len, reverse=True):
        if name.endswith(suffix):
            return formats[suffix]
    if what == "facts":
        known = ("a .parquet, .csv, .jsonl or .ndjson file (.csv and .jsonl also gzipped: "
                 ".csv.gz), or a folder of Parquet files")
    else:
        known = "a .parquet, .csv or .jsonl file"
    raise BatchError(f"{path}: unknown format of the {what}: give {known}")


def _is_uri(path: str | os.PathLike[str]) -> bool:
    """Whether a path names storage only a cluster reads (s3a://, hdfs://...), not a file
    of this machine."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def _check_path(path: str | os.PathLike[str]) -> None:
    """Refuse, before an engine tries, a facts path that is missing, or that is neither a
    regular file nor a folder (a device or a named pipe would block or never end)."""
    if _is_uri(path):
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise BatchError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise BatchError(f"{path}: cannot read: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        if not any(Path(path).rglob("*.parquet")):
            raise BatchError(f"{path}: a folder of facts must hold .parquet files; it holds "
                             "none")
    elif not stat.S_ISREG(mode):
        raise BatchError(f"{path}: not a regular file")
    elif os.stat(path).st_size == 0:
        raise BatchError(f"{path}: the file is empty")
    elif not os.access(path, os.R_OK):
        raise BatchError(f"{path}: cannot read: permission denied")


def _kind_of(facts: object) -> str:
    """What kind of facts source this is, by its class (so that no engine is imported
    to ask): path, arrow, pandas, polars, duckdb or spark."""
    if isinstance(facts, (str, os.PathLike)):
        return "path"
    cls = type(facts)
    module = cls.__module__.split(".")[0]
    if module == "pyarrow" and cls.__name__ in ("Table", "RecordBatch", "RecordBatchReader"):
        return "arrow"
    if module == "pandas" and cls.__name__ == "DataFrame":
        return "pandas"
    if module == "polars" and cls.__name__ == "DataFrame":
        return "polars"
    if module in ("duckdb", "_duckdb") and cls.__name__ == "DuckDBPyRelation":
        return "duckdb"
    if module == "pyspark" and cls.__name__ == "DataFrame":
        return "spark"
    raise BatchError(f"the facts must be a path, a pyarrow Table, a pandas or polars "
                     f"DataFrame, a DuckDB relation or a Spark DataFrame, not "
                     f"{cls.__module__}.{cls.__name__}")


def _label(facts: object) -> str:
    """The facts as messages name them."""
    return str(facts) if isinstance(facts, (str, os.PathLike)) else "the facts table"


def require(engine: str) -> None:
    """Refuse, with a MissingExtraError, an engine whose modules are not installed."""
    for module in ("duckdb", "pyarrow", *(("pyspark",) if engine == "spark" else ())):
        _require(module)


def _require(module: str) -> ModuleType:
    """An engine's module, or a MissingExtraError saying which extra brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS[module.split(".")[0]]
        raise MissingExtraError(EXTRA_PACKAGES[extra], extra) from None


def _arrow_table(facts: object) -> Any:
    """An in-memory table (pyarrow, pandas, polars) as a pyarrow Table or reader."""
    kind = _kind_of(facts)
    pa = _require("pyarrow")
    if kind == "arrow":
        if type(facts).__name__ == "RecordBatch":
            return pa.Table.from_batches([facts])
        return facts
    if kind == "polars":
        return facts.to_arrow()  # type: ignore[attr-defined]
    if kind == "pandas":
        try:
            return pa.Table.from_pandas(facts, preserve_index=False)
        except pa.lib.ArrowException as error:  # a column of values of mixed types
            raise BatchError(f"{_label(facts)}: {_first_line(error)}") from None
    if kind == "duckdb":
        # Streamed, batch by batch, from the relation's own connection: a relation may
        # stand for more than memory holds.
        stream = getattr(facts, "to_arrow_reader", None) \
            or getattr(facts, "fetch_record_batch")  # noqa: B009 - before DuckDB 1.4
        return stream()
    raise BatchError(f"{_label(facts)}: not a table in memory")


# ------------------------------------------------------------- column types

# The type family of each column type an engine reports, by its name's first word.
_DUCKDB_FAMILIES = {
    "BOOLEAN": "bool", "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer",
    "BIGINT": "integer", "HUGEINT": "integer", "UTINYINT": "integer", "USMALLINT": "integer",
    "UINTEGER": "integer", "UBIGINT": "integer", "UHUGEINT": "integer", "DECIMAL": "decimal",
    "FLOAT": "float", "DOUBLE": "float", "DATE": "date", "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp", "TIMESTAMP_NS": "timestamp",
    "VARCHAR": "text", "NULL": "null", '"NULL"': "null", "JSON": "json",
}
_SPARK_FAMILIES = {
    "boolean": "bool", "byte": "integer", "short": "integer", "integer": "integer",
    "long": "integer", "decimal": "decimal", "float": "float", "double": "float",
    "date": "date", "timestamp": "timestamp", "timestamp_ntz": "timestamp", "string": "text",
    "varchar": "text", "char": "text", "void": "null",
}
# What a fact's column may hold, by the SQL type the query reads it as: values of that
# type, or text that the query converts row by row (a value it cannot convert is a
# FactError of its row, as the compiled module's Facts says). Floats are refused for whole
# numbers: 2.5 would be rounded, where the module refuses it.
_ACCEPTS = {
    "BOOLEAN": ({"bool", "text", "null"}, "booleans, or text true/false"),
    "BIGINT": ({"integer", "text", "null"},
               ("whole numbers (an integer type; a pandas column of whole numbers with "
                "missing values is float64: give it the nullable Int64 dtype), or text")),
    "DECIMAL": ({"integer", "decimal", "float", "text", "null"},
                "numbers (decimal, integer or floating point), or text"),
    "DATE": ({"date", "text", "null"}, "dates, or text YYYY-MM-DD"),
    "TIMESTAMP": ({"timestamp", "text", "null"},
                  "timestamps (in UTC when they have no time zone), or text with an offset"),
    "TEXT": ({"text", "null"}, "text"),
}
_KINDS = {"bool": "true or false", "integer": "a whole number", "decimal": "a number",
          "money": "an amount of money", "percent": "a percentage", "date": "a date",
          "datetime": "a date and time", "text": "text", "party": "a party",
          "choice": "one of a choice's members", "days": "a number of days",
          "business_days": "a number of business days", "months": "a number of months"}


def _duckdb_family(type_name: str) -> str:
    word = type_name.upper().split("(")[0].strip()
    if word.startswith("TIMESTAMP"):  # "TIMESTAMP WITH TIME ZONE"
        return "timestamp"
    return _DUCKDB_FAMILIES.get(word, type_name)


def _spark_family(type_name: str) -> str:
    return _SPARK_FAMILIES.get(type_name.lower().split("(")[0], type_name)


def _check_columns(plan: Plan, types: dict[str, tuple[str, str]], label: str) -> None:
    """Refuse, all at once, the facts columns whose type the query cannot read as its
    fact (`types`: column -> (family, the engine's name of its type)), and the key
    columns whose names the query's own columns take."""
    problems: list[str] = []
    for fact in plan.facts:
        if fact.name not in types:
            continue
        family, shown = types[fact.name]
        accepts = _ACCEPTS.get(_sql_word(fact))
        if accepts is not None and family not in accepts[0]:
            problems.append(f"column {fact.name!r} holds {shown} values, but the fact "
                            f"{fact.name!r} is {_KINDS.get(fact.kind, fact.kind)}: give it "
                            f"as {accepts[1]}")
    taken = _query_names(plan)
    for key in plan.keys:
        if key.lower() in taken:
            problems.append(f"column {key!r} has the name of a column of the results: "
                            "rename it")
    if problems:
        raise BatchError(f"{label}: " + "; ".join(problems))


# The type families whose values a cast reads as the module reads them: no text.
_TYPED_FAMILIES = frozenset({"bool", "integer", "decimal", "float", "date", "timestamp",
                             "null"})


def _text_columns(types: dict[str, tuple[str, str]]) -> set[str]:
    """The columns that may hold text (text, JSON, lists and structs of them)."""
    return {name for name, (family, _) in types.items() if family not in _TYPED_FAMILIES}


def _sql_word(fact: FactColumn) -> str:
    word = fact.sql_type.upper().split("(")[0].strip()
    return "TEXT" if word in ("VARCHAR", "STRING") else word


def _query_names(plan: Plan) -> set[str]:
    """The names of the results' columns (lowercase: DuckDB and Spark compare names
    without case): a key column of the same name would clash with one. (The query reads
    the input's columns only in its first stage, under names of its own: no input column
    can stand for one of its inner columns.)"""
    return {o.name.lower() for o in plan.outputs} | {plan.error_column.lower()}


# ---------------------------------------------------------------- writing


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside `path`, renamed to it when the block ends well and removed
    when it does not: readers see the old file or the whole new one, never a part."""
    if path.is_dir():
        raise BatchError(f"{path}: is a folder; name the file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise BatchError(f"{path}: cannot write: {error.strerror}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the mode any new file gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as error:
        raise BatchError(f"{path}: cannot write: {error.strerror}") from None
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _first_line(error: BaseException) -> str:
    """An engine's message without its stack trace or its query excerpt."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ------------------------------------------------------------------ DuckDB

# The DuckDB errors that the facts or the output cause (a file that is not what its name
# says, a value that does not convert, a disk or memory that is full). Others (a binder
# error, say) would be the query's fault, and are left to say so as internal errors.
_DUCKDB_USER_ERRORS = ("IOException", "InvalidInputException", "ConversionException",
                       "OutOfMemoryException", "PermissionException", "OutOfRangeException",
                       "HTTPException")


class _DuckDBRun:
    """A plan on an embedded DuckDB connection of its own, the facts and calendars
    registered on it."""

    def __init__(self, connection: Any, plan: Plan, label: str, progress: bool) -> None:
        self.connection = connection
        self.plan = plan
        self.label = label
        self.progress = progress
        self.sql = plan.sql(pretty=False)

    @classmethod
    def prepare(cls, result: object, facts: object, names: Sequence[str], *,
                as_of: date | None, progress: bool,
                as_of_column: str | None = None) -> _DuckDBRun:
        duckdb = _require("duckdb")
        _require("pyarrow")
        label = _label(facts)
        connection = duckdb.connect()
        # Naive timestamps (in the facts, and the calendars' close of business) are UTC,
        # as the plan reads them.
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"SET enable_progress_bar = {str(progress).lower()}")
        with _duckdb_errors(label):
            relation = _duckdb_read(connection, facts)
            plan = compile_plan(result, names, dialect="duckdb", as_of=as_of,
                                columns=list(relation.columns), table=FACTS_TABLE,
                                as_of_column=as_of_column)
            relation = _duckdb_typed(connection, facts, relation, plan)
            types = {name: (_duckdb_family(str(t)), str(t))
                     for name, t in zip(relation.columns, relation.types)}
            _check_columns(plan, types, label)
            # Again, now that the columns' types are known: those not of text read by a
            # cast alone.
            plan = compile_plan(result, names, dialect="duckdb", as_of=as_of,
                                columns=list(relation.columns), table=FACTS_TABLE,
                                as_of_column=as_of_column, text_columns=_text_columns(types))
            relation.create_view(FACTS_TABLE, replace=True)
            for calendar in plan.calendars:
                connection.register(calendar.name, _calendar_arrow(calendar.columns,
                                                                   calendar.rows()))
        return cls(connection, plan, label, progress)

    # -------------------------------------------------------------- running

    def table(self) -> Any:
        with _duckdb_errors(self.label, self.progress):
            relation = self.connection.sql(self.sql)
            to_table = getattr(relation, "to_arrow_table", None) or relation.arrow
            return to_table()

    def write(self, output: str | os.PathLike[str]) -> Counts:
        form = output_format(output)
        options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true",
                   "jsonl": "FORMAT json"}[form]
        with _atomic(Path(output)) as tmp, _duckdb_errors(self.label, self.progress):
            # COPY streams the answers to the file: nothing is held in memory whole.
            self.connection.execute(f"COPY ({self.sql}) TO {_sql_text(str(tmp))} "
                                    f"({options})")
            return self._file_counts(tmp, form)

    def _file_counts(self, path: Path, form: str) -> Counts:
        """The counts of a file just written, read back (a Parquet file's error column
        alone)."""
        name = str(path)
        if form == "parquet":
            relation = self.connection.read_parquet(name)
        elif form == "csv":
            relation = self.connection.read_csv(name, header=True, all_varchar=True)
        else:
            relation = self.connection.read_json(name, format="newline_delimited")
        error = _sql_name(self.plan.error_column)
        rows, errors = relation.aggregate(f"count(*), count({error})").fetchall()[0]
        return Counts(int(rows), int(errors))

    def preview(self, rows: int) -> tuple[list[str], list[tuple[object, ...]]]:
        with _duckdb_errors(self.label, self.progress):
            relation = self.connection.sql(self.sql).limit(rows)
            return list(relation.columns), [tuple(r) for r in relation.fetchall()]

    def counts(self) -> Counts:
        with _duckdb_errors(self.label, self.progress):
            error = _sql_name(self.plan.error_column)
            found = self.connection.sql(self.sql).aggregate(
                f"count(*), count({error})").fetchall()[0]
        return Counts(int(found[0]), int(found[1]))


def _duckdb_read(connection: Any, facts: object) -> Any:
    """The facts as a DuckDB relation, its column types as detected."""
    if _kind_of(facts) != "path":
        return connection.from_arrow(_arrow_table(facts))
    assert isinstance(facts, (str, os.PathLike))
    _check_path(facts)
    form = input_format(facts)
    path = str(facts)
    if form == "parquet":
        if Path(path).is_dir():
            # Every Parquet file below; folders named key=value add that column.
            pattern = os.path.join(path, "**", "*.parquet")
            return connection.read_parquet(pattern, union_by_name=True,
                                           hive_partitioning=True)
        return connection.read_parquet(path)
    if form == "csv":
        # Every value as text, as Spark reads CSV: the query converts the facts row by
        # row (exactly, and a value that is not its fact's type is a FactError of its
        # row), and the keys pass through as written.
        return connection.read_csv(path, header=True, all_varchar=True)
    return connection.read_json(path, format="newline_delimited")


def _duckdb_typed(connection: Any, facts: object, relation: Any, plan: Plan) -> Any:
    """A JSON-lines file read again with the types that keep its values exact: DECIMAL
    for the numbers of decimal facts (read as doubles otherwise; a value that is not a
    number is then an error of the file, with its line), and text for the other facts
    whose values are of mixed JSON types (converted by the query row by row); lists and
    records with their values as text (a number with all its digits), converted by the
    query item by item and field by field."""
    if _kind_of(facts) != "path" or input_format(str(facts)) != "jsonl":
        return relation
    path = str(facts)
    present = {f.name: f for f in plan.facts if f.name in relation.columns}
    columns: dict[str, str] = {}
    for name, type_ in zip(relation.columns, relation.types):
        fact = present.get(name)
        family = _duckdb_family(str(type_))
        if fact is not None and fact.kind in ("list", "record"):
            columns[name] = _leaves_as_text(fact.sql_type)
        elif fact is not None and family in ("integer", "decimal", "float", "json") \
                and _sql_word(fact) == "DECIMAL":
            columns[name] = fact.sql_type
        elif fact is not None and family == "json":
            columns[name] = "VARCHAR"
        else:
            columns[name] = str(type_)
    return connection.read_json(path, format="newline_delimited", columns=columns)


def _leaves_as_text(sql_type: str) -> str:
    """A list or struct type with VARCHAR for each of its scalar types."""
    def text(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DataType) and not node.args.get("nested"):
            return exp.DataType.build("VARCHAR")
        return node
    return exp.DataType.build(sql_type, dialect="duckdb").transform(text).sql("duckdb")


@contextlib.contextmanager
def _duckdb_errors(label: str, progress: bool = False) -> Iterator[None]:
    """DuckDB's errors that the facts or the output cause, as BatchErrors (and its
    progress bar, when shown, on standard error)."""
    duckdb = _require("duckdb")
    user = tuple(getattr(duckdb, name) for name in _DUCKDB_USER_ERRORS
                 if hasattr(duckdb, name))
    interrupted = getattr(duckdb, "InterruptException", KeyboardInterrupt)
    try:
        with _progress_on_stderr(progress):
            yield
    except interrupted:  # Ctrl-C, as DuckDB reports it when it stops its query
        raise KeyboardInterrupt from None
    except user as error:
        raise BatchError(f"{label}: {_first_line(error)}") from None


def _sql_text(text: str) -> str:
    """A SQL string literal (standard SQL: a quote is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def _progress_on_stderr(progress: bool) -> Iterator[None]:
    """DuckDB draws its progress bar on the process's standard output (from C, on file
    descriptor 1), where it would mix with the results printed there: send descriptor 1
    to standard error while a query runs."""
    if not progress:
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptors 1 or 2 to move: no bar to keep apart
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# Arrow types of the calendars' SQL columns. Timestamps are UTC instants (the rows give
# them naive, in UTC): marked so, an engine reads the same instant whatever its zone.
def _arrow_type(pa: ModuleType, sql_type: str) -> Any:
    word = sql_type.upper().split("(")[0].strip()
    return {"DATE": pa.date32(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
            "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
            "TEXT": pa.string(), "VARCHAR": pa.string(),
            "DECIMAL": pa.decimal128(38, 10)}.get(word)


def _calendar_arrow(columns: Sequence[tuple[str, str]], rows: dict[str, list[object]]) -> Any:
    """A calendar table's rows as a pyarrow Table of its columns' types."""
    pa = _require("pyarrow")
    arrays = {}
    for name, sql_type in columns:
        values = rows[name]
        type_ = _arrow_type(pa, sql_type)
        if type_ is not None and pa.types.is_timestamp(type_):
            values = [_utc(v) for v in values]
        arrays[name] = pa.array(values, type_)
    return pa.table(arrays)


def _utc(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# ------------------------------------------------------------------- Spark


class _SparkRun:
    """A plan on a Spark session, the facts and calendars registered as temporary
    views."""

    def __init__(self, spark: Any, frame: Any, plan: Plan, label: str) -> None:
        self.spark = spark
        self.frame = frame  # the answers, lazily: Spark runs them when asked
        self.plan = plan
        self.label = label

    @classmethod
    def prepare(cls, result: object, facts: object, names: Sequence[str], *,
                as_of: date | None, spark: Any, master: str | None,
                progress: bool, as_of_column: str | None = None) -> _SparkRun:
        _require("pyspark")
        _require("pyarrow")
        label = _label(facts)
        if spark is None and _kind_of(facts) == "spark":
            spark = facts.sparkSession  # type: ignore[attr-defined]
        if spark is None:
            spark = _session(master, progress)
        with _spark_errors(label):
            frame = _spark_read(spark, facts)
            types = {field.name: (_spark_family(field.dataType.typeName()),
                                  field.dataType.simpleString())
                     for field in frame.schema.fields}
            plan = compile_plan(result, names, dialect="spark", as_of=as_of,
                                columns=list(frame.columns), table=FACTS_TABLE,
                                as_of_column=as_of_column, text_columns=_text_columns(types))
            _check_columns(plan, types, label)
            frame.createOrReplaceTempView(FACTS_TABLE)
            functions = _require("pyspark.sql.functions")
            for calendar in plan.calendars:
                table = _calendar_arrow(calendar.columns, calendar.rows())
                # A calendar is small and the facts may be large: each executor gets the
                # calendar whole, rather than the facts shuffled to be joined with it.
                calendar_frame = functions.broadcast(_spark_frame(spark, table))
                calendar_frame.createOrReplaceTempView(calendar.name)
        # Spark fixes the time zone of its timestamps when it analyses the query: in UTC,
        # as the plan reads them, whatever the session's zone is otherwise.
        with _utc_session(spark):
            answers = spark.sql(plan.sql(pretty=False))
        return cls(spark, answers, plan, label)

    def table(self) -> Any:
        return self.frame

    def write(self, output: str | os.PathLike[str]) -> Counts:
        form = output_format(output)
        if _is_uri(output) or not _local(self.spark):
            # On a cluster the executors write, to storage they share: Spark's folder of
            # part files, committed as Spark commits.
            with _spark_errors(self.label), _utc_session(self.spark):
                _spark_writer(self.frame, form).save(str(output))
                return self._file_counts(str(output), form)
        target = Path(output)
        with _atomic(target) as tmp:
            folder = tmp.with_name(tmp.name + ".parts")
            try:
                # One file, as DuckDB writes: one task writes it, into a folder beside
                # the target from which it is moved into place.
                with _spark_errors(self.label), _utc_session(self.spark):
                    where = str(folder.resolve())  # Spark's working folder may not be ours
                    _spark_writer(self.frame.coalesce(1), form).save(where)
                    counts = self._file_counts(where, form)
                parts = sorted(p for p in folder.iterdir()
                               if p.name.startswith("part-") and not p.name.endswith(".crc"))
                if len(parts) != 1:
                    raise BatchError(f"{target}: Spark wrote {len(parts)} files, not one")
                os.replace(parts[0], tmp)
            finally:
                _remove(folder)
        return counts

    def _file_counts(self, path: str, form: str) -> Counts:
        reader = self.spark.read.format("json" if form == "jsonl" else form)
        if form == "csv":
            reader = reader.option("header", True)
        return _spark_counts(reader.load(path), self.plan.error_column)

    def preview(self, rows: int) -> tuple[list[str], list[tuple[object, ...]]]:
        with _spark_errors(self.label):
            found = self.frame.limit(rows).collect()
        # PySpark gives timestamps naive in this process's local time: back to UTC.
        return list(self.frame.columns), [tuple(_naive_utc(v) for v in row) for row in found]

    def counts(self) -> Counts:
        with _spark_errors(self.label):
            return _spark_counts(self.frame, self.plan.error_column)


def _session(master: str | None, progress: bool) -> Any:
    """A Spark session of our own: local on every core, or on the cluster at `master`."""
    sql = _require("pyspark.sql")
    master = master or "local[*]"
    builder = (sql.SparkSession.builder.master(master).appName("clausec batch")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.showConsoleProgress", str(progress).lower()))
    if master.startswith("local"):
        # A local Spark talks only to itself: on the loopback address, whatever the
        # machine's name resolves to.
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1") \
            .config("spark.driver.host", "127.0.0.1")
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # noqa: BLE001 - no Java, a master that is not one, ...
        raise BatchError(f"cannot start Spark on {master}: "
                         f"{_first_line(error)} (Spark needs Java 17 or later: is JAVA_HOME "
                         "set?)") from None
    # Its warnings (native libraries, hostnames) are not the user's concern, nor its own
    # logs of the errors it raises: a batch reports those itself.
    spark.sparkContext.setLogLevel("OFF")
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return spark


def _local(spark: Any) -> bool:
    """Whether the session runs on this machine, so that its files are ours."""
    try:
        return str(spark.sparkContext.master).startswith("local")
    except Exception:  # noqa: BLE001 - Spark Connect has no context: a remote cluster
        return False


@contextlib.contextmanager
def _utc_session(spark: Any) -> Iterator[None]:
    """The session's time zone UTC for a block, then as it was."""
    key = "spark.sql.session.timeZone"
    before = spark.conf.get(key)
    spark.conf.set(key, "UTC")
    try:
        yield
    finally:
        spark.conf.set(key, before)


@contextlib.contextmanager
def _spark_errors(label: str) -> Iterator[None]:
    """Spark's errors in reading the facts or running the query, as BatchErrors."""
    errors = _require("pyspark.errors")
    caught: tuple[type[BaseException], ...] = (errors.PySparkException,)
    with contextlib.suppress(ImportError):
        protocol = importlib.import_module("py4j.protocol")
        caught += (protocol.Py4JJavaError,)
    try:
        yield
    except caught as error:
        raise BatchError(f"{label}: {_spark_message(error)}") from None


def _spark_message(error: BaseException) -> str:
    """What went wrong, as the JVM says it: py4j's own message only names the call."""
    java = getattr(error, "java_exception", None)
    if java is not None:
        with contextlib.suppress(Exception):
            return _first_line(Exception(java.getMessage() or java.toString()))
    return _first_line(error)


def _spark_read(spark: Any, facts: object) -> Any:
    """The facts as a Spark DataFrame: CSV columns as text (converted by the query, row
    by row), numbers of JSON lines as decimals where they fit (exact)."""
    kind = _kind_of(facts)
    if kind == "spark":
        return facts
    if kind != "path":
        return _spark_frame(spark, _materialised(_arrow_table(facts)))
    assert isinstance(facts, (str, os.PathLike))
    _check_path(facts)
    form = input_format(facts)
    path = str(facts)
    if form == "csv":
        return spark.read.option("header", True).csv(path)
    if form == "jsonl":
        return spark.read.option("prefersDecimal", True).json(path)
    if not _is_uri(path) and Path(path).is_dir() and not _partitioned(Path(path)):
        # Spark reads the files of a folder and of its key=value folders only: the
        # files of other folders below would be left out without a word.
        return spark.read.option("recursiveFileLookup", True) \
            .option("pathGlobFilter", "*.parquet").parquet(path)
    return spark.read.parquet(path)


def _partitioned(folder: Path) -> bool:
    """Whether every folder below is a partition (key=value), as Spark writes them, its
    own (_temporary, .hidden) aside."""
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if path.is_dir() and "=" not in path.name \
                and not any(part.startswith(("_", ".")) for part in parts):
            return False
    return True


def _materialised(table: Any) -> Any:
    """A pyarrow Table from a table or a stream of batches."""
    if hasattr(table, "read_all"):
        return table.read_all()
    return table


def _spark_frame(spark: Any, table: Any) -> Any:
    """A pyarrow Table as a Spark DataFrame: Spark 4 takes it as it is; before, through
    pandas."""
    pyspark = _require("pyspark")
    if int(str(pyspark.__version__).split(".")[0]) >= 4:
        return spark.createDataFrame(table)
    try:
        return spark.createDataFrame(table.to_pandas())
    except ImportError:
        raise BatchError("Spark before 4.0 takes tables in memory through pandas: pip "
                         "install pandas") from None


def _spark_writer(frame: Any, form: str) -> Any:
    writer = frame.write.mode("overwrite").format("json" if form == "jsonl" else form)
    if form == "csv":
        writer = writer.option("header", True)
    if form == "jsonl":
        writer = writer.option("ignoreNullFields", False)  # every column on every line
    return writer


def _spark_counts(frame: Any, error_column: str) -> Counts:
    functions = _require("pyspark.sql.functions")
    row = frame.agg(functions.count(functions.lit(1)),
                    functions.count(functions.col(f"`{error_column}`"))).collect()[0]
    return Counts(int(row[0]), int(row[1]))


def _naive_utc(value: object) -> object:
    """A datetime as PySpark returns it (naive, in local time) naive in UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
