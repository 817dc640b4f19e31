"""The tune as played: repeats unfolded, and the accompaniment a session player would add."""
