"""Write one or more formats from a validated LabelSet, all-or-nothing per format.

Each format is written into a hidden staging directory beside its final place
and renamed into place only when complete, so a failure never leaves half an
export behind. Returns the one-line loss summary per format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from synthgen.formats.frames import count_common_losses
from synthgen.labels.labelset import LabelSet
from synthgen.formats.losses import Losses
from synthgen.formats.registry import FormatSpec
from synthgen.io.gcpause import gc_paused


def write_format(labels: LabelSet, spec: FormatSpec, target: Path) -> str:
    """Write `labels` as `spec` into directory `target` (merged into it if it exists); return the loss line."""
    losses = Losses()
    for what, n in labels.unread.items():  # lost on reading: no format can carry what the model does not hold
        losses.add(what, n)
    count_common_losses(labels, set(spec.holds), losses, set(spec.flags))
    staging = target.parent / f".{target.name}.{spec.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with gc_paused():
            spec.load().write(labels, staging, losses, spec.variant)
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted(staging.iterdir()):
            destination = target / entry.name
            if destination.is_dir():
                shutil.rmtree(destination)
            elif destination.exists():
                destination.unlink()
            entry.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return losses.line(spec.name)
