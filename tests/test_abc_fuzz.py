"""Arbitrary text into the ABC reader gives Tunes or AbcSyntaxErrors, never another exception or a hang;
whatever it reads, our writer writes back to the same Tune."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbolic.abc.reader import read_abc, read_tune
from symbolic.abc.writer import write_abc

ABC_ALPHABET = "ABCDEFGabcdefgzxZ,'^_=/0123456789|:[]()<>-{}\"!+~.HTuv &\\%KLMPQV \n"
ABC_TOKENS = st.sampled_from([
    "A", "B,", "c'", "^f", "_B", "=e", "2", "/2", "3/2", "/", "z", "x2", "Z2", "|", "||", "|]", "[|", "|:", ":|", "::",
    "|1", ":|2", "[2", "[1,3", "(3", "(3:2:4", "(5", ">", "<", ">>", "-", "[CEG]", "[c2e2]", "{g}", "{/ag}", '"G"',
    '"Am7"', '"^text"', "!trill!", "~", ".", "[K:D]", "[M:3/4]", "[L:1/16]", "[P:B]", " ", "\n", "\nK:Ador\n",
    "\nM:6/8\n", "&", "\\\n", "%c\n", "y", "(", ")", "[V:2]", "\nV:1\n",
])
HEADER = st.sampled_from(["M:4/4\nL:1/8\nK:G\n", "M:6/8\nK:Dm\n", "M:C|\nL:1/16\nK:HP\n", "K:none\n", "M:none\nK:Bb\n"])

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@settings(max_examples=300)
@given(st.text(alphabet=ABC_ALPHABET, max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    for item in [read_abc("X:1\nK:C\n" + text), read_abc(text)]:
        for tune in item.tunes:
            assert read_tune(write_abc(tune)) == tune


@settings(max_examples=400)
@given(HEADER, st.lists(ABC_TOKENS, max_size=60))
def test_token_soup_reads_or_fails_cleanly_and_round_trips(header: str, tokens: list[str]) -> None:
    result = read_abc("X:1\nT:fuzz\n" + header + "".join(tokens) + "\n")
    for tune in result.tunes:
        assert read_tune(write_abc(tune)) == tune
