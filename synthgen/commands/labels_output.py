"""What `export`, `convert` and `merge` do between reading labels and writing them: map the labels onto
--taxonomy, and make --out ready. One implementation, so the three commands print, refuse a non-empty
folder and clean up after a failed write alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synthgen.labels.labelset import LabelSet


def mapped_to_taxonomy(label_sets: list[LabelSet], taxonomy: str | None) -> list[LabelSet]:
    """Each label set mapped onto the --taxonomy file (read once), or unchanged without one. What the mapping
    dropped is printed once every set is mapped, so a set that fails to map prints nothing."""
    if not taxonomy:
        return label_sets
    from synthgen.formats.taxonomy import apply_taxonomy, load_taxonomy

    target = load_taxonomy(Path(taxonomy))
    results = [apply_taxonomy(labels, target) for labels in label_sets]
    for _, note in results:
        if note:
            print(note)
    return [labels for labels, _ in results]


@contextmanager
def output_folder(out: str, overwrite: bool, managed: list[str]) -> Iterator[Path]:
    """--out, ready for writing: a non-empty folder is refused unless --overwrite, which removes the `managed`
    entries first; a folder that did not exist or was empty is left that way if the write fails."""
    from synthgen.io.outdir import output_mode, prepare_output_dir, removed_on_failure

    path = Path(out)
    with removed_on_failure(path):
        prepare_output_dir(path, output_mode(overwrite, resume=False), managed, resumable=False)
        yield path
