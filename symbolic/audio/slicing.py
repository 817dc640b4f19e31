"""Cut a WAV into pieces: at its silences, or every N seconds. Pieces are numbered WAVs written
atomically, with a CSV of where each one starts and ends in the input.

On-silence splitting means what pydub's `split_on_silence` means (the same parameters, in
milliseconds and dBFS, and the same ranges: a differential test holds us to it), but the quiet
stretches are found over NumPy arrays: the energy of each millisecond is summed once, and every
window's RMS comes from a cumulative sum, instead of pydub slicing and measuring each window
anew. A minute of audio takes milliseconds instead of seconds, even at a 1 ms seek step.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symbolic.atomic import write_atomically, write_text_atomically
from symbolic.errors import SymbolicError

BLOCK_MS = 60_000  # energy is summed a minute at a time, so a long file needs little memory
MIN_EVERY_SECONDS = 0.1  # --every 0.00001 once wrote 193,786 files in a minute
MAX_PIECES = 10_000  # more pieces than this is a mistake in the settings, not a recording
LAST_CHUNK = ("keep", "drop", "pad")


class SliceError(SymbolicError):
    """A WAV that cannot be read, or slicing settings that make no sense."""


@dataclass(frozen=True)
class Audio:
    """Samples as read (frames x channels, the file's dtype) and their rate."""

    samples: np.ndarray
    rate: int

    @property
    def length_ms(self) -> int:
        return round(1000 * len(self.samples) / self.rate)  # as pydub's len()

    @property
    def full_scale(self) -> float:
        """The largest possible amplitude: the 0 dBFS that thresholds are relative to."""
        kind = self.samples.dtype
        if kind.kind == "f":
            return 1.0
        return float(2 ** (8 * kind.itemsize - 1))

    def frame(self, ms: int) -> int:
        """pydub's frame index for a millisecond position."""
        return min(int(ms * (self.rate / 1000.0)), len(self.samples))


@dataclass(frozen=True)
class Piece:
    path: Path
    start_s: float
    end_s: float


def read_wav(path: str | Path) -> Audio:
    """A WAV as Audio; raises SliceError for a missing or unreadable file."""
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # scipy warns of chunks it skips (LIST, fact...): harmless
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except FileNotFoundError:
        raise SliceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SliceError(f"{path}: a folder, not a WAV file") from None
    # scipy's parser meets malformed headers with struct.error, UnboundLocalError and the like as
    # well as ValueError: any failure to parse the file is a bad file, not a bug of ours.
    except Exception as error:
        raise SliceError(f"{path}: not a readable WAV file ({type(error).__name__}: {error})"[:300]) from None
    if len(data) == 0:  # checked first: an empty array cannot be reshaped to frames x channels
        raise SliceError(f"{path}: the WAV holds no audio (a header and no frames)")
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned around 128; pieces are written as 16-bit
        data = (data.astype(np.int16) - 128) * 256
    samples = data.reshape(len(data), -1)
    return Audio(samples, int(rate))


def silent_ranges(audio: Audio, min_silence_ms: int = 1000, threshold_dbfs: float = -16.0,
                  seek_step_ms: int = 1) -> list[tuple[int, int]]:
    """pydub's `detect_silence`: [start, end) milliseconds of every stretch whose windows of
    `min_silence_ms` have an RMS at or below `threshold_dbfs`."""
    length = audio.length_ms
    if length < min_silence_ms:
        return []
    energy = _cumulative_energy(audio, length)
    last_start = length - min_silence_ms
    starts = np.arange(0, last_start + 1, seek_step_ms)
    if last_start % seek_step_ms:
        starts = np.append(starts, last_start)
    frames = _ms_frames(audio, length)
    ends = starts + min_silence_ms
    # pydub pads a slice running past the end with zeros, so count the frames it asked for.
    asked = (ends * (audio.rate / 1000.0)).astype(np.int64) - frames[starts]
    sums = energy[ends] - energy[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(np.where(asked > 0, sums / (asked * audio.samples.shape[1]), 0.0))
    if audio.samples.dtype.kind != "f":
        # pydub's audioop.rms is a whole number for integer samples; float samples (full scale
        # 1.0) must keep their fractions, or every window of them floors to silence.
        rms = np.floor(rms)
    threshold = 10 ** (threshold_dbfs / 20) * audio.full_scale
    silent = starts[rms <= threshold]
    if silent.size == 0:
        return []
    # A new stretch begins only where a window is neither the next step nor overlapping the last.
    gaps = np.diff(silent)
    breaks = np.nonzero((gaps != seek_step_ms) & (gaps > min_silence_ms))[0]
    begins = np.concatenate(([silent[0]], silent[breaks + 1]))
    finishes = np.concatenate((silent[breaks], [silent[-1]])) + min_silence_ms
    return [(int(b), int(f)) for b, f in zip(begins, finishes, strict=True)]


def _ms_frames(audio: Audio, length: int) -> np.ndarray:
    """frames[k]: pydub's frame index of millisecond k, for k in 0..length."""
    return np.minimum((np.arange(length + 1) * (audio.rate / 1000.0)).astype(np.int64), len(audio.samples))


def _cumulative_energy(audio: Audio, length: int) -> np.ndarray:
    """energy[k]: sum of squared samples (all channels) of the frames before millisecond k."""
    frames = _ms_frames(audio, length)
    per_ms = np.zeros(length, dtype=np.float64)
    for block in range(0, length, BLOCK_MS):
        stop = min(block + BLOCK_MS, length)
        chunk = audio.samples[frames[block]:frames[stop]].astype(np.float64)
        squares = np.square(chunk).sum(axis=1)
        bounds = frames[block:stop] - frames[block]
        if squares.size:
            # reduceat sums from each bound to the next, but gives an empty millisecond (past
            # the last frame, as pydub's rounded length allows) its neighbour's value: zero those.
            sums = np.add.reduceat(squares, np.minimum(bounds, len(squares) - 1))
            sums[np.diff(np.append(bounds, len(squares))) == 0] = 0.0
            per_ms[block:stop] = sums
    return np.concatenate(([0.0], np.cumsum(per_ms)))


def nonsilent_ranges(audio: Audio, min_silence_ms: int = 1000, threshold_dbfs: float = -16.0,
                     seek_step_ms: int = 1) -> list[tuple[int, int]]:
    """pydub's `detect_nonsilent`: the stretches between the silent ones, in milliseconds."""
    silences = silent_ranges(audio, min_silence_ms, threshold_dbfs, seek_step_ms)
    length = audio.length_ms
    if not silences:
        return [(0, length)]
    if silences[0] == (0, length):
        return []
    found, previous_end = [], 0
    for start, end in silences:
        found.append((previous_end, start))
        previous_end = end
    if previous_end != length:
        found.append((previous_end, length))
    return [r for r in found if r != (0, 0)]


def split_ranges(audio: Audio, min_silence_ms: int = 1000, threshold_dbfs: float = -16.0,
                 keep_silence_ms: int = 100, seek_step_ms: int = 1) -> list[tuple[int, int]]:
    """pydub's `split_on_silence` as millisecond ranges: each sounding stretch with up to
    `keep_silence_ms` of silence either side, a shorter silence shared at its middle."""
    ranges = [[s - keep_silence_ms, e + keep_silence_ms]
              for s, e in nonsilent_ranges(audio, min_silence_ms, threshold_dbfs, seek_step_ms)]
    for before, after in zip(ranges, ranges[1:], strict=False):
        if after[0] < before[1]:
            before[1] = after[0] = (before[1] + after[0]) // 2
    return [(max(s, 0), min(e, audio.length_ms)) for s, e in ranges]


def split_on_silence(path: str | Path, out_dir: str | Path, *, min_silence_ms: int = 1000,
                     threshold_dbfs: float = -40.0, keep_silence_ms: int = 100,
                     seek_step_ms: int = 1) -> list[Piece]:
    """Write each sounding stretch of the WAV at `path` as its own numbered WAV in `out_dir`."""
    if min_silence_ms <= 0 or seek_step_ms <= 0 or keep_silence_ms < 0:
        raise SliceError("--min-silence-ms and --seek-step must be positive, --keep-silence-ms not negative")
    audio = read_wav(path)
    ranges = split_ranges(audio, min_silence_ms, threshold_dbfs, keep_silence_ms, seek_step_ms)
    spans = [(audio.frame(s), audio.frame(e)) for s, e in ranges]
    return _write_pieces(audio, [s for s in spans if s[1] > s[0]], Path(path), Path(out_dir))


def split_every(path: str | Path, out_dir: str | Path, seconds: float, last: str = "keep") -> list[Piece]:
    """Write the WAV at `path` as pieces of `seconds` each; the last shorter one is kept,
    dropped, or padded with silence to full length (`last`)."""
    if not seconds >= MIN_EVERY_SECONDS or not math.isfinite(seconds):
        raise SliceError(f"--every must be at least {MIN_EVERY_SECONDS} seconds, not {seconds}")
    if last not in LAST_CHUNK:
        raise SliceError(f"last chunk must be one of {', '.join(LAST_CHUNK)}, not {last!r}")
    audio = read_wav(path)
    size = max(1, round(seconds * audio.rate))
    total = len(audio.samples)
    spans = [(start, min(start + size, total)) for start in range(0, total, size)]
    if spans and spans[-1][1] - spans[-1][0] < size:
        if last == "drop":
            spans.pop()
        elif last == "pad":
            start = spans[-1][0]
            pad = np.zeros((start + size - total, audio.samples.shape[1]), dtype=audio.samples.dtype)
            audio = Audio(np.concatenate((audio.samples, pad)), audio.rate)
            spans[-1] = (start, start + size)
    return _write_pieces(audio, spans, Path(path), Path(out_dir))


def _write_pieces(audio: Audio, spans: list[tuple[int, int]], source: Path, out_dir: Path) -> list[Piece]:
    from scipy.io import wavfile

    if len(spans) > MAX_PIECES:
        raise SliceError(f"{source}: these settings cut {len(spans):,} pieces, more than the limit of "
                         f"{MAX_PIECES:,}; choose longer pieces")
    width = max(3, len(str(len(spans))))
    pieces: list[Piece] = []
    for number, (start, end) in enumerate(spans, 1):
        target = out_dir / f"{source.stem}-{number:0{width}d}.wav"
        data = audio.samples[start:end]
        data = data[:, 0] if data.shape[1] == 1 else data
        write_atomically(target, lambda temp, data=data: wavfile.write(temp, audio.rate, data))
        pieces.append(Piece(target, start / audio.rate, end / audio.rate))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "start_s", "end_s"])
    for piece in pieces:
        writer.writerow([piece.path.name, f"{piece.start_s:.3f}", f"{piece.end_s:.3f}"])
    write_text_atomically(out_dir / f"{source.stem}.csv", text.getvalue())
    return pieces
