"""`symbolic generate`: new tunes as ABC (a tunebook), MIDI and WAV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("abc", "mid", "wav")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from symbolic.cli.main import seed
    from symbolic.generation.sampler import (
        COMPASS,
        DEFAULT_COMPASS_PRIOR,
        DEFAULT_ECHO_PRIOR,
        DEFAULT_FLOOR_PRIOR,
        DEFAULT_MODE_PRIOR,
        DEFAULT_OPENING_PRIOR,
        DEFAULT_REPEAT_PRIOR,
        DEFAULT_RHYTHM_PRIOR,
        DEFAULT_TOP_P,
        REPEAT_PRIOR_BY_TYPE,
    )
    from symbolic.tune_types import BY_NAME

    parser = commands.add_parser(
        "generate", help="write new tunes with a trained model (default: the bundled one)",
        description=(
            "Sample new tunes. Every tune is valid by construction: each part is whole bars of the "
            "meter between repeat signs (a pickup given back in the part's last bar), it ends at home "
            "(--no-cadence frees it), and it reads back with our reader and abc2midi. With no "
            "options: one tune from the bundled model into the current folder as ABC, MIDI and WAV. "
            "The same --seed gives the same tunes."
        ),
    )
    parser.add_argument("-n", "--count", type=int, default=1, metavar="N", help="number of tunes (1..1000)")
    parser.add_argument("--model", metavar="PATH", help="a model folder (default: the bundled model)")
    parser.add_argument("--type", dest="tune_type", metavar="TYPE",
                        help="jig, reel, hornpipe, polka, slip-jig, waltz, march, strathspey, air, ...")
    parser.add_argument("--meter", metavar="M", help="e.g. 6/8 (default: the type's usual meter)")
    parser.add_argument("--mode", metavar="MODE", help="major (default), minor, dorian, mixolydian, ...")
    parser.add_argument("--key", metavar="KEY", help="tonic of the result, e.g. D, G, A, E (default: a usual "
                                                     "key for the mode)")
    parser.add_argument("--prime", metavar="ABC", help='opening bars in ABC, e.g. "|:GAB cBA|", in --key')
    parser.add_argument("--bars-per-part", type=int, default=8, metavar="N", help="bars in each part (8)")
    parser.add_argument("--parts", type=int, default=2, metavar="N", help="repeated parts, AABB... (2)")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="below 1: safer, above 1: wilder (1.0)")
    parser.add_argument("--top-k", type=int, default=0, metavar="K", help="sample among the K likeliest (0: all)")
    parser.add_argument("--top-p", type=float, default=DEFAULT_TOP_P, metavar="P",
                        help="sample among the likeliest tokens holding P of the probability (%(default)s)")
    parser.add_argument("--mode-prior", type=float, default=None, metavar="X",
                        help="how firmly notes keep to the mode's scale: log-probability taken from each note "
                             "outside it (0: the model's own accidentals; 20: almost none). Default: about real "
                             f"tunes' share of accidentals, {DEFAULT_MODE_PRIOR['tonic']:g} for a model keyed to the "
                             f"tonic, {DEFAULT_MODE_PRIOR['signature']:g} for one keyed to the signature (as the "
                             "bundled model), which keeps to the modes on its own and has minor's major sixth and "
                             "raised seventh lifted to real tunes' rate")
    parser.add_argument("--no-cadence", dest="cadence", action="store_false",
                        help="let parts end on any note (default: parts end on a tonic-chord tone, the tune on "
                             "the tonic, at least a beat or a quarter note long)")
    parser.add_argument("--repeat-prior", type=float, metavar="X",
                        help="how seldom a note repeats the pitch before it: log-probability taken from that pitch "
                             "(0: as the model likes, which repeats more than real tunes; default: about real dance "
                             f"tunes' rate for the type, {REPEAT_PRIOR_BY_TYPE['reel']:g} for reels, "
                             f"{REPEAT_PRIOR_BY_TYPE['hornpipe']:g} for hornpipes, else {DEFAULT_REPEAT_PRIOR:g})")
    parser.add_argument("--compass-prior", type=float, default=DEFAULT_COMPASS_PRIOR, metavar="X",
                        help="how close the tune keeps to a real tune's compass: log-probability taken for each "
                             "semitone a note would stretch the span from its lowest to highest note beyond real "
                             f"tunes' of its type ({COMPASS} semitones; reels {BY_NAME['reel'].compass}, hornpipes "
                             f"{BY_NAME['hornpipe'].compass}) (0: as the model likes, which wanders 3-4 semitones wider "
                             "than real tunes; default %(default)s)")
    parser.add_argument("--floor-prior", type=float, default=DEFAULT_FLOOR_PRIOR, metavar="X",
                        help="how firmly the tune keeps above D4, the lowest note of the flute and whistle, as most "
                             "real dance tunes do: log-probability taken for each semitone a note would sound below "
                             "it (0: as the model likes, which goes below twice as often as real tunes; default "
                             "%(default)s)")
    parser.add_argument("--echo-prior", type=float, default=DEFAULT_ECHO_PRIOR, metavar="X",
                        help="how firmly a bar restates the earlier one its part's form names, as a tune's "
                             "phrases answer each other (each part's form is drawn from real dance tunes' of the type: "
                             "bars 5 and 6 restating bars 1 and 2, bar 3 recalling bar 1, a later part closing as the "
                             "one before): log-probability added to the note that carries the restatement on (0: as "
                             "the model likes, which hardly ever restates a bar; default %(default)s)")
    parser.add_argument("--home-close", type=float, metavar="SHARE",
                        help="share of the parts before the last that close at home as the tune does, on the tonic "
                             "with a long note (1: every part; default: as real dance tunes of the type, from 0.43 "
                             "of reels' parts to 0.72 of jigs'; the others end on a tonic-chord tone)")
    parser.add_argument("--pickup-share", type=float, metavar="SHARE",
                        help="share of tunes that open with a pickup, the model choosing its length and notes (1: "
                             "every tune; default: as real dance tunes of the type, 0.58 of reels, 0.75 of jigs, 0.92 "
                             "of hornpipes); --no-pickup rules pickups out")
    parser.add_argument("--opening-prior", type=float, default=DEFAULT_OPENING_PRIOR, metavar="X",
                        help="how far the first note, and the first after a pickup, fall on the degrees real dance "
                             "tunes of the mode open on, 0..1 (0: as the model likes, which opens minor tunes on "
                             "their third and seventh, as their relative majors; default %(default)s: as real tunes)")
    parser.add_argument("--rhythm-prior", type=float, default=DEFAULT_RHYTHM_PRIOR, metavar="X",
                        help="how firmly notes keep to the lengths real dance tunes of the type give a note at that "
                             "place in the bar: log-probability taken from a length fewer than 1 in 100 of their "
                             "notes there take (0: as the model likes, which writes such rhythms 4 to 7 times as "
                             "often as real tunes: dotted reels, `de2` in a jig's beat; default %(default)s)")
    parser.add_argument("--no-pickup", dest="pickups", action="store_false",
                        help="start on the downbeat (default: the model may open the tune with a pickup, which "
                             "every part then repeats)")
    parser.add_argument("--no-endings", dest="endings", action="store_false",
                        help="end every part with a plain repeat (default: the model may close a part with first "
                             "and second endings, |1 ... :|2 ... ||)")
    parser.add_argument("--seed", type=seed, help="the same seed gives the same tunes (0..2**64-1)")
    parser.add_argument("--max-similarity", type=float, default=0.95, metavar="S",
                        help="resample a tune whose melody similarity (0..1) to a training tune is above S; "
                             "1 never resamples (0.95)")
    parser.add_argument("--out", default=".", metavar="DIR", help="output folder, or '-' to print ABC (.)")
    parser.add_argument("--formats", default="abc,mid,wav", metavar="LIST",
                        help="comma-separated: abc, mid, wav (abc,mid,wav)")
    parser.add_argument("--instrument", default="fiddle", metavar="NAME", help="MIDI and WAV instrument (fiddle)")
    parser.add_argument("--tempo", type=int, metavar="BPM", help="quarter notes a minute (default: the type's)")
    parser.add_argument("--stem", default="tune", metavar="NAME",
                        help="file names: NAME.abc for the tunebook, NAME-<X>.mid/.wav per tune (tune)")
    parser.set_defaults(handler=_generate)


def _formats(text: str) -> list[str]:
    from symbolic.generation.grammar import GenerationError

    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise GenerationError(f"unknown format {unknown[0] if unknown else text!r}; choose from {', '.join(FORMATS)}")
    return chosen


def _generate(args: argparse.Namespace) -> int:
    import time

    from symbolic.abc.writer import write_abc_tunebook
    from symbolic.atomic import write_text_atomically
    from symbolic.generation.generate import Request, generate, novelty_note
    from symbolic.generation.grammar import GenerationError
    from symbolic.generation.sampler import SamplingSettings
    from symbolic.midi.writer import MidiOptions

    formats = _formats(args.formats)
    to_stdout = args.out == "-"
    if to_stdout and formats != ["abc"]:
        raise GenerationError("--out - prints ABC only: add --formats abc")
    midi_options = MidiOptions(instrument=args.instrument, tempo_qpm=args.tempo)  # checked before sampling
    request = Request(count=args.count, tune_type=args.tune_type, meter=args.meter, mode=args.mode, key=args.key,
                      prime=args.prime, bars_per_part=args.bars_per_part, parts=args.parts, seed=args.seed,
                      tempo=args.tempo, max_similarity=args.max_similarity, cadence=args.cadence,
                      pickups=args.pickups, endings=args.endings,
                      sampling=SamplingSettings(
                          temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, mode_prior=args.mode_prior,
                          repeat_prior=args.repeat_prior,
                          compass_prior=args.compass_prior, floor_prior=args.floor_prior, echo_prior=args.echo_prior,
                          home_close=args.home_close, pickup_share=args.pickup_share,
                          opening_prior=args.opening_prior, rhythm_prior=args.rhythm_prior))
    started = time.perf_counter()
    tunes = generate(args.model, request=request)
    elapsed = time.perf_counter() - started
    book = write_abc_tunebook(tunes)
    # Novelty goes to stderr, so `--out -` still prints a clean tunebook.
    for tune in tunes:
        note = novelty_note(tune)
        if note is not None:
            print(f"X:{tune.reference} {tune.title}: {note}", file=sys.stderr)
    if to_stdout:
        sys.stdout.write(book)
        return 0
    out = Path(args.out)
    written: list[Path] = []
    if "abc" in formats:
        written.append(write_text_atomically(out / f"{args.stem}.abc", book))
    if "mid" in formats:
        from symbolic.midi.writer import write_midi

        written += [write_midi(t, out / f"{args.stem}-{t.reference}.mid", midi_options) for t in tunes]
    print(book, end="")
    print(f"\n{len(tunes)} tune{'s' if len(tunes) != 1 else ''} sampled in {elapsed * 1000:.0f} ms; wrote:",
          file=sys.stderr)
    try:
        # Audio last: without FluidSynth (or a soundfont) the ABC and MIDI are already on disk.
        if "wav" in formats:
            from symbolic.audio.render import RenderOptions, render_tune

            for tune in tunes:
                written.append(render_tune(tune, out / f"{args.stem}-{tune.reference}.wav", RenderOptions(),
                                           midi_options))
    finally:
        for path in written:
            print(f"  {path}", file=sys.stderr)
    return 0
