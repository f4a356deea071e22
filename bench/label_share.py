"""Labels and files as a share of the render, per scene and image size.

    .venv/bin/python bench/label_share.py [--frames 5] [--sizes 640x480 1280x720] [--detail]

Renders each scene with synthgen's own per-frame loop (the one `synthgen render`
runs) and splits every frame's time into Cycles' render call and everything
else synthgen does for that frame: sampling the scene, posing Blender, getting
the passes out of Blender, extracting labels and writing every file. Prints the
median share over frames of "everything else" against the render, and its
largest value. Scenes: scenes/tabletop.yaml, and from bench/scenes/ a labelled
road plane reaching behind the camera, 128 instances with a 10,000-triangle mesh,
and objects cut by every image edge and the near plane. `--detail` also prints
where the time of one frame goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SCENES = [REPO / "scenes" / "tabletop.yaml", REPO / "bench" / "scenes" / "ground.yaml",
          REPO / "bench" / "scenes" / "crowd.yaml", REPO / "bench" / "scenes" / "edges.yaml"]


def detail(renderer, loaded, layout, frames: range, out) -> None:
    """The steps of pipeline.render_frames, timed one by one: medians over `frames`."""
    from synthgen.dataset import write_frame
    from synthgen.labels.extract import extract
    from synthgen.render.blender import read_exr
    from synthgen.scene.build import build_scene

    times: dict[str, list[float]] = {}

    def timed(name, step):
        started = time.perf_counter()
        value = step()
        times.setdefault(name, []).append(time.perf_counter() - started)
        return value

    for frame in frames:
        scene = timed("scene", lambda: build_scene(loaded.config, 0, frame, loaded.mesh_paths))
        passes = timed("render()", lambda: renderer.render(scene))
        times.setdefault("  of it the render operator", []).append(renderer.cycles_seconds)
        timed("  EXR read alone", lambda: read_exr(renderer.exr_path))
        timed("  pose alone", lambda: renderer.apply(scene))
        outputs = timed("labels", lambda: extract(scene, passes, "images/x.png"))
        timed("files", lambda: write_frame(layout, scene, passes, outputs, False))
    print("    " + ", ".join(f"{name.strip()} {1000 * statistics.median(t):.1f} ms" for name, t in times.items()),
          file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--sizes", nargs="*", default=["640x480", "1280x720"])
    parser.add_argument("--scenes", nargs="*", type=Path, default=SCENES)
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()

    from synthgen.config.load import load_scene_config
    from synthgen.dataset import Layout
    from synthgen.io.console import native_output_to
    from synthgen.pipeline import render_frames
    from synthgen.render.blender import BlenderRenderer

    with tempfile.TemporaryDirectory() as tmp, native_output_to(Path(tmp) / "blender.log") as (out, _):
        renderer = BlenderRenderer()
        print(f"{'scene':15} {'size':>9} {'Cycles s':>9} {'labels+files s':>15} {'share':>7} {'max':>7}", file=out)
        for scene_path in args.scenes:
            for size in args.sizes:
                width, height = (int(v) for v in size.split("x"))
                loaded = load_scene_config(scene_path, [f"camera.resolution=[{width},{height}]"])
                layout = Layout(Path(tmp) / f"{scene_path.stem}-{size}")
                layout.create(save_geometry=False)
                records: list[tuple[float, float]] = []
                render_frames(renderer, loaded, 0, [0], layout, False)  # warm-up: pools, kernels
                render_frames(renderer, loaded, 0, range(1, args.frames + 1), layout, False,
                              lambda _, seconds, render_seconds: records.append((render_seconds, seconds - render_seconds)))
                shares = [other / cycles for cycles, other in records]
                print(f"{scene_path.stem:15} {size:>9} {statistics.median(c for c, _ in records):9.3f} "
                      f"{statistics.median(o for _, o in records):15.3f} {100 * statistics.median(shares):6.1f}% "
                      f"{100 * max(shares):6.1f}%", file=out, flush=True)
                if args.detail:
                    detail(renderer, loaded, layout, range(1, args.frames + 1), out)
        renderer.close()


if __name__ == "__main__":
    main()
