"""The audio sub-commands of `symbolic`: render, soundfonts and audio split.

`register(commands)` adds them to the CLI's sub-parsers; each sets `handler`, which takes the
parsed arguments and returns the exit status (SymbolicError is left to the CLI's main to print).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from symbolic.errors import SymbolicError

EXIT_NOTHING_DONE = 1


def register(commands: Any) -> None:
    """Add `render`, `soundfonts` and `audio split` to an argparse sub-parsers object."""
    _add_render(commands)
    _add_soundfonts(commands)
    _add_slice(commands)


def _add_render(commands: Any) -> None:
    render = commands.add_parser(
        "render", help="render ABC or MIDI to audio (WAV; FLAC, OGG, MP3 with ffmpeg)",
        description=(
            "Render with FluidSynth and a General MIDI soundfont. A MIDI file is rendered with all "
            "its tracks. An ABC file of one tune is written to --out; a tunebook writes every tune "
            "as <stem>-<X><suffix> beside --out (or only tune X with --tune X). The format follows "
            "the suffix of --out: .wav, .flac, .ogg, .mp3."
        ),
    )
    render.add_argument("input", metavar="IN", help="an .abc or .mid file")
    render.add_argument("--out", required=True, metavar="OUT", help="the audio file to write, e.g. tune.wav")
    render.add_argument("--tune", type=int, metavar="X", help="ABC tunebook: render only the tune with X:X")
    render.add_argument("--soundfont", metavar="SF2", help="soundfont file (default: see `symbolic soundfonts`)")
    render.add_argument("--instrument", metavar="NAME", help="folk instrument, e.g. fiddle, flute, 'tin whistle'")
    render.add_argument("--tempo", type=_positive_float, metavar="BPM", help="quarter notes a minute")
    render.add_argument("--sample-rate", type=int, default=44_100, metavar="HZ", help="default 44100")
    render.add_argument("--mono", action="store_true", help="one channel instead of stereo")
    render.add_argument("--fade-in", type=int, default=10, metavar="MS", help="default 10 ms")
    render.add_argument("--fade-out", type=int, default=500, metavar="MS", help="default 500 ms")
    render.add_argument("--normalize", type=float, default=-1.0, metavar="DBFS", help="peak level, default -1 dBFS")
    render.add_argument("--reverb", action=argparse.BooleanOptionalAction, default=True,
                        help="a small room's reverb and a light chorus (default on)")
    render.set_defaults(handler=_render)


def _add_soundfonts(commands: Any) -> None:
    soundfonts = commands.add_parser(
        "soundfonts", help="list the soundfonts found, the one used, and the instruments each covers",
        description=("Search order: --soundfont, $SYMBOLIC_SOUNDFONT, system General MIDI soundfonts "
                     "(FluidR3_GM, TimGM6mb, MuseScore_General), then the TimGM6mb.sf2 inside pretty_midi."),
    )
    soundfonts.add_argument("--soundfont", metavar="SF2", help="also consider this file, first")
    soundfonts.set_defaults(handler=_soundfonts)


def _add_slice(commands: Any) -> None:
    audio = commands.add_parser("audio", help="work on audio files: split a recording into pieces")
    actions = audio.add_subparsers(dest="audio_command", metavar="ACTION", required=True)
    cut = actions.add_parser(
        "split", help="cut a WAV into pieces at its silences or every N seconds",
        description=("Write <stem>-001.wav, <stem>-002.wav ... and <stem>.csv (file, start_s, end_s) into "
                     "--out. --silence keeps the meaning of pydub's split_on_silence parameters."),
    )
    cut.add_argument("input", metavar="IN.wav")
    cut.add_argument("--out", required=True, metavar="DIR", help="folder for the pieces")
    how = cut.add_mutually_exclusive_group(required=True)
    how.add_argument("--silence", dest="on_silence", action="store_true", help="cut where it is quiet")
    how.add_argument("--every", type=_positive_float, metavar="SECONDS", help="cut into pieces of this length")
    cut.add_argument("--min-silence-ms", dest="min_silence", type=int, default=1000, metavar="N",
                     help="shortest quiet stretch that cuts (default 1000 ms)")
    cut.add_argument("--silence-thresh-db", dest="threshold", type=float, default=-40.0, metavar="X",
                     help="quieter than this is silence (default -40 dBFS; pydub's -16 would cut quiet music)")
    cut.add_argument("--keep-silence-ms", dest="keep_silence", type=int, default=100, metavar="N",
                     help="silence kept either side of a piece (default 100 ms)")
    cut.add_argument("--seek-step", type=int, default=1, metavar="MS", help="window step (default 1 ms)")
    cut.add_argument("--last", choices=("keep", "drop", "pad"), default="keep",
                     help="--every: keep the shorter last piece, drop it, or pad it with silence")
    cut.set_defaults(handler=_slice)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def _say(message: str) -> None:
    print(f"symbolic: {message}", file=sys.stderr)


# ---------------------------------------------------------------- handlers


def _render(args: argparse.Namespace) -> int:
    from symbolic.audio.render import RenderOptions, render_midi_file, render_tune
    from symbolic.corpus.sources import ABC_SUFFIXES, MIDI_SUFFIXES, SourceError

    options = RenderOptions(soundfont=args.soundfont, instrument=args.instrument, tempo_qpm=args.tempo,
                            sample_rate=args.sample_rate, channels=1 if args.mono else 2,
                            fade_in_ms=args.fade_in, fade_out_ms=args.fade_out,
                            normalize_dbfs=args.normalize, reverb=args.reverb)
    source, out = Path(args.input), Path(args.out)
    suffix = source.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        _say(f"wrote {render_midi_file(source, out, options)}")
        return 0
    if suffix not in ABC_SUFFIXES:
        raise SourceError(f"{source}: cannot render a {suffix or 'suffix-less'} file; give an .abc or .mid file")
    written = 0
    for tune, target in _abc_targets(source, out, args.tune):
        try:
            render_tune(tune, target, options)
        except SymbolicError as error:
            if args.tune is not None or _is_fatal(error):
                raise
            _say(f"skipped {source} X:{tune.reference}: {error}")
            continue
        _say(f"wrote {target}")
        written += 1
    return 0 if written else EXIT_NOTHING_DONE


def _is_fatal(error: SymbolicError) -> bool:
    """Errors that would fail every tune the same way (no FluidSynth, bad soundfont or
    instrument, no ffmpeg, bad options) stop at once instead of repeating per tune."""
    from symbolic.audio.render import RenderError
    from symbolic.audio.soundfonts import SoundfontError
    from symbolic.instruments import UnknownInstrumentError

    return isinstance(error, RenderError | SoundfontError | UnknownInstrumentError)


def _abc_targets(source: Path, out: Path, wanted: int | None) -> list[tuple[Any, Path]]:
    """(tune, output path) for each tune to render: one tune -> `out`; a tunebook -> `<stem>-<X>`."""
    from symbolic.abc.reader import read_abc_file
    from symbolic.corpus.sources import SourceError

    book = read_abc_file(source)
    for error in book.errors:
        _say(f"skipped {error}")
    tunes = book.tunes
    if wanted is not None:
        tunes = [t for t in tunes if t.reference == wanted]
        if not tunes:
            raise SourceError(f"{source}: no readable tune X:{wanted}")
        return [(tunes[0], out)]
    if not tunes:
        raise SourceError(f"{source}: no readable tune")
    if len(tunes) == 1:
        return [(tunes[0], out)]
    used: set[str] = set()
    targets = []
    for tune in tunes:
        name, n = f"{out.stem}-{tune.reference}", 1
        while name in used:  # a tunebook may repeat an X: number
            n += 1
            name = f"{out.stem}-{tune.reference}-{n}"
        used.add(name)
        targets.append((tune, out.with_name(name + out.suffix)))
    return targets


def _soundfonts(args: argparse.Namespace) -> int:
    from symbolic.audio.soundfonts import ENV_VAR, SoundfontError, find_soundfont, list_soundfonts
    from symbolic.instruments import instrument, known_instruments, preset_for

    try:
        chosen: Path | None = find_soundfont(args.soundfont)
    except SoundfontError as error:
        chosen = None
        print(f"no usable soundfont: {error}")
    infos = list_soundfonts(args.soundfont)
    print(f"search order: --soundfont, ${ENV_VAR}, system, pretty_midi ({len(infos)} found)")
    for info in infos:
        mark = "*" if chosen is not None and info.path == chosen else " "
        if info.error:
            print(f"{mark} {info.path} [{info.origin}] unusable: {info.error}")
            continue
        used = "  <- used" if mark == "*" else ""
        print(f"{mark} {info.path} [{info.origin}] {len(info.presets)} presets{used}")
        covered = info.covered
        names = [f"{name} ({info.presets[preset_for(instrument(name), info.path)]})" for name in covered]
        print(f"    covers {len(covered)} of {len(known_instruments())}: {', '.join(names)}")
        missing = [name for name in known_instruments() if name not in covered]
        if missing:
            print(f"    missing: {', '.join(missing)}")
    return 0 if chosen is not None else EXIT_NOTHING_DONE


def _slice(args: argparse.Namespace) -> int:
    from symbolic.audio.slicing import split_every, split_on_silence

    if args.on_silence:
        pieces = split_on_silence(args.input, args.out, min_silence_ms=args.min_silence,
                                  threshold_dbfs=args.threshold, keep_silence_ms=args.keep_silence,
                                  seek_step_ms=args.seek_step)
    else:
        pieces = split_every(args.input, args.out, args.every, last=args.last)
    _say(f"wrote {len(pieces)} pieces and {Path(args.input).stem}.csv to {args.out}")
    return 0 if pieces else EXIT_NOTHING_DONE
