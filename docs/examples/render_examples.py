"""Render the example pictures of docs/driving.md: each driving scene's frame 0 beside its panoptic overlay.

    .venv/bin/python docs/examples/render_examples.py

Renders every scenes/{street,intersection,highway,parking}.yaml at 1280x720 with its
own settings (standard quality) through the CLI, then writes docs/examples/SCENE.png:
the image and, beside it, the image blended with Cityscapes' class colours, every
instance in its own shade of its class colour with a white outline. Both halves are
scaled to 640x360.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
SCENES = ("street", "intersection", "highway", "parking")
# Cityscapes' published class colours (RGB)
COLOURS = {
    "road": (128, 64, 128), "sidewalk": (244, 35, 232), "parking": (250, 170, 160), "building": (70, 70, 70),
    "wall": (102, 102, 156), "fence": (190, 153, 153), "barrier": (180, 165, 180), "pole": (153, 153, 153),
    "traffic light": (250, 170, 30), "traffic sign": (220, 220, 0), "vegetation": (107, 142, 35),
    "terrain": (152, 251, 152), "sky": (70, 130, 180), "person": (220, 20, 60), "rider": (255, 0, 0),
    "car": (0, 0, 142), "truck": (0, 0, 70), "bus": (0, 60, 100), "train": (0, 80, 100),
    "motorcycle": (0, 0, 230), "bicycle": (119, 11, 32),
}


def overlay(root: Path) -> np.ndarray:
    frame = json.loads((root / "frames" / "000000.json").read_text())
    image = cv2.imread(str(root / "images" / "000000.png"))[..., ::-1].astype(np.float32)
    semantic = cv2.imread(str(root / "masks" / "semantic" / "000000.png"), cv2.IMREAD_UNCHANGED)
    instance = cv2.imread(str(root / "masks" / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    palette = np.zeros((len(frame["categories"]) + 1, 3), np.float32)
    for k, name in enumerate(frame["categories"]):
        palette[k + 1] = COLOURS.get(name, (255, 255, 255))
    colour = palette[semantic]
    rng = np.random.default_rng(0)
    for item in frame["instances"]:
        pixels = instance == item["id"]
        colour[pixels] = np.clip(colour[pixels] * rng.uniform(0.6, 1.6) + rng.uniform(-30, 30, 3), 0, 255)
    edges = np.zeros(instance.shape, bool)
    edges[:, 1:] |= instance[:, 1:] != instance[:, :-1]
    edges[1:, :] |= instance[1:, :] != instance[:-1, :]
    blended = 0.3 * image + 0.7 * colour
    blended[edges & (cv2.dilate(instance, np.ones((3, 3), np.uint8)) > 0)] = 255
    return blended.astype(np.uint8)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for scene in SCENES:
            out = Path(tmp) / scene
            subprocess.run([sys.executable, "-m", "synthgen.cli", "render", str(REPO / "scenes" / f"{scene}.yaml"),
                            "--out", str(out), "-n", "1", "--no-progress"], check=True, cwd=REPO)
            image = cv2.imread(str(out / "images" / "000000.png"))[..., ::-1]
            halves = [cv2.resize(a, (640, 360), interpolation=cv2.INTER_AREA) for a in (image, overlay(out))]
            cv2.imwrite(str(REPO / "docs" / "examples" / f"{scene}.png"), np.concatenate(halves, axis=1)[..., ::-1],
                        [cv2.IMWRITE_PNG_COMPRESSION, 9])
            print(f"docs/examples/{scene}.png")


if __name__ == "__main__":
    main()
