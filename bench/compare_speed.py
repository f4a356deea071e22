"""`synthgen compare` on 1,000 images of 20 objects each, boxes and masks, as a user types it.

    .venv/bin/python bench/compare_speed.py [--images 1000] [--objects 20]

Writes a truth dataset (frames/*.json as `synthgen render` writes them, 640x480,
each object a random rectangle or ellipse with its exact RLE mask) and a human
COCO export of it with known noise (boxes jittered, masks shifted a pixel, 5% of
objects missed, 2% relabelled). Times the command as typed, start-up and reading
both sides included, against the baseline of the same script running pycocotools'
COCOeval (bbox and segm) on the same two COCO files, which is the least anyone
comparing two COCO sets pays. Prints both times and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel, dumps_frame  # noqa: E402

WIDTH, HEIGHT = 640, 480
CATEGORIES = ("car", "pedestrian", "cyclist", "truck")


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def _shape(rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    w, h = rng.integers(12, 160, size=2)
    x, y = rng.integers(0, WIDTH - w), rng.integers(0, HEIGHT - h)
    if rng.random() < 0.5:
        mask[y:y + h, x:x + w] = True
    else:
        yy, xx = np.ogrid[:HEIGHT, :WIDTH]
        mask[((xx - x - w / 2) / (w / 2)) ** 2 + ((yy - y - h / 2) / (h / 2)) ** 2 <= 1] = True
    return mask


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)


def build(root: Path, images: int, objects: int) -> None:
    """The truth as `synthgen render` lays it out, and a noisy human COCO export beside it."""
    truth, human = root / "truth", root / "human"
    for folder in (truth / "frames", truth / "images", human / "annotations"):
        folder.mkdir(parents=True)
    blank = truth / "images" / "blank.png"
    Image.fromarray(np.full((HEIGHT, WIDTH, 3), 90, np.uint8)).save(blank)
    K = np.array([[500.0, 0, WIDTH / 2], [0, 500.0, HEIGHT / 2], [0, 0, 1]])
    coco_images, annotations = [], []
    for index in range(images):
        rng = np.random.default_rng(index)
        name = f"images/{index:06d}.png"
        os.link(blank, truth / name)
        instances = []
        for k in range(1, objects + 1):
            mask = _shape(rng)
            category = int(rng.integers(len(CATEGORIES)))
            box = _box(mask)
            instances.append(InstanceLabel(k, CATEGORIES[category], category + 1, box, box, box, int(mask.sum()),
                                           float(rng.uniform(0.1, 1.0)), 0.0, mask_rle=_rle(mask)))
            if rng.random() < 0.05:
                continue  # missed
            label = category + 1 if rng.random() >= 0.02 else (category + 1) % len(CATEGORIES) + 1
            drawn = np.roll(mask, int(rng.integers(-1, 2)), axis=1)
            jitter = rng.normal(0.0, 1.5, size=4)
            annotations.append({"id": len(annotations) + 1, "image_id": index, "category_id": label,
                                "bbox": [box[0] + jitter[0], box[1] + jitter[1], box[2] + jitter[2],
                                         box[3] + jitter[3]], "area": int(drawn.sum()),
                                "segmentation": _rle(drawn), "iscrowd": 0})
        frame = FrameLabels(index, name, CameraLabel(WIDTH, HEIGHT, K, np.eye(4)), tuple(instances), CATEGORIES)
        (truth / "frames" / f"{index:06d}.json").write_text(dumps_frame(frame))
        coco_images.append({"id": index, "file_name": name, "width": WIDTH, "height": HEIGHT})
    (human / "images").symlink_to(truth / "images")
    categories = [{"id": k + 1, "name": n} for k, n in enumerate(CATEGORIES)]
    (human / "annotations" / "instances.json").write_text(json.dumps(
        {"images": coco_images, "annotations": annotations, "categories": categories}))
    subprocess.run([str(REPO / ".venv" / "bin" / "synthgen"), "export", str(truth), "--format", "coco",
                    "--out", str(root / "truth_export")], check=True, capture_output=True)


def cocoeval_baseline(truth_json: Path, human_json: Path) -> None:
    """pycocotools alone: load both files, evaluate bbox and segm."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(truth_json))
        results = json.loads(human_json.read_text())["annotations"]
        for r in results:
            r["score"] = 1.0
        for kind in ("bbox", "segm"):
            evaluation = COCOeval(truth, truth.loadRes([dict(r) for r in results]), kind)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        build(root, args.images, args.objects)
        print(f"built {args.images} images x {args.objects} objects in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        cocoeval_baseline(next((root / "truth_export").rglob("instances.json")),
                          root / "human" / "annotations" / "instances.json")
        baseline = time.perf_counter() - start
        command = [str(REPO / ".venv" / "bin" / "synthgen"), "compare", "--truth", str(root / "truth"),
                   "--labels", str(root / "human"), "--from", "coco", "--out", str(root / "report")]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        ours = time.perf_counter() - start
        overall = json.loads((root / "report" / "report.json").read_text())["annotators"]["human"]["overall"]
        print(f"synthgen compare: {ours:.1f} s ({overall['truth']} true, {overall['labels']} human objects, "
              f"recall {overall['recall']}, mean IoU {overall['iou']['mean']})")
        print(f"COCOeval bbox + segm on the same files: {baseline:.1f} s")
        print(f"ratio compare / COCOeval: {ours / baseline:.2f}")


if __name__ == "__main__":
    main()
