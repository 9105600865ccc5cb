"""Memory of `clausec check` on a clause file with one long text block.

Prints, for text blocks of 1, 5 and 50 MB (or the sizes given), the peak memory that
Python allocates (tracemalloc) while `clausec check` reads, parses and checks the file,
per byte of the file: the cost should stay a few bytes per byte, whatever the size.

    python benchmarks/text_memory.py [MB ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
import tracemalloc
from pathlib import Path

from clausec import cli

SENTENCE = "The Purchaser shall pay to the Seller the Purchase Price on the Closing Date. "


def text_block_file(path: Path, size: int) -> Path:
    """An agreement whose one section holds a text block of `size` bytes, in indented
    lines of about 100 characters, as contract text is written."""
    words = (SENTENCE * (size // len(SENTENCE) + 1))[:size]
    body = "\n".join("    " + words[i:i + 96] for i in range(0, len(words), 96))
    path.write_text(
        'agreement big "Agreement" {\n  dated 2004-01-01\n}\n\nfact price: money\n\n'
        f'section 1 "Payment" {{\n  text """\n{body}\n  """\n'
        "  define total: money = price\n}\n", encoding="utf-8")
    return path


def check(path: Path) -> int:
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        return cli.main(["check", str(path)])


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("sizes", nargs="*", type=float, default=[1, 5, 50], metavar="MB")
    ns = args.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        check(text_block_file(Path(folder) / "warm.clause", 10_000))  # grammar, caches
        print(f"{'text block':>12}  {'peak memory':>12}  {'per byte':>9}  {'time':>7}")
        for megabytes in ns.sizes:
            path = text_block_file(Path(folder) / "big.clause", int(megabytes * 1_000_000))
            size = path.stat().st_size
            tracemalloc.start()
            start = time.perf_counter()
            code = check(path)
            seconds = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert code == 0, f"clausec check failed on the {megabytes} MB file"
            print(f"{megabytes:>9g} MB  {peak / 2**20:>8.1f} MiB  {peak / size:>9.2f}  "
                  f"{seconds:>6.1f}s")


if __name__ == "__main__":
    main()
