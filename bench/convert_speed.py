"""COCO to YOLO and COCO to VOC (with masks): synthgen convert against datumaro, in the same run.

    .venv/bin/python bench/convert_speed.py [--images 5000] [--objects 20] [--size 1280x720]

Writes a COCO instances file of N images (640x480 unless --size, placeholder JPEGs hard-linked to
one file) with polygon objects, then times, each in a fresh process, start-up
included, alternating the two tools over --repeat runs:
  synthgen convert IN --from coco --to yolo | voc
  datumaro: Dataset.import_from(IN, "coco_instances") then export as "yolo" | "voc"
(datumaro runs in its own venv, since it needs numpy 2: the one the tests build
under .pytest_cache, or one made here on first use). Prints median wall seconds and their
ratio synthgen / datumaro, median user and system CPU seconds, each run's wall time, and the peak
resident memory (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CATEGORIES = ["car", "person", "bicycle", "truck", "bus"]
DATUMARO = ["datumaro==1.13.12", "label-studio-sdk==2.1.2"]  # the tests' side venv (tests/sidevenv.py)

DATUMARO_SCRIPT = """
import sys
from datumaro.components.dataset import Dataset
source, target, fmt = sys.argv[1:4]
dataset = Dataset.import_from(source, "coco_instances")
dataset.export(target, fmt, save_media=True)
"""


def datumaro_python() -> Path:
    key = hashlib.sha1(" ".join(DATUMARO).encode()).hexdigest()[:12]
    venv = REPO / ".pytest_cache" / "d" / f"formats-venv-{key}"
    python = venv / "bin" / "python"
    if not (venv / "ready").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DATUMARO], check=True)
        (venv / "ready").write_text("\n".join(DATUMARO) + "\n")
    return python


def polygon(rng: np.random.Generator, width: int, height: int) -> tuple[list[float], list[float], float]:
    """A convex-ish polygon of 8-16 vertices around a random centre: (flat xy, bbox, area)."""
    cx, cy = rng.uniform(40, width - 40), rng.uniform(40, height - 40)
    radius = rng.uniform(8, 38)
    angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(8, 17)))
    r = radius * rng.uniform(0.7, 1.0, angles.size)
    xs, ys = cx + r * np.cos(angles), cy + r * np.sin(angles)
    area = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))
    flat = [round(float(v), 2) for pair in zip(xs, ys) for v in pair]
    box = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min()), float(ys.max() - ys.min())]
    return flat, [round(v, 2) for v in box], float(area)


def build(root: Path, images: int, objects: int, width: int = 640, height: int = 480) -> Path:
    """COCO's official layout: annotations/instances_default.json, images/default/ (datumaro's layout too)."""
    folder = root / "images" / "default"
    folder.mkdir(parents=True)
    (root / "annotations").mkdir()
    blank = root / "blank.jpg"
    Image.fromarray(np.full((height, width, 3), 100, np.uint8)).save(blank)
    rng = np.random.default_rng(0)
    records, annotations = [], []
    for index in range(images):
        name = f"{index:06d}.jpg"
        os.link(blank, folder / name)
        records.append({"id": index + 1, "file_name": name, "width": width, "height": height})
        for _ in range(objects):
            flat, box, area = polygon(rng, width, height)
            annotations.append({"id": len(annotations) + 1, "image_id": index + 1,
                                "category_id": int(rng.integers(len(CATEGORIES))) + 1, "segmentation": [flat],
                                "bbox": box, "area": area, "iscrowd": 0})
    document = {"images": records, "annotations": annotations,
                "categories": [{"id": k + 1, "name": n, "supercategory": ""} for k, n in enumerate(CATEGORIES)]}
    (root / "annotations" / "instances_default.json").write_text(json.dumps(document))
    return root


PEAK_WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime, usage.ru_stime)
"""


def timed(command: list[str]) -> tuple[float, float, float, float]:
    """Wall seconds, peak resident memory (MiB), user and system CPU seconds of one command, run under a
    fresh wrapper process so the figures are that command's alone. System time is mostly the file
    system creating files, which both tools do alike and which varies here by several times from run to
    run; user time is each tool's own work."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_WRAPPER, *command], check=True, capture_output=True,
                            text=True)
    peak, user, system = result.stdout.split()[-3:]
    return time.perf_counter() - start, int(peak) / 1024, float(user), float(system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--targets", nargs="+", default=["yolo", "voc"], choices=["yolo", "voc"])
    parser.add_argument("--size", default="640x480", help="image size WIDTHxHEIGHT (users run 640x480 and 1280x720)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each tool, alternating; the medians are compared (file-system timings here "
                             "vary by up to 2x from run to run)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    python = datumaro_python()
    synthgen = str(REPO / ".venv" / "bin" / "synthgen")
    with tempfile.TemporaryDirectory() as tmp:
        source = build(Path(tmp) / "coco", args.images, args.objects, width, height)
        print(f"{args.images} images x {args.objects} polygon objects, {width}x{height}, median of {args.repeat} runs")
        for target in args.targets:
            ours, theirs = [], []
            for run in range(args.repeat):
                out = Path(tmp) / f"ours_{target}_{run}"
                ours.append(timed([synthgen, "convert", str(source), "--from", "coco", "--to", target,
                                   "--out", str(out)]))
                shutil.rmtree(out)
                out = Path(tmp) / f"dm_{target}_{run}"
                theirs.append(timed([str(python), "-c", DATUMARO_SCRIPT, str(source), str(out), target]))
                shutil.rmtree(out)
            mine, theirs_ = _summary(ours), _summary(theirs)
            print(f"coco -> {target}: synthgen {mine[0]:.1f} s, datumaro {theirs_[0]:.1f} s, ratio "
                  f"{mine[0] / theirs_[0]:.2f}; user CPU {mine[2]:.1f} s vs {theirs_[2]:.1f} s (ratio "
                  f"{mine[2] / theirs_[2]:.2f}); system {mine[3]:.1f} s vs {theirs_[3]:.1f} s; peak {mine[1]:.0f} MiB "
                  f"vs {theirs_[1]:.0f} MiB  [wall per run: synthgen {' '.join(f'{r[0]:.1f}' for r in ours)}; "
                  f"datumaro {' '.join(f'{r[0]:.1f}' for r in theirs)}]")


def _summary(runs: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """Median wall, user and system seconds, and the largest peak memory of the runs."""
    wall, peak, user, system = zip(*runs)
    return float(np.median(wall)), max(peak), float(np.median(user)), float(np.median(system))


if __name__ == "__main__":
    main()
