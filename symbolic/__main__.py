"""`python -m symbolic` runs the command line."""

import sys

from symbolic.cli.main import main

sys.exit(main())
