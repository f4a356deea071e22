"""What synthgen costs on top of a bare bpy render of the same scene, in time and memory.

    .venv/bin/python bench/render_overhead.py [--frames 12] [--memory-frames 200]

Part 1 (one process): the same frames of scenes/tabletop.yaml at 320x240 and 16
samples are rendered in alternating blocks by a bare bpy loop (render, write the
PNG) and by synthgen's whole per-frame pipeline (scene sampling, render with the
label passes, EXR read-back, label extraction, all files). Prints the time per
frame of each and their ratio.

Part 2 (two child processes): 200 frames at 128x96 each, bare and synthgen;
prints resident memory after the warm-up frames, at the end, the growth between,
and the peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCENE = REPO / "scenes" / "tabletop.yaml"


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    """Both loops over one Blender scene; switching modes flips the passes and the output format."""

    def __init__(self, overrides: list[str], out: Path) -> None:
        from synthgen.config.load import load_scene_config
        from synthgen.dataset import Layout
        from synthgen.render.blender import BlenderRenderer

        self.loaded = load_scene_config(SCENE, overrides)
        self.config = self.loaded.config
        self.renderer = BlenderRenderer()
        self.layout = Layout(out / "synthgen")
        self.layout.create(save_geometry=False)
        self.bare_dir = out / "bare"
        self.bare_dir.mkdir(parents=True, exist_ok=True)

    def _mode(self, bare: bool) -> None:
        scene = self.renderer.scene
        layer = scene.view_layers[0]
        layer.use_pass_z = layer.use_pass_object_index = not bare
        settings = scene.render.image_settings
        if bare:
            settings.media_type = "IMAGE"
            settings.file_format = "PNG"
            settings.color_mode = "RGB"
            settings.color_depth = "8"
        else:
            settings.media_type = "MULTI_LAYER_IMAGE"
            settings.color_depth = "32"
            settings.exr_codec = "NONE"

    def bare(self, frame: int) -> float:
        """What a user of bare bpy does: pose the scene, render, write the image."""
        import bpy

        from synthgen.scene.build import build_scene

        scene = build_scene(self.config, 0, frame)
        started = time.perf_counter()
        self.renderer.apply(scene)
        bpy.context.scene.render.filepath = str(self.bare_dir / f"{frame:06d}.png")
        bpy.ops.render.render(write_still=True)
        return time.perf_counter() - started

    def synthgen(self, frame: int) -> float:
        """synthgen's per-frame work, exactly as `synthgen render` does it."""
        from synthgen.pipeline import render_frames

        started = time.perf_counter()
        render_frames(self.renderer, self.loaded, 0, [frame], self.layout, save_geometry=False)
        return time.perf_counter() - started

    def run(self, mode: str, frames: range, warm_up: bool = True) -> list[float]:
        """Time `frames` in one mode, after one untimed frame (switching modes costs Cycles a re-sync)."""
        self._mode(mode == "bare")
        step = self.bare if mode == "bare" else self.synthgen
        if warm_up:
            step(frames[0])
        return [step(i) for i in frames]


def part_time(frames: int, block: int) -> None:
    from synthgen.io.console import native_output_to

    with tempfile.TemporaryDirectory() as tmp, native_output_to(Path(tmp) / "blender.log") as (out, _):
        bench = Bench(["render.samples=16", "render.denoise=false", "camera.resolution=[320,240]"], Path(tmp))
        times: dict[str, list[float]] = {"bare": [], "synthgen": []}
        for start in range(0, frames, block):
            chunk = range(start, min(start + block, frames))
            order = ("bare", "synthgen") if (start // block) % 2 == 0 else ("synthgen", "bare")
            for mode in order:
                times[mode] += bench.run(mode, chunk)
        bare, ours = statistics.mean(times["bare"]), statistics.mean(times["synthgen"])
        print(f"time per frame, 320x240, 16 samples, {frames} frames of {SCENE.name}:", file=out)
        print(f"  bare bpy  {bare:.3f} s   (median {statistics.median(times['bare']):.3f})", file=out)
        print(f"  synthgen  {ours:.3f} s   (median {statistics.median(times['synthgen']):.3f})", file=out)
        print(f"  ratio     {ours / bare:.3f}  (median of per-frame ratios "
              f"{statistics.median(s / b for s, b in zip(times['synthgen'], times['bare'])):.3f})", file=out)


def child_memory(mode: str, frames: int, warmup: int) -> None:
    from synthgen.io.console import native_output_to

    with tempfile.TemporaryDirectory() as tmp, native_output_to(Path(tmp) / "blender.log") as (out, _):
        bench = Bench(["render.samples=4", "render.denoise=false", "camera.resolution=[128,96]"], Path(tmp))
        bench.run(mode, range(warmup), warm_up=False)
        after_warmup = rss_mib()
        bench.run(mode, range(warmup, frames), warm_up=False)
        print(json.dumps({"warm": after_warmup, "end": rss_mib(), "peak": peak_mib()}), file=out)


def part_memory(frames: int, warmup: int) -> None:
    results = {}
    for mode in ("bare", "synthgen"):
        proc = subprocess.run([sys.executable, __file__, "--child", mode, "--memory-frames", str(frames),
                               "--warmup", str(warmup)], capture_output=True, text=True, check=True)
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"resident memory, 128x96, {frames} frames (MiB):")
    for mode, r in results.items():
        print(f"  {mode:9} after {warmup} frames {r['warm']:.0f}, at the end {r['end']:.0f}, "
              f"growth {r['end'] - r['warm']:+.1f}, peak {r['peak']:.0f}")
    print(f"  peak ratio synthgen / bare: {results['synthgen']['peak'] / results['bare']['peak']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--block", type=int, default=4)
    parser.add_argument("--memory-frames", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--child", choices=["bare", "synthgen"])
    parser.add_argument("--skip-time", action="store_true")
    args = parser.parse_args()
    if args.child:
        child_memory(args.child, args.memory_frames, args.warmup)
        return
    if not args.skip_time:
        part_time(args.frames, args.block)
    part_memory(args.memory_frames, args.warmup)


if __name__ == "__main__":
    main()
