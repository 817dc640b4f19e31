"""The `symbolic` command line; `main` is its entry point."""

from symbolic.cli.main import main

__all__ = ["main"]
