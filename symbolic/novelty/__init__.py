"""Novelty: how near a tune is to the tunes a model learned from. `index` holds the melody
similarity and the index a model folder carries (generation resamples copies with it); `copies`
measures a set of samples against the training tunes for evaluation (nearest tune, copied bars)."""
