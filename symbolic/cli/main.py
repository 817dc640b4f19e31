"""The `symbolic` command line: a thin layer over the package. A user's bad input prints one
line and a non-zero exit status, never a traceback."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from symbolic.errors import SymbolicError
from symbolic.tune import Tempo, Tune

if TYPE_CHECKING:
    from symbolic.midi.writer import MidiOptions

EXIT_NOTHING_DONE = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symbolic",
        description="Learn folk music from ABC and MIDI corpora and write new tunes as ABC, MIDI and WAV.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    convert = commands.add_parser(
        "convert",
        help="convert ABC or MIDI tunes to clean ABC, DAW-ready MIDI or WAV",
        description=(
            "Read every tune of the inputs and write one output file per tune: <stem>.<ext> for a "
            "one-tune file, <stem>-<X>.<ext> for each tune X of a tunebook. Tunes that cannot be "
            "read are skipped with one warning line each; the exit status is non-zero only if "
            "nothing was converted."
        ),
    )
    convert.add_argument("inputs", nargs="+", metavar="IN",
                         help="an .abc or .mid file, a folder of them (recursive), or a music21 collection "
                              "such as music21:oneills1850 or music21:folk (all five folk collections)")
    convert.add_argument("--to", required=True, choices=("abc", "mid", "wav"),
                         help="output format (wav renders the MIDI performance with FluidSynth)")
    convert.add_argument("--out", default=".", metavar="DIR",
                         help="output folder (default: the current folder); with --to abc, '-' prints to stdout")
    convert.add_argument("--key", metavar="KEY",
                         help="transpose into this key first: a tonic (D, Bb, F#) keeps each tune's mode; "
                              "Em or 'A dorian' must match the tune's mode")
    convert.add_argument("--tempo", type=_positive_int, metavar="BPM",
                         help="tempo in quarter notes a minute, replacing the tune's Q: field")
    convert.add_argument("--track", type=_track, metavar="N|NAME",
                         help="MIDI input: the track (index among pitched tracks, or name) holding the melody")
    convert.add_argument("--program", type=int, metavar="P",
                         help="MIDI input: the General MIDI program (0-127) of the melody instrument")
    convert.add_argument("--bars-per-line", type=_positive_int, default=4, metavar="N",
                         help="bars on each line of ABC output (default 4)")
    daw = convert.add_argument_group(
        "MIDI output (--to mid)",
        "Tracks are named, carry a General MIDI program, and tempo, time and key signatures are written. "
        "Velocities follow the meter: strongest on the first beat, lighter off the beat.")
    daw.add_argument("--instrument", metavar="NAME",
                     help="melody instrument: fiddle (default), flute, whistle, accordion, concertina, piano, harp, "
                          "guitar... (see symbolic/instruments.json); 'bodhran' keeps the fiddle melody and adds "
                          "a bodhran track")
    daw.add_argument("--accompaniment", action="store_true",
                     help="add a bass-and-chords track: the tune's chord symbols, else chords chosen from the melody "
                          "in its key, played in a pattern for its R: type (jig, reel, hornpipe, polka, waltz, march)")
    daw.add_argument("--accompaniment-instrument", metavar="NAME",
                     help="instrument of the accompaniment: piano (default), guitar, bouzouki, harp...")
    daw.add_argument("--drone", action="store_true",
                     help="add a low, soft drone track: the tonic and its fifth held through each section")
    daw.add_argument("--drone-instrument", metavar="NAME", help="instrument of the drone: accordion (default), pipes...")
    daw.add_argument("--swing", type=_swing, metavar="RATIO",
                     help="swing eighth-note pairs, as for hornpipes: the first eighth's share of the beat (0.66) "
                          "or long:short (2:1); simple meters only, off by default")
    daw.add_argument("--humanize", type=float, metavar="MS",
                     help="move each note up to MS milliseconds early or late and vary its velocity a little "
                          "(same result for the same --seed)")
    daw.add_argument("--seed", type=seed, metavar="N", help="seed of the humanisation (default 0)")
    daw.add_argument("--no-repeats", action="store_true",
                     help="play each part once in written order, taking the last of its n-th endings "
                          "(default: repeats and endings played out)")
    convert.set_defaults(handler=_convert)

    corpus = commands.add_parser("corpus", help="build and inspect tokenised training corpora")
    corpus_commands = corpus.add_subparsers(dest="corpus_command", metavar="ACTION", required=True)
    build = corpus_commands.add_parser(
        "build", help="tokenise, deduplicate and split tunes into a corpus folder",
        description=(
            "Read every source, turn each tune into key-normalised note-event tokens, keep one copy of "
            "each melody (also across collections), split train/valid/test by melody for --seed, and "
            "write token shards, vocab.json, skipped.tsv and, last, manifest.json into --out."
        ),
    )
    build.add_argument("sources", nargs="+", metavar="SRC",
                       help=".abc or MIDI files, folders of them (recursive), or music21:NAME "
                            "(music21:folk for all five bundled folk collections)")
    build.add_argument("--out", required=True, metavar="DIR", help="corpus folder to write")
    build.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="worker processes (default: the number of cores, at most 4)")
    build.add_argument("--seed", type=int, default=0, help="seed of the train/valid/test split (default 0)")
    build.add_argument("--no-countdown", dest="bar_countdown", action="store_false",
                       help="leave out the bar countdown tokens (as corpora for models made before them)")
    build.add_argument("--keys-from-finals", action="store_true",
                       help="name a modal tune's key by its final, as musicians do: a K:G tune whose every part "
                            "ends on A is A dorian (old collections write the key signature, not the mode)")
    build.add_argument("--normalise-to", choices=("tonic", "signature"), default="tonic",
                       help="how tokens are keyed: every tune with its tonic on C (default), or every tune with "
                            "no sharps or flats (A dorian as D dorian), so a scale's notes are the same tokens "
                            "in every mode")
    build.add_argument("--valid", type=float, default=0.05, metavar="FRACTION", help="validation share (0.05)")
    build.add_argument("--test", type=float, default=0.05, metavar="FRACTION", help="test share (0.05)")
    build.set_defaults(handler=_corpus_build)
    stats = corpus_commands.add_parser("stats", help="print what a corpus folder holds")
    stats.add_argument("folder", metavar="DIR")
    stats.add_argument("--plot", action="store_true", help="also write PNG histograms into DIR")
    stats.set_defaults(handler=_corpus_stats)
    from symbolic.cli import audio as cli_audio
    from symbolic.cli import generate as cli_generate
    from symbolic.cli import models as cli_models
    from symbolic.cli import web as cli_web

    cli_generate.register(commands)
    cli_models.register(commands)
    cli_audio.register(commands)
    cli_web.register(commands)
    return parser


def _swing(text: str) -> Fraction:
    """`0.66` (the first eighth's share of a beat) or `2:1` (long to short)."""
    try:
        if ":" in text:
            long, short = (Fraction(part) for part in text.split(":"))
            return long / (long + short)
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a ratio such as 0.66 or 2:1: {text!r}") from None


MAX_SEED = 2**64 - 1


def seed(text: str) -> int:
    """A random seed: a whole number in 0..2**64-1 (NumPy refuses negative seeds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in 0..2**64-1: {text[:40]}")
    return value


def _track(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def _warn(message: str) -> None:
    print(f"symbolic: {message}", file=sys.stderr)


def _prepare(tune: Tune, args: argparse.Namespace) -> Tune:
    from symbolic.transpose import transpose_to

    if args.key:
        tune = transpose_to(tune, args.key)
    if args.tempo and args.to == "abc":
        tune = dataclasses.replace(tune, tempo=Tempo(args.tempo))
    return tune


_MIDI_ONLY = ("instrument", "accompaniment", "accompaniment_instrument", "drone", "drone_instrument", "swing",
              "humanize", "seed", "no_repeats")


def _midi_options(args: argparse.Namespace) -> MidiOptions | None:
    """The MIDI settings of `convert`, checked (MidiWriteError, UnknownInstrumentError), or
    None for ABC output, which refuses them rather than ignore them."""
    from symbolic.midi.writer import HUMANIZE_VELOCITY, MidiOptions

    given = [name for name in _MIDI_ONLY if getattr(args, name) not in (None, False)]
    if args.to == "abc":
        if given:
            raise SymbolicError(f"--{given[0].replace('_', '-')} applies only to --to mid or wav")
        return None
    settings: dict = {"tempo_qpm": args.tempo, "accompaniment": args.accompaniment, "drone": args.drone,
                      "swing": args.swing, "repeats": not args.no_repeats, "seed": args.seed or 0}
    for name in ("instrument", "accompaniment_instrument", "drone_instrument"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.humanize:
        settings.update(humanize_ms=args.humanize, humanize_velocity=HUMANIZE_VELOCITY)
    return MidiOptions(**settings)


def _convert(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from symbolic.abc.writer import write_abc
    from symbolic.atomic import write_text_atomically
    from symbolic.corpus.sources import SourceError, expand_source

    files: list[Path] = []
    for source in args.inputs:
        files += expand_source(source)
    to_stdout = args.out == "-"
    if to_stdout and args.to != "abc":
        raise SourceError("--out - (standard output) works only with --to abc")
    midi_options = _midi_options(args)  # checked before any file is read: a bad value stops at once
    out_dir = Path(args.out)
    inputs = {path.resolve() for path in files}
    used_names: set[str] = set()
    converted = skipped = 0
    for path in tqdm(files, desc="converting", unit="file", disable=None, file=sys.stderr):
        items, single = _tune_stream(path, args)
        for tune in items:
            if isinstance(tune, SymbolicError):
                _warn(f"skipped {tune}")
                skipped += 1
                continue
            target = None
            if not to_stdout:
                stem = path.stem if single else f"{path.stem}-{tune.reference}"
                target = out_dir / _unique(f"{stem}.{args.to}", used_names)
                if target.resolve() in inputs:
                    # An input rewritten as clean ABC loses its comments, lyrics and decorations.
                    raise SourceError(f"{target} is one of the inputs; converting {path} would write over it: "
                                      "give --out another folder")
            try:
                tune = _prepare(tune, args)
                if target is None:
                    sys.stdout.write(write_abc(tune, args.bars_per_line) + "\n")
                elif args.to == "abc":
                    write_text_atomically(target, write_abc(tune, args.bars_per_line))
                elif args.to == "mid":
                    from symbolic.midi.writer import write_midi

                    write_midi(tune, target, midi_options)
                else:
                    from symbolic.audio.render import render_tune

                    render_tune(tune, target, midi_options=midi_options)
            except SymbolicError as error:
                _warn(f"skipped {path} X:{tune.reference}: {error}")
                skipped += 1
                continue
            converted += 1
    where = "standard output" if to_stdout else str(out_dir)
    _warn(f"converted {converted} tunes from {len(files)} files to {where}; skipped {skipped}")
    return 0 if converted else EXIT_NOTHING_DONE


def _corpus_build(args: argparse.Namespace) -> int:
    from symbolic.corpus.build import BuildSettings, build_corpus, default_jobs, max_jobs

    jobs = args.jobs or default_jobs()
    if jobs > max_jobs():  # --jobs 1000 once started 1,000 processes
        _warn(f"--jobs {jobs} is more than the {max_jobs()} cores here; using {max_jobs()}")
        jobs = max_jobs()
    settings = BuildSettings(seed=args.seed, valid_fraction=args.valid, test_fraction=args.test, jobs=jobs,
                             bar_countdown=args.bar_countdown, keys_from_finals=args.keys_from_finals,
                             normalise_to=args.normalise_to)
    manifest = build_corpus(args.sources, args.out, settings)
    counts = manifest["counts"]
    print(f"{'source':<28} {'files':>6} {'read':>7} {'skipped':>8} {'dupes':>7} {'kept':>7}")
    for source, c in manifest["per_source"].items():
        kept = sum(c.get(split, 0) for split in ("train", "valid", "test"))
        print(f"{source:<28} {c.get('files', 0):>6} {c.get('read', 0):>7} {c.get('skipped', 0):>8} "
              f"{c.get('duplicates', 0):>7} {kept:>7}")
    print(f"kept {counts['kept']} tunes ({counts['train']} train, {counts['valid']} valid, {counts['test']} test), "
          f"{counts['tokens']} tokens, vocabulary of {manifest['vocabulary']['size']}, "
          f"in {manifest['build_seconds']} s -> {args.out}")
    return 0 if counts["kept"] else EXIT_NOTHING_DONE


def _corpus_stats(args: argparse.Namespace) -> int:
    import statistics

    from symbolic.corpus.stats import corpus_stats, plot_stats

    stats = corpus_stats(args.folder)
    for split, figures in stats["splits"].items():
        print(f"{split:<6} {figures['tunes']:>7} tunes {figures['tokens']:>10} tokens")
    lengths = stats["lengths"]
    if lengths:
        print(f"tokens per tune: min {min(lengths)}, median {statistics.median(lengths):g}, max {max(lengths)}")
    for name in ("meters", "modes", "types"):
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in stats[name].most_common(12)))
    if args.plot:
        for path in plot_stats(stats, args.folder):
            print(f"wrote {path}")
    return 0


LONG_INPUT_BYTES = 1_000_000  # an ABC file this long gets a progress bar of its own, tune by tune


def _tune_stream(path: Path, args: argparse.Namespace) -> tuple[Iterator[Tune | SymbolicError], bool]:
    """A file's tunes and its errors per tune, in file order, read tune by tune (a long tunebook
    is never held whole), and whether the file holds exactly one tune."""
    import itertools

    from symbolic.corpus.sources import ABC_SUFFIXES

    if path.suffix.lower() not in ABC_SUFFIXES:
        tunes, errors = _read_tunes(path, args)
        return iter([*errors, *tunes]), len(tunes) == 1
    from tqdm import tqdm

    from symbolic.abc.reader import iter_abc_file

    items: Iterator[Tune | SymbolicError] = iter_abc_file(path)
    if path.stat().st_size > LONG_INPUT_BYTES:
        items = iter(tqdm(items, desc=path.name, unit="tune", leave=False, disable=None, file=sys.stderr))
    head: list[Tune | SymbolicError] = []
    for item in items:  # look ahead to a second tune, to name a one-tune file's output after it
        head.append(item)
        if sum(not isinstance(x, SymbolicError) for x in head) > 1:
            break
    if not head:  # an empty or binary file: say so, not nothing
        from symbolic.corpus.build import no_tune_reason
        from symbolic.corpus.sources import SourceError

        return iter([SourceError(f"{path}: {no_tune_reason(path)}")]), False
    single = sum(not isinstance(x, SymbolicError) for x in head) == 1
    return itertools.chain(head, items), single


def _read_tunes(path: Path, args: argparse.Namespace) -> tuple[list[Tune], list[SymbolicError]]:
    """The tunes of an ABC or MIDI file and an error per tune that could not be read (a MIDI
    file is one tune)."""
    from symbolic.abc.reader import read_abc_file
    from symbolic.corpus.sources import ABC_SUFFIXES
    from symbolic.midi.reader import read_midi

    if path.suffix.lower() in ABC_SUFFIXES:
        book = read_abc_file(path)
        if not book.tunes and not book.errors:  # an empty or binary file: say so, not nothing
            from symbolic.corpus.build import no_tune_reason
            from symbolic.corpus.sources import SourceError

            return [], [SourceError(f"{path}: {no_tune_reason(path)}")]
        return book.tunes, list(book.errors)
    try:
        tune, report = read_midi(path, track=args.track, program=args.program)
    except SymbolicError as error:
        return [], [error]
    if report.estimated:
        _warn(f"{path}: {' and '.join(report.estimated)} estimated from the notes")
    if report.max_shift:
        _warn(f"{path}: quantising moved notes by {float(report.mean_shift):.3f} quarter notes on average "
              f"(at most {float(report.max_shift):.3f})")
    return [tune], []


def _unique(name: str, used: set[str]) -> str:
    """`name`, or `name` with -2, -3... before the suffix when a tunebook repeats an X: number."""
    candidate, n = name, 1
    stem, _, suffix = name.rpartition(".")
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}.{suffix}"
    used.add(candidate)
    return candidate


# Commands whose NumPy work is many small matrix products (one per sampled token): with BLAS
# threads fighting over two busy cores a batch of 64 tunes sampled 20 times slower.
SINGLE_THREAD_BLAS = ("generate", "evaluate", "serve")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in SINGLE_THREAD_BLAS and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        return int(args.handler(args))
    except SymbolicError as error:
        _warn(f"error: {error}")
        return EXIT_USAGE
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""  # never an empty "error: : ..."
        _warn(f"error: {where}{error.strerror or error}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _warn("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
