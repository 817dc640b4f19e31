"""What a corpus holds: tunes, tokens, meters, modes, tune types and lengths per split, and
histograms of them (`symbolic corpus stats [--plot]`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from symbolic.atomic import write_atomically
from symbolic.corpus.build import SPLITS, iter_split, load_manifest, load_vocabulary
from symbolic.tokens import HEADER_TOKENS, header_values


def corpus_stats(folder: str | Path) -> dict:  # type: ignore[type-arg]
    """Tunes, tokens, meters, modes, tune types and lengths of each split."""
    manifest = load_manifest(folder)
    vocab = load_vocabulary(folder)
    stats: dict = {"splits": {}, "meters": Counter(), "modes": Counter(), "types": Counter(), "lengths": []}  # type: ignore[type-arg]
    for split in SPLITS:
        tunes = tokens = 0
        for _, ids in iter_split(folder, split):
            header = vocab.decode(ids[:HEADER_TOKENS].tolist())
            stats["types"] += Counter(header_values(header, "type"))
            stats["meters"] += Counter(header_values(header, "meter"))
            stats["modes"] += Counter(header_values(header, "mode"))
            stats["lengths"].append(len(ids))
            tunes += 1
            tokens += len(ids)
        stats["splits"][split] = {"tunes": tunes, "tokens": tokens}
    stats["manifest_counts"] = manifest["counts"]
    return stats


def plot_stats(stats: dict, out_dir: str | Path) -> list[Path]:  # type: ignore[type-arg]
    """PNG histograms of lengths, meters, modes and tune types; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    written = []
    charts = [("lengths", "tokens per tune", None)] + [(name, name, stats[name]) for name in ("meters", "modes", "types")]
    for name, label, counter in charts:
        figure, axes = plt.subplots(figsize=(8, 4))
        if counter is None:
            axes.hist(stats["lengths"], bins=50)
        else:
            labels, values = zip(*counter.most_common(20), strict=True) if counter else ((), ())
            axes.bar(labels, values)
            axes.tick_params(axis="x", rotation=45)
        axes.set_title(label)
        figure.tight_layout()
        target = out_dir / f"{name}.png"
        write_atomically(target, lambda temp, figure=figure: figure.savefig(temp, format="png"))
        plt.close(figure)
        written.append(target)
    return written
