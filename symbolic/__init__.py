"""symbolic: learns folk music from ABC and MIDI corpora and writes new tunes.

The core type is `Tune`; readers produce it, writers consume it. Heavy backends (TensorFlow,
FluidSynth) are imported only by the modules that need them.
"""

from symbolic.abc.reader import TunebookResult, iter_abc, read_abc, read_abc_file, read_tune
from symbolic.abc.writer import write_abc, write_abc_tunebook
from symbolic.errors import AbcSyntaxError, MidiReadError, SymbolicError
from symbolic.transpose import transpose, transpose_to
from symbolic.tune import Bar, ChordSymbol, Key, KeyChange, Meter, MeterChange, Note, PartMark, Tempo, Tune

__all__ = [
    "AbcSyntaxError", "Bar", "ChordSymbol", "Key", "KeyChange", "Meter", "MeterChange", "MidiReadError", "Note",
    "PartMark", "SymbolicError", "Tempo", "Tune", "TunebookResult", "iter_abc", "read_abc", "read_abc_file", "read_tune",
    "transpose", "transpose_to", "write_abc", "write_abc_tunebook",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # `symbolic.generate(...)` for notebooks, imported on first use: generation pulls in NumPy,
    # which the command line must not load before it has chosen its BLAS threads.
    if name == "generate":
        from symbolic.generation.generate import generate

        return generate
    raise AttributeError(f"module 'symbolic' has no attribute {name!r}")
