"""Tune types: the one table of what each type is (its name in tokens, the words that name it in
an R: field, its usual meter and session tempo, the accompaniment pattern it is played with, and
the noun a title gives it)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class TuneType:
    name: str  # as tokens and `--type` spell it: `slip-jig`
    meter: str  # the usual meter, when a request names none
    tempo: tuple[Fraction, int] | None = None  # (beat as a share of a whole note, beats a minute)
    accompaniment: str = "beats"  # reel (bass-chord in quarters), polka (in eighths), waltz, beats
    noun: str = ""  # in titles: "The Mountain Slip Jig"
    aliases: tuple[str, ...] = ()  # other words an R: field uses for it
    # The unit note length (L:) its tunes are written in, where that is not ABC's default for the
    # meter: 54 of the 55 polkas in the dance training tunes are written in 2/4 with L:1/8, while
    # 2/4 reels and hornpipes take the default L:1/16.
    unit: Fraction | None = None
    # The median compass (highest less lowest note, semitones) of the type's tunes among the 4,756
    # dance training tunes: reels and strathspeys 19, hornpipes 20, jigs and most others 17.
    compass: int = 17

    @property
    def title_noun(self) -> str:
        return self.noun or self.name.replace("-", " ").title()

    @property
    def words(self) -> tuple[str, ...]:
        """Every spelling an R: field may use, longest first when matched."""
        spaced = self.name.replace("-", " ")
        return (spaced, spaced.replace(" ", ""), *self.aliases)


TUNE_TYPES: tuple[TuneType, ...] = (
    TuneType("barndance", "4/4", accompaniment="reel", noun="Barndance", aliases=("barn dance",)),
    TuneType("fling", "4/4", accompaniment="reel", compass=19),
    TuneType("hornpipe", "4/4", (Fraction(1, 2), 76), accompaniment="reel", compass=20),
    TuneType("jig", "6/8", (Fraction(3, 8), 112)),
    TuneType("march", "2/4", (Fraction(1, 4), 112), accompaniment="reel"),
    TuneType("mazurka", "3/4"),
    TuneType("polka", "2/4", (Fraction(1, 4), 132), accompaniment="polka", unit=Fraction(1, 8)),
    TuneType("reel", "4/4", (Fraction(1, 2), 100), accompaniment="reel", compass=19),
    TuneType("schottische", "4/4", accompaniment="reel"),
    TuneType("set-dance", "6/8"),
    TuneType("slide", "12/8", (Fraction(3, 8), 132)),
    TuneType("slip-jig", "9/8", (Fraction(3, 8), 112)),
    TuneType("strathspey", "4/4", (Fraction(1, 4), 120), compass=19),
    TuneType("waltz", "3/4", (Fraction(1, 4), 150), accompaniment="waltz"),
    TuneType("air", "3/4", (Fraction(1, 4), 72)),
    TuneType("song", "3/4"),
)
OTHER = TuneType("other", "4/4", noun="Air")  # an R: field that names no type, or none
BY_NAME: dict[str, TuneType] = {t.name: t for t in (*TUNE_TYPES, OTHER)}
# Words of tune-type names, which say nothing of a tune's own name (left out of title words).
TYPE_WORDS = frozenset(w for t in TUNE_TYPES for word in t.words for w in word.split()) | frozenset(
    ["jigs", "reels", "hornpipes", "polkas", "quickstep", "tune", "slow", "double", "single", "lament"])


def tune_type(rhythm: str) -> str:
    """The tune type named by an R: field (`Double Jig` -> jig, `slip-jig` -> slip-jig), or `other`."""
    text = rhythm.lower().replace("-", " ")
    for word, name in sorted(((w, t.name) for t in TUNE_TYPES for w in t.words), key=lambda wn: -len(wn[0])):
        if word in text:
            return name
    return "other"


def type_of(rhythm: str) -> TuneType:
    """The TuneType an R: field or a type's name names (OTHER when none)."""
    return BY_NAME.get(rhythm) or BY_NAME[tune_type(rhythm)]
