"""Audio: FluidSynth rendering, soundfont search, and slicing WAVs into pieces."""
