"""`synthgen report` on a large dataset: the statistics must not decode masks or open images.

    .venv/bin/python bench/report_speed.py [--frames 10000] [--objects 12]

Writes a rendered-dataset directory of N frames at 640x480 (frames/*.json as
`synthgen render` writes them, each instance with a tight and amodal box,
visibility, truncation, a 3D box and a COCO RLE mask; every frame's image a hard
link to one PNG), then times `synthgen report` as typed, in a fresh process,
start-up included: on the dataset alone, and with `--compare` against itself
(twice the frames, every plot drawn for two). Prints seconds per run and per
thousand frames.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthgen.labels.model import Box3D, CameraLabel, FrameLabels, InstanceLabel, dumps_frame  # noqa: E402
from synthgen.viz.images import encode_png  # noqa: E402

WIDTH, HEIGHT = 640, 480
CATEGORIES = ("car", "person", "bicycle", "sign", "cube", "ball")


def rectangle_rle(x: int, y: int, w: int, h: int) -> dict:
    """COCO RLE of a filled rectangle, built from its column-major runs (no full-size mask)."""
    from pycocotools import mask as cocomask

    counts = [x * HEIGHT + y]
    for _ in range(w - 1):
        counts += [h, HEIGHT - h]
    counts += [h, HEIGHT - y - h + (WIDTH - x - w) * HEIGHT]
    rle = cocomask.frPyObjects({"size": [HEIGHT, WIDTH], "counts": counts}, HEIGHT, WIDTH)
    return {"size": [HEIGHT, WIDTH], "counts": rle["counts"].decode("ascii")}


def make_frame(index: int, objects: int, rng: np.random.Generator, camera: CameraLabel) -> FrameLabels:
    instances = []
    for k in range(int(rng.integers(max(1, objects // 2), objects * 3 // 2 + 1))):
        w, h = (int(v) for v in np.clip(rng.lognormal(3.5, 0.8, 2), 2, [WIDTH // 2, HEIGHT // 2]))
        x, y = int(rng.integers(0, WIDTH - w)), int(rng.integers(0, HEIGHT - h))
        hidden = rng.random() < 0.1
        category = int(rng.integers(len(CATEGORIES)))
        box = (float(x), float(y), float(w), float(h))
        instances.append(InstanceLabel(
            instance_id=k + 1, category=CATEGORIES[category], category_id=category + 1,
            bbox=None if hidden else box, bbox_amodal=box, bbox_amodal_unclipped=box,
            visible_pixels=0 if hidden else w * h, visibility=0.0 if hidden else float(rng.uniform(0.2, 1.0)),
            truncation=float(rng.choice([0.0, rng.uniform(0, 1)], p=[0.8, 0.2])),
            box3d=Box3D(rng.uniform(-5, 5, 3), rng.uniform(0.2, 2, 3), np.eye(3)),
            mask_rle=None if hidden else rectangle_rle(x, y, w, h)))
    return FrameLabels(index, f"images/{index:06d}.png", camera, tuple(instances), CATEGORIES)


def make_dataset(root: Path, frames: int, objects: int) -> None:
    rng = np.random.default_rng(0)
    (root / "frames").mkdir(parents=True)
    (root / "images").mkdir()
    texture = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    (root / "image.png").write_bytes(encode_png(texture))
    camera = CameraLabel(WIDTH, HEIGHT, np.array([[500.0, 0, WIDTH / 2], [0, 500.0, HEIGHT / 2], [0, 0, 1]]), np.eye(4))
    for i in range(frames):
        os.link(root / "image.png", root / "images" / f"{i:06d}.png")
        (root / "frames" / f"{i:06d}.json").write_text(dumps_frame(make_frame(i, objects, rng, camera)))


def timed(*args: str) -> float:
    synthgen = Path(sys.executable).with_name("synthgen")
    start = time.perf_counter()
    subprocess.run([str(synthgen), *args], check=True, stdout=subprocess.DEVNULL, cwd=REPO)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--objects", type=int, default=12, help="mean instances per frame")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        start = time.perf_counter()
        make_dataset(data, args.frames, args.objects)
        print(f"wrote {args.frames} frames in {time.perf_counter() - start:.1f} s")
        alone = timed("report", str(data), "--out", str(Path(tmp) / "alone"))
        pair = timed("report", str(data), "--compare", str(data), "--out", str(Path(tmp) / "pair"))
        size = (Path(tmp) / "alone" / "report.html").stat().st_size
        thousands = args.frames / 1000
        print(f"synthgen report, {args.frames} frames:            {alone:6.2f} s ({alone / thousands:.2f} s per 1000 frames), "
              f"report.html {size / 1e6:.1f} MB")
        print(f"synthgen report --compare, 2 x {args.frames} frames: {pair:6.2f} s ({pair / thousands / 2:.2f} s per 1000 frames)")


if __name__ == "__main__":
    main()
