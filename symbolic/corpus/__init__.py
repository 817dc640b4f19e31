"""Corpora: where tunes come from, and building deduplicated, split, tokenised shards."""
