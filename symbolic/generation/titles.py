"""Names for new tunes in the manner of the folk tradition ("The Humours of ...", "...'s Reel").

Words come from the titles of the corpus a model was trained on when its model folder carries them
(the novelty index's `title_words`, harvested by `symbolic models index`), else from a small
built-in list of words common in Irish and Scottish titles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symbolic.tune_types import type_of

BUILT_IN_WORDS = (
    "Kesh", "Ballyvourney", "Glen", "Lark", "Mountain", "Road", "Harvest", "Morning", "Piper", "Fiddler", "Lass",
    "Boys", "Rambler", "Mill", "Bridge", "River", "Heather", "Shannon", "Tulla", "Connemara", "Kerry", "Sligo",
    "Donegal", "Miller", "Weaver", "Ploughman", "Moon", "Star", "Storm", "Meadow", "Hills", "Strand", "Curlew",
    "Blackbird", "Thrush", "Fox", "Hare", "Castle", "Abbey", "Market", "Fair", "Wedding", "Widow", "Sailor",
)
TEMPLATES = ("The {a} {b}", "The Humours of {a}", "{a}'s {kind}", "The {a} {kind}", "The Road to {a}",
             "The {a} of {b}", "{a} {b}")


def make_title(kind: str, rng: np.random.Generator, words: Sequence[str] = BUILT_IN_WORDS,
               counts: Sequence[int] = ()) -> str:
    """A title of a template and two words. `counts` (titles using each word) weight the choice by
    their square root, so the corpus's favourite words come up often without crowding out the rest."""
    pool = list(words) or list(BUILT_IN_WORDS)
    weights = None
    if counts and len(counts) == len(pool) and len(pool) == len(words):
        root = np.sqrt(np.maximum(np.asarray(counts, dtype=np.float64), 1.0))
        weights = root / root.sum()
    a, b = (str(pool[int(i)]) for i in rng.choice(len(pool), size=2, replace=len(pool) < 2, p=weights))
    noun = type_of(kind).title_noun
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    return template.format(a=a, b=b, kind=noun)
