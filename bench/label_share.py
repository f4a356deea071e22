"""Labels and files as a share of the render, per scene and image size.

    .venv/bin/python bench/label_share.py [--frames 5] [--sizes 640x480 1280x720] [--detail]

Renders each scene with synthgen's own per-frame loop (the one `synthgen render`
runs) and splits every frame's wall time three ways: sampling the scene; the
render (posing Blender and its render operator: Cycles, and writing the passes
to a RAM disk, as a plain bpy script writes its image there); and labels and
files (reading the passes back, extracting labels, writing every file). Prints
the median over frames of labels and files as a share of the render, and its
largest value. Scenes: scenes/tabletop.yaml, and from bench/scenes/ a labelled
road plane reaching behind the camera, 124 instances with a 10,000-triangle mesh,
and objects cut by every image edge and the near plane. `--detail` also prints
where the time of one frame goes. Last, --labels-only against the standard
quality on the tabletop at 640x480, whole frames.
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
    """The steps after a render, one after the other, without the helper thread: medians over `frames`."""
    from synthgen.dataset.write import write_frame_json, write_labels, write_pixels
    from synthgen.labels.extract import extract
    from synthgen.scene.build import build_scene

    times: dict[str, list[float]] = {}

    def timed(name, step):
        started = time.perf_counter()
        value = step()
        times.setdefault(name, []).append(time.perf_counter() - started)
        return value

    for frame in frames:
        scene = build_scene(loaded.config, 0, frame, loaded.mesh_paths)
        timed("pose", lambda: renderer.apply(scene))
        renderer.draw(scene)
        passes = timed("EXR read", renderer.passes)
        outputs = timed("labels", lambda: extract(scene, passes, "images/x.png"))
        timed("image and depth files", lambda: write_pixels(layout, frame, passes))
        timed("masks", lambda: write_labels(layout, scene, outputs, False, False))
        timed("frame JSON", lambda: write_frame_json(layout, outputs))
    print("    " + ", ".join(f"{name} {1000 * statistics.median(t):.1f} ms" for name, t in times.items()), file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--sizes", nargs="*", default=["640x480", "1280x720"])
    parser.add_argument("--scenes", nargs="*", type=Path, default=SCENES)
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()

    from synthgen.config.load import load_scene_config
    from synthgen.dataset.layout import Layout
    from synthgen.io.console import native_output_to
    from synthgen.render.blender import BlenderRenderer

    standard = None
    with tempfile.TemporaryDirectory() as tmp, native_output_to(Path(tmp) / "blender.log") as (out, _):
        renderer = BlenderRenderer()
        print(f"{'scene':15} {'size':>9} {'render s':>9} {'sampling s':>11} {'labels+files s':>15} {'share':>7} "
              f"{'max':>7}", file=out)
        for scene_path in args.scenes:
            for size in args.sizes:
                width, height = (int(v) for v in size.split("x"))
                loaded = load_scene_config(scene_path, [f"camera.resolution=[{width},{height}]"])
                layout = Layout(Path(tmp) / f"{scene_path.stem}-{size}")
                layout.create(save_geometry=False)
                records = measure(renderer, loaded, layout, args.frames)
                if scene_path == SCENES[0] and size == "640x480":
                    standard = records
                shares = [t.labels / t.render for t in records]
                print(f"{scene_path.stem:15} {size:>9} {statistics.median(t.render for t in records):9.3f} "
                      f"{statistics.median(t.scene for t in records):11.3f} "
                      f"{statistics.median(t.labels for t in records):15.3f} {100 * statistics.median(shares):6.1f}% "
                      f"{100 * max(shares):6.1f}%", file=out, flush=True)
                if args.detail:
                    detail(renderer, loaded, layout, range(1, args.frames + 1), out)
        renderer.close()
        if standard:  # a second renderer resets Blender's scene: only once the first is done
            labels_only = BlenderRenderer(labels_only=True)
            loaded = load_scene_config(SCENES[0], ["camera.resolution=[640,480]"])
            layout = Layout(Path(tmp) / "labels-only")
            layout.create(save_geometry=False)
            fast = measure(labels_only, loaded, layout, args.frames)
            labels_only.close()
            full, quick = (statistics.median(t.scene + t.render + t.labels for t in r) for r in (standard, fast))
            print(f"--labels-only, {SCENES[0].name} at 640x480: {quick:.3f} s per frame against {full:.3f} s for "
                  f"its standard quality: {full / quick:.1f}x faster", file=out)


def measure(renderer, loaded, layout, frames: int) -> list:
    """Per-frame times of synthgen's own loop, after one untimed frame (pools, kernels)."""
    from synthgen.pipeline import render_frames

    records = []
    render_frames(renderer, loaded, 0, [0], layout, False)
    render_frames(renderer, loaded, 0, range(1, frames + 1), layout, False, lambda _, times: records.append(times))
    return records


if __name__ == "__main__":
    main()
