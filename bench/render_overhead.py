"""What `synthgen render` costs against a bare bpy loop rendering the same frames, in time and memory.

    .venv/bin/python bench/render_overhead.py [--sizes 320x240 640x480 1280x720] [--frames 6] [--rounds 2]

For each size, the same frames of scenes/tabletop.yaml (its quality preset) are
rendered by the command as a user types it (`synthgen render ... -n N`) and by
bench/bare_bpy.py, an independent plain-bpy script that reads those frames' poses,
meshes, materials, lights and every Cycles, colour and output setting from a
description written here, and writes PNGs with Blender's writer. The two run
alternately, `--rounds` times each, one process per run. Printed per size:
- wall seconds per frame once rendering runs, and for the whole command with
  start-up (medians over rounds), and their ratios synthgen / bare;
- CPU seconds per frame of the whole process (user + system);
- peak resident memory of each process;
- how far synthgen's images are from the bare script's (the same frames and
  settings must give the same picture: a check that the comparison is fair).
First the time to the first frame of scenes/minimal.yaml, whole processes; last
resident memory over a long run (`--memory-frames` at 128x96) for both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCENE = REPO / "scenes" / "tabletop.yaml"
SYNTHGEN = [sys.executable, "-m", "synthgen.cli"]
BARE = [sys.executable, str(REPO / "bench" / "bare_bpy.py")]


def describe(config: Path, overrides: list[str], frames: int) -> dict:
    """The frames synthgen renders from `config`, in bpy terms, for bench/bare_bpy.py."""
    from synthgen.config.load import load_scene_config
    from synthgen.render.blender import FIXED_SETTINGS, SMOOTH_SHAPES, LIGHT_TYPES, frame_settings
    from synthgen.scene.build import build_scene
    from synthgen.scene.poses import CV_TO_BLENDER

    loaded = load_scene_config(config, overrides)
    meshes: dict[str, dict] = {}
    described = []
    for index in range(frames):
        scene = build_scene(loaded.config, loaded.config.render.seed, index, loaded.mesh_paths)
        objects = []
        for instance in scene.instances + ((scene.ground,) if scene.ground is not None else ()):
            if instance.mesh_key not in meshes:
                meshes[instance.mesh_key] = {"vertices": instance.mesh.vertices.tolist(),
                                             "faces": instance.mesh.faces.tolist(),
                                             "smooth": instance.mesh_key in SMOOTH_SHAPES}
            objects.append({"mesh": instance.mesh_key, "matrix_world": instance.matrix_world.tolist(),
                            "pass_index": instance.instance_id, "color": instance.material.color.tolist(),
                            "roughness": instance.material.roughness, "metallic": instance.material.metallic})
        camera = scene.camera
        pose = camera.cam_to_world.copy()
        pose[:3, :3] = pose[:3, :3] @ CV_TO_BLENDER
        world = scene.world
        sky = None if world.sky is None else {"sun_elevation": float(np.radians(world.sky[0])),
                                               "sun_rotation": float(np.radians(world.sky[1]))}
        described.append({
            "settings": frame_settings(scene),
            "camera": {"lens": float(camera.K[0, 0] * camera.sensor_width_mm / camera.width),
                       "sensor_width": camera.sensor_width_mm, "clip_start": camera.clip_start,
                       "clip_end": camera.clip_end, "matrix_world": pose.tolist()},
            "objects": objects,
            "lights": [{"type": LIGHT_TYPES[light.kind], "matrix_world": light.matrix_world.tolist(),
                        "energy": light.energy, "color": light.color.tolist(), "size": light.size}
                       for light in scene.lights],
            "world": {"color": world.color.tolist(), "sky": sky,
                      "strength": world.strength * (1.0 if world.sky is None else world.sky[2])},
        })
    return {"settings": FIXED_SETTINGS, "meshes": meshes, "frames": described}


class Run:
    """One child process: wall time, CPU time and peak memory from wait4, resident memory sampled."""

    def __init__(self, command: list[str], sample_every: float | None = None) -> None:
        started = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                        cwd=REPO)
        self.samples: list[tuple[float, float]] = []
        if sample_every:
            threading.Thread(target=self._sample, args=(sample_every,), daemon=True).start()
        output = self.process.stdout.read()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({self.process.returncode}):\n{output}")
        self.wall = time.perf_counter() - started
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak_mib = usage.ru_maxrss / 1024
        self.output = output

    def _sample(self, every: float) -> None:
        started = time.perf_counter()
        status = Path(f"/proc/{self.process.pid}/status")
        while self.process.returncode is None:
            try:
                rss = next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS"))
            except (OSError, StopIteration):
                break
            self.samples.append((time.perf_counter() - started, rss / 1024))
            time.sleep(every)


def synthgen_run(out: Path, overrides: list[str], frames: int, sample_every: float | None = None) -> Run:
    command = [*SYNTHGEN, "render", str(SCENE), "--out", str(out), "-n", str(frames), "--overwrite", "--no-progress"]
    for override in overrides:
        command += ["--set", override]
    run = Run(command, sample_every)
    line = run.output.splitlines()[-2]  # "N frames rendered, ...; X s/frame (render Y s, scene sampling Z s, ...)"
    run.per_frame = float(line.split("; ")[1].split(" s/frame")[0])
    run.render = float(line.split("(render ")[1].split(" s")[0])
    run.labels = float(line.split("labels and files ")[1].split(" s")[0])
    return run


def bare_run(description: Path, out: Path, sample_every: float | None = None) -> Run:
    run = Run([*BARE, str(description), "--out", str(out)], sample_every)
    run.per_frame = json.loads(run.output.strip().splitlines()[-1])["seconds_per_frame"]
    return run


def image_agreement(ours: Path, bare: Path, frames: int) -> tuple[int, float]:
    """Largest 8-bit difference and PSNR of synthgen's images against the bare script's."""
    import cv2

    worst, errors = 0, []
    for index in range(frames):
        a = cv2.imread(str(ours / "images" / f"{index:06d}.png")).astype(np.int16)
        b = cv2.imread(str(bare / f"{index:06d}.png")).astype(np.int16)
        worst = max(worst, int(np.abs(a - b).max()))
        errors.append(float(np.mean((a - b) ** 2)))
    mse = statistics.mean(errors)
    return worst, float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def compare_size(width: int, height: int, frames: int, rounds: int, tmp: Path) -> None:
    overrides = [f"camera.resolution=[{width},{height}]"]
    description = tmp / f"scenes-{width}x{height}.json"
    description.write_text(json.dumps(describe(SCENE, overrides, frames)))
    runs: dict[str, list[Run]] = {"bare": [], "synthgen": []}
    for round_index in range(rounds):
        order = ("bare", "synthgen") if round_index % 2 == 0 else ("synthgen", "bare")
        for tool in order:
            if tool == "bare":
                runs["bare"].append(bare_run(description, tmp / "bare"))
            else:
                runs["synthgen"].append(synthgen_run(tmp / "synthgen", overrides, frames))
    worst, psnr = image_agreement(tmp / "synthgen", tmp / "bare", frames)

    def median(tool: str, value) -> float:
        return statistics.median(value(run) for run in runs[tool])

    per_frame = {tool: median(tool, lambda r: r.per_frame) for tool in runs}
    command = {tool: median(tool, lambda r: r.wall / frames) for tool in runs}
    cpu = {tool: median(tool, lambda r: r.cpu / frames) for tool in runs}
    peak = {tool: max(r.peak_mib for r in runs[tool]) for tool in runs}
    render, labels = median("synthgen", lambda r: r.render), median("synthgen", lambda r: r.labels)
    print(f"{width}x{height}, {frames} frames of {SCENE.name}, {rounds} rounds:")
    print(f"  {'':26} {'bare bpy':>9} {'synthgen':>9} {'ratio':>6}")
    for name, values in (("wall s/frame, rendering", per_frame), ("wall s/frame, whole command", command),
                         ("CPU s/frame, whole command", cpu), ("peak memory MiB", peak)):
        print(f"  {name:26} {values['bare']:9.3f} {values['synthgen']:9.3f} {values['synthgen'] / values['bare']:6.3f}")
    print(f"  synthgen per frame: render {render:.3f} s, labels and files {labels:.3f} s ({100 * labels / render:.1f}%)")
    print(f"  images against the bare script's: largest difference {worst}/255, PSNR {psnr:.1f} dB")


def start_up(rounds: int, tmp: Path) -> None:
    """Time to the first frame: `synthgen render scenes/minimal.yaml -n 1` against importing bpy and
    rendering that frame with the bare script (both whole processes, interpreter start included)."""
    minimal = REPO / "scenes" / "minimal.yaml"
    description = tmp / "scenes-minimal.json"
    description.write_text(json.dumps(describe(minimal, [], 1)))
    times: dict[str, list[float]] = {"bare bpy": [], "synthgen": []}
    for round_index in range(rounds):
        for tool in (("bare bpy", "synthgen") if round_index % 2 == 0 else ("synthgen", "bare bpy")):
            if tool == "bare bpy":
                times[tool].append(bare_run(description, tmp / "bare-start").wall)
            else:
                times[tool].append(Run([*SYNTHGEN, "render", str(minimal), "--out", str(tmp / "synthgen-start"), "-n", "1",
                                        "--overwrite", "--no-progress"]).wall)
    bare, ours = statistics.median(times["bare bpy"]), statistics.median(times["synthgen"])
    print(f"start-up, one frame of {minimal.name} as a whole process (median of {rounds}): bare bpy {bare:.2f} s, "
          f"synthgen {ours:.2f} s, difference {ours - bare:+.2f} s")


def memory_over_time(frames: int, tmp: Path) -> None:
    overrides = ["camera.resolution=[128,96]", "render.quality=draft"]
    description = tmp / "scenes-memory.json"
    description.write_text(json.dumps(describe(SCENE, overrides, frames)))
    print(f"resident memory over {frames} frames at 128x96 (MiB):")
    for tool, run in (("bare bpy", bare_run(description, tmp / "bare-memory", sample_every=0.25)),
                      ("synthgen", synthgen_run(tmp / "synthgen-memory", overrides, frames, sample_every=0.25))):
        samples = run.samples
        # after a tenth of the run (warm-up, pools filled) and in the last tenth
        early = [rss for t, rss in samples if 0.1 * run.wall <= t <= 0.2 * run.wall]
        late = [rss for t, rss in samples if t >= 0.9 * run.wall]
        early_value, late_value = (statistics.median(early) if early else float("nan"),
                                   statistics.median(late) if late else float("nan"))
        print(f"  {tool:9} at 10-20% of the run {early_value:.0f}, last 10% {late_value:.0f}, "
              f"growth {late_value - early_value:+.1f}, peak {run.peak_mib:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["320x240", "640x480", "1280x720"])
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--memory-frames", type=int, default=300, help="0 skips the long-run memory part")
    parser.add_argument("--start-up-rounds", type=int, default=5, help="0 skips the start-up part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.start_up_rounds:
            start_up(args.start_up_rounds, Path(tmp))
        for size in args.sizes:
            width, height = (int(v) for v in size.split("x"))
            compare_size(width, height, args.frames, args.rounds, Path(tmp))
        if args.memory_frames:
            memory_over_time(args.memory_frames, Path(tmp))


if __name__ == "__main__":
    main()
