"""Frames per second of `synthgen render --workers K` for K = 1, 2, as a user types the command.

    .venv/bin/python bench/scale.py [--frames 20] [--rounds 2] [--workers 1 2] [--size 320x240] [--ray]

Each round renders the same `--frames` frames of scenes/tabletop.yaml (its own quality preset) once for
each K, alternating K so that a noisy, shared machine hurts each the same way. A run is the whole
process, start-up included (Python, K Blender processes, writing COCO at the end). Printed per K: median
wall seconds, frames per second and the ratio to K = 1; the s/frame the run reports itself (with one
process it leaves out Python and Blender start-up, with workers it counts from spawning them); peak resident memory of the whole process tree
and of its largest process; disk bytes per frame. With --ray, the largest K also runs as Ray actors on
a local Ray instance the run starts (`--backend ray`, pip install -e '.[ray]'), and its overhead against
local workers is printed. docs/scaling.md quotes these numbers and the default --workers
(synthgen/commands/render.py) follows them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENE = REPO / "scenes" / "tabletop.yaml"
NOT_DATA = {"render.log", "timings.jsonl"}


def process_tree(root: int) -> list[int]:
    """`root` and every process below it, read from /proc."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            todo += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            pass
    return found


def resident_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Run:
    """One `synthgen render` process: wall time, and memory of its process tree sampled every 0.1 s."""

    def __init__(self, out: Path, frames: int, workers: int, size: str, backend: str = "local") -> None:
        width, height = size.split("x")
        command = [sys.executable, "-m", "synthgen.cli", "render", str(SCENE), "--out", str(out), "-n", str(frames),
                   "--workers", str(workers), "--backend", backend, "--overwrite", "--no-progress",
                   "--set", f"camera.resolution=[{width},{height}]"]
        self.peak_total = self.peak_single = 0.0
        started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        output = self.process.communicate()[0]
        self.wall = time.perf_counter() - started
        sampler.join()
        if self.process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({self.process.returncode}):\n{output}")
        self.reported = float(output.split(" s/frame")[0].rsplit("; ", 1)[1])  # the run's own figure
        data = [p for p in out.rglob("*") if p.is_file() and p.name not in NOT_DATA]
        self.bytes_per_frame = sum(p.stat().st_size for p in data) / frames

    def _sample(self) -> None:
        while self.process.poll() is None:
            sizes = [resident_mib(pid) for pid in process_tree(self.process.pid)]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0.0))
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--ray", action="store_true", help="also the largest K as Ray actors")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{args.frames} frames of {SCENE.relative_to(REPO)} at {args.size}, {cores} cores, "
          f"{args.rounds} rounds, whole processes (start-up included)")
    setups = [(k, "local") for k in args.workers] + ([(max(args.workers), "ray")] if args.ray else [])
    runs: dict[tuple[int, str], list[Run]] = {setup: [] for setup in setups}
    with tempfile.TemporaryDirectory(prefix="synthgen-scale-") as scratch:
        for round_index in range(args.rounds):
            for workers, backend in setups if round_index % 2 == 0 else setups[::-1]:
                runs[workers, backend].append(Run(Path(scratch) / f"k{workers}{backend}", args.frames, workers,
                                                  args.size, backend))
    base = None
    for setup in setups:
        workers, backend = setup
        wall = statistics.median(run.wall for run in runs[setup])
        fps = args.frames / wall
        base = base or fps
        print(f"--workers {workers} --backend {backend}: {wall:6.2f} s, {fps:5.2f} frames/s = {fps / base:4.2f}x --workers "
              f"{args.workers[0]}; {wall / args.frames:5.3f} s/frame (as the run reports it: "
              f"{statistics.median(r.reported for r in runs[setup]):5.3f}); peak memory "
              f"{max(r.peak_total for r in runs[setup]):4.0f} MiB in all, "
              f"{max(r.peak_single for r in runs[setup]):4.0f} MiB in the largest process; "
              f"{runs[setup][0].bytes_per_frame / 1024:5.1f} KiB on disk per frame")
    if args.ray:
        local = statistics.median(run.wall for run in runs[max(args.workers), "local"])
        ray = statistics.median(run.wall for run in runs[max(args.workers), "ray"])
        print(f"Ray against local workers (--workers {max(args.workers)}): {ray / local:4.2f}x the wall time, "
              f"{ray - local:+.1f} s per run ({(ray - local) / args.frames:+.3f} s per frame of {args.frames})")


if __name__ == "__main__":
    main()
