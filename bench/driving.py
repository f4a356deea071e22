"""What a driving scene costs: time per frame, the share outside Blender's render call, peak memory.

    .venv/bin/python bench/driving.py [--scene scenes/street.yaml] [--sizes 640x360 1280x720] [--frames 4]

Runs `synthgen render SCENE -n N` as a user types it, one process per size, and
prints from the command's own summary: seconds per frame, the render call
(Blender posing the scene and Cycles), scene sampling, and labels and files;
the share of everything outside the render call against the render call; and
the process's peak resident memory (wait4's ru_maxrss). The baseline is the
render call itself, measured in the same run. Each size runs twice: first with
an empty asset cache (a fresh machine: every asset variant is built, 2.3 s of
numpy once per process), then with the cache that run filled (every later run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from render_overhead import SYNTHGEN, Run  # noqa: E402  (same process accounting as the bare-bpy comparison)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", default="scenes/street.yaml")
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args()
    print(f"{args.scene}, {args.frames} frames per size, standard quality")
    print(f"{'size':>10} {'cache':>6} {'s/frame':>8} {'render':>8} {'scene':>7} {'labels+files':>13} {'outside':>8} "
          f"{'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            width, height = size.split("x")
            os.environ["SYNTHGEN_CACHE"] = str(Path(tmp) / f"cache-{size}")  # empty for the first run
            for cache in ("cold", "warm"):
                command = [*SYNTHGEN, "render", args.scene, "--out", str(Path(tmp) / size), "-n", str(args.frames),
                           "--no-progress", "--overwrite", "--set", f"camera.resolution=[{width},{height}]"]
                run = Run(command)
                line = run.output.splitlines()[-2]
                per_frame = float(line.split("; ")[1].split(" s/frame")[0])
                render = float(line.split("(render ")[1].split(" s")[0])
                scene = float(line.split("scene sampling ")[1].split(" s")[0])
                labels = float(line.split("labels and files ")[1].split(" s")[0])
                outside = (scene + labels) / render
                print(f"{size:>10} {cache:>6} {per_frame:8.3f} {render:8.3f} {scene:7.3f} {labels:13.3f} "
                      f"{outside:8.1%} {run.peak_mib:9.0f}", flush=True)


if __name__ == "__main__":
    main()
