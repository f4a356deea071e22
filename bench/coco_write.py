"""COCO writing stays linear in the number of frames.

    .venv/bin/python bench/coco_write.py [--sizes 1000 2000 4000 8000]

Renders two real frames of scenes/minimal.yaml, copies their frame JSON to make
datasets of N frames, and times synthgen's streaming COCO writer (one pass at the
end of a run) against the pattern of rewriting the whole COCO file after every
frame (what BlenderProc's writer does), at each N. Prints milliseconds per frame:
flat for synthgen, growing with N for the rewrite pattern.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthgen.dataset.coco import write_instances  # noqa: E402
from synthgen.dataset.layout import Layout  # noqa: E402
from synthgen.labels.model import dumps_frame, frame_from_json  # noqa: E402


def make_dataset(source: Path, root: Path, frames: int) -> Layout:
    templates = [json.loads(p.read_text()) for p in sorted((source / "frames").glob("*.json"))]
    layout = Layout(root)
    (root / "frames").mkdir(parents=True)
    for i in range(frames):
        data = dict(templates[i % len(templates)], frame=i, image=f"images/{i:06d}.png")
        layout.path("frame", i).write_text(dumps_frame(frame_from_json(data)))
    return layout


def rewrite_every_frame(layout: Layout, categories: list[str], out: Path, frames: int) -> None:
    """The quadratic pattern: after each frame, dump everything gathered so far."""
    images, annotations = [], []
    for frame in layout.read_frames():
        images.append({"id": frame.frame_index, "file_name": frame.image})
        for instance in frame.instances:
            if instance.bbox is not None:
                annotations.append({"id": len(annotations) + 1, "image_id": frame.frame_index,
                                    "category_id": instance.category_id, "bbox": list(instance.bbox),
                                    "area": instance.visible_pixels, "segmentation": instance.mask_rle})
        out.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--rewrite-max", type=int, default=2000, help="largest N for the quadratic pattern")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        subprocess.run([sys.executable, "-m", "synthgen.cli", "render", str(REPO / "scenes" / "minimal.yaml"),
                        "--out", str(source), "-n", "2", "--no-progress"], check=True, capture_output=True)
        categories = json.loads((source / "synthgen.json").read_text())["categories"]
        print("ms per frame to write COCO instances (N frames):")
        print(f"{'N':>8} {'synthgen':>10} {'rewrite each frame':>20}")
        for n in args.sizes:
            layout = make_dataset(source, Path(tmp) / f"d{n}", n)
            started = time.perf_counter()
            write_instances(layout.read_frames(), categories, layout.root / "instances.json")
            ours = (time.perf_counter() - started) / n * 1000
            rewrite = "-"
            if n <= args.rewrite_max:
                started = time.perf_counter()
                rewrite_every_frame(layout, categories, layout.root / "rewritten.json", n)
                rewrite = f"{(time.perf_counter() - started) / n * 1000:.2f}"
            print(f"{n:>8} {ours:>10.3f} {rewrite:>20}")


if __name__ == "__main__":
    main()
