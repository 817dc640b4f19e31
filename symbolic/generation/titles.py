"""Names for new tunes in the manner of the folk tradition ("The Humours of ...", "...'s Reel").

Words come from the titles of the corpus a model was trained on when its model file carries them
(`title_words`), else from a small built-in list of words common in Irish and Scottish titles.
"""

from __future__ import annotations

import numpy as np

BUILT_IN_WORDS = (
    "Kesh", "Ballyvourney", "Glen", "Lark", "Mountain", "Road", "Harvest", "Morning", "Piper", "Fiddler", "Lass",
    "Boys", "Rambler", "Mill", "Bridge", "River", "Heather", "Shannon", "Tulla", "Connemara", "Kerry", "Sligo",
    "Donegal", "Miller", "Weaver", "Ploughman", "Moon", "Star", "Storm", "Meadow", "Hills", "Strand", "Curlew",
    "Blackbird", "Thrush", "Fox", "Hare", "Castle", "Abbey", "Market", "Fair", "Wedding", "Widow", "Sailor",
)
TEMPLATES = ("The {a} {b}", "The Humours of {a}", "{a}'s {kind}", "The {a} {kind}", "The Road to {a}",
             "The {a} of {b}", "{a} {b}")


def make_title(kind: str, rng: np.random.Generator, words: tuple[str, ...] | list[str] = BUILT_IN_WORDS) -> str:
    pool = list(words) or list(BUILT_IN_WORDS)
    a, b = (str(pool[int(i)]) for i in rng.choice(len(pool), size=2, replace=len(pool) < 2))
    noun = {"other": "Air", "slip-jig": "Slip Jig", "set-dance": "Set Dance"}.get(kind, kind.title())
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    return template.format(a=a, b=b, kind=noun)
