"""What a sequence frame costs against a static frame of the same street, and what each sensor adds.

    .venv/bin/python bench/sequence_speed.py [--size 640x360] [--runs static sequence lidar occupancy]

Every run is `synthgen render` as a user types it, one whole process (start-up included), at the
bundled quality and SIZE:
- static:    scenes/street.yaml -n L, L being the sequence's length (20), so both runs render as many frames;
- sequence:  scenes/street_sequence.yaml -n 1 (one sequence of L frames: exact flow both ways per frame);
- lidar:     the sequence with scenes/street_lidar.yaml's 64 x 2048 lidar added by --set;
- occupancy: the sequence with that lidar and the default Occ3D grid (cameras and lidar marking free space).
Printed per run: whole-command seconds per frame (wall / frames), the command's own per-frame
figures (render call, labels and files), the means from timings.jsonl of the flow, lidar and
occupancy parts of "labels and files", their share of the render call, everything outside the render
call (whole-command seconds per frame minus the render call: start-up, scene sampling, labels, files)
and the process's peak resident memory (wait4). Ratios are against the static run of the same script;
its 20 frames are 20 different scenes (night, fog, rain among them) while the sequence is one scene
moving, so the render call differs with the content, and "outside" is the like-for-like figure. An asset-cache
warm-up (the same frames at 64x36, draft) runs first so no run pays for building assets.

No bare-bpy baseline here: bench/bare_bpy.py renders objects of one colour each, without the
street assets' per-face colours, emissive lamps or fog, so it cannot render this scene; the static
run stands in (its render call is within a few percent of bare bpy on the table top,
bench/render_overhead.py, docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from render_overhead import SYNTHGEN, Run  # noqa: E402  (same process accounting as the bare-bpy comparison)

PARTS = ("render", "labels", "flow", "lidar", "occupancy")


def sensor_overrides(run: str) -> list[str]:
    """--set values adding street_lidar.yaml's lidar (and an occupancy grid) to the sequence; JSON is YAML."""
    if run in ("static", "sequence"):
        return []
    lidars = yaml.safe_load((REPO / "scenes" / "street_lidar.yaml").read_text(encoding="utf-8"))["lidars"]
    overrides = [f"lidars={json.dumps(lidars, separators=(',', ':'))}"]
    if run == "occupancy":
        overrides.append("occupancy={visibility: [cameras, lidar]}")
    return overrides


def command(run: str, out: Path, size: str, length: int, extra: list[str] = ()) -> list[str]:
    width, height = size.split("x")
    scene, count = ("street.yaml", length) if run == "static" else ("street_sequence.yaml", 1)
    words = [*SYNTHGEN, "render", f"scenes/{scene}", "--out", str(out), "-n", str(count), "--overwrite",
             "--no-progress", "--set", f"camera.resolution=[{width},{height}]"]
    for override in sensor_overrides(run) + list(extra):
        words += ["--set", override]
    return words


def timings(out: Path) -> dict[str, float]:
    """Mean seconds per frame of each part, from the run's timings.jsonl (parts it lacks count 0)."""
    lines = [json.loads(line) for line in (out / "timings.jsonl").read_text(encoding="utf-8").splitlines()]
    return {part: statistics.mean(line.get(part, 0.0) for line in lines) for part in PARTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--runs", nargs="+", default=["static", "sequence", "lidar", "occupancy"],
                        choices=["static", "sequence", "lidar", "occupancy"])
    args = parser.parse_args()
    length = yaml.safe_load((REPO / "scenes" / "street_sequence.yaml").read_text(encoding="utf-8"))["sequence"]["length"]
    print(f"street at {args.size}, bundled quality, {length} frames per run; load average {os.getloadavg()[0]:.1f}")
    print(f"{'run':>10} {'s/frame':>8} {'x static':>8} {'render':>7} {'labels':>7} {'flow':>6} {'lidar':>6} "
          f"{'occup.':>6} {'labels/render':>13} {'outside':>8} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNTHGEN_CACHE"] = str(Path(tmp) / "cache")
        Run(command("static", Path(tmp) / "warm", "64x36", length, ["render.quality=draft"]))
        static = None
        for run in args.runs:
            out = Path(tmp) / run
            process = Run(command(run, out, args.size, length))
            per_frame = process.wall / length
            static = per_frame if run == "static" else static
            parts = timings(out)
            ratio = f"{per_frame / static:8.3f}" if static else f"{'':8}"
            print(f"{run:>10} {per_frame:8.3f} {ratio} {parts['render']:7.3f} {parts['labels']:7.3f} "
                  f"{parts['flow']:6.3f} {parts['lidar']:6.3f} {parts['occupancy']:6.3f} "
                  f"{parts['labels'] / parts['render']:13.1%} {per_frame - parts['render']:8.3f} "
                  f"{process.peak_mib:9.0f}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
