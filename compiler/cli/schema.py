"""`clausec schema`: the JSON Schema of an agreement's facts."""

from __future__ import annotations

import argparse
import json

from clausec.backends.python.schema import facts_schema
from clausec.cli.common import EXIT_OK, analyse


def run(args: argparse.Namespace) -> int:
    result = analyse(args.file)
    assert result.checked is not None
    print(json.dumps(facts_schema(result.checked), indent=2))
    return EXIT_OK
