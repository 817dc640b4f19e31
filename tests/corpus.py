"""Access to music21's bundled folk tunebooks for the tests (read in place, never copied).

The helpers live in symbolic.evaluation.agreement.folk, which the benchmarks use too."""

from symbolic.evaluation.agreement.folk import all_folk_tunes, folk_files, sample_folk_tunes

__all__ = ["all_folk_tunes", "folk_files", "sample_folk_tunes"]
