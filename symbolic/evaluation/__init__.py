"""`symbolic evaluate --report`: how good sampled tunes are, in numbers and pictures.

- `metrics`: the melody of a tune, Yang & Lerch (2018) features, distances, overlap and KL,
  mode adherence and edit similarity;
- `parts`: the form of a tune (parts, bars per part, AABB);
- `validity`: read-back, abc2midi warnings, full bars;
- `novelty`: the most similar training tune and the longest run of copied bars;
- `run`: samples from each model and measures everything; `report`: report.json, report.md, plots.
"""

from symbolic.errors import SymbolicError


class EvaluationError(SymbolicError):
    """An evaluation that cannot be made (no real tunes to compare with, a bad sample count...)."""
