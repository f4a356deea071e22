"""Image quality and time per frame of each render quality preset.

    .venv/bin/python bench/quality.py [--scene scenes/tabletop.yaml] [--resolution 320 240] [--frames 3]

Renders the same frames with every preset (draft, standard, high) and once more
as a reference: 1024 samples per pixel, no denoiser, no adaptive sampling, the
same colour management. Prints each preset's PSNR and SSIM (scikit-image, on the
8-bit sRGB images synthgen writes) against the reference and its time per frame
(the Cycles render and read-back, median over frames). Needs `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scene", default=str(REPO / "scenes" / "tabletop.yaml"))
    parser.add_argument("--resolution", type=int, nargs=2, default=[320, 240])
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--reference-samples", type=int, default=1024)
    parser.add_argument("--extra", nargs="*", default=[], metavar="NAME=SAMPLES,PREFILTER",
                        help="more settings to measure beside the presets, e.g. s8=8,FAST or raw16=16,NONE")
    args = parser.parse_args()

    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from synthgen.config.load import load_scene_config
    from synthgen.dataset.write import linear_to_srgb8
    from synthgen.io.console import native_output_to
    from synthgen.render.blender import BlenderRenderer
    from synthgen.scene.build import build_scene
    from synthgen.scene.quality import PRESETS

    width, height = args.resolution
    loaded = load_scene_config(args.scene, [f"camera.resolution=[{width},{height}]"])
    settings = {name: dataclasses.asdict(preset) for name, preset in PRESETS.items()}
    for extra in args.extra:
        name, spec = extra.split("=")
        samples, prefilter = spec.split(",")
        settings[name] = {"samples": int(samples), "denoise": prefilter != "NONE",
                          "denoise_prefilter": "FAST" if prefilter == "NONE" else prefilter, "adaptive_threshold": 0.01}
    reference = {"samples": args.reference_samples, "denoise": False, "denoise_prefilter": "FAST",
                 "adaptive_threshold": 0.0}

    with tempfile.TemporaryDirectory() as tmp, native_output_to(Path(tmp) / "blender.log") as (out, _):
        renderer = BlenderRenderer()
        images: dict[str, list] = {name: [] for name in [*settings, "reference"]}
        seconds: dict[str, list[float]] = {name: [] for name in settings}
        for frame in range(args.frames):
            scene = build_scene(loaded.config, 0, frame, loaded.mesh_paths)
            for name, values in [*settings.items(), ("reference", reference)]:
                posed = dataclasses.replace(scene, render=dataclasses.replace(scene.render, **values))
                if name != "reference":
                    renderer.render(posed)  # untimed: the first render after a settings change re-syncs
                started = time.perf_counter()
                passes = renderer.render(posed)
                if name != "reference":
                    seconds[name].append(time.perf_counter() - started)
                images[name].append(linear_to_srgb8(passes.rgb))
            print(f"frame {frame} done", file=sys.stderr, flush=True)
        renderer.close()
        print(f"{Path(args.scene).name} at {width}x{height}, {args.frames} frames; reference: "
              f"{args.reference_samples} samples, no denoiser, no adaptive sampling", file=out)
        print(f"{'setting':10} {'samples':>7} {'denoiser':>16} {'PSNR dB':>8} {'SSIM':>7} {'s/frame':>8}", file=out)
        for name, values in settings.items():
            psnr = statistics.mean(peak_signal_noise_ratio(ref, img, data_range=255)
                                   for ref, img in zip(images["reference"], images[name]))
            ssim = statistics.mean(structural_similarity(ref, img, channel_axis=2, data_range=255)
                                   for ref, img in zip(images["reference"], images[name]))
            denoiser = f"OIDN {values['denoise_prefilter']}" if values["denoise"] else "none"
            print(f"{name:10} {values['samples']:7d} {denoiser:>16} {psnr:8.2f} {ssim:7.4f} "
                  f"{statistics.median(seconds[name]):8.3f}", file=out)


if __name__ == "__main__":
    main()
