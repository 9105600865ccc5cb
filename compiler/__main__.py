"""`python -m clausec` runs the command line."""

import sys

from clausec.cli import main

sys.exit(main())
