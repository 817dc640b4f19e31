"""Standard MIDI files in and out (pretty_midi)."""
