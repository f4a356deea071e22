"""`synthgen render CONFIG --out DIR -n N`: render a labelled image dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# bench/scale.py on this 2-core machine: 2 processes of 1 Cycles thread each rendered 1.06x as many frames
# per second as 1 process of 2 threads, start-up included (docs/scaling.md)
DEFAULT_WORKERS = 1
EXIT_FRAMES_FAILED = 1  # some frames failed twice; the rest of the dataset is complete
SHOWN_FAILURES = 20


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("render", help="render N labelled frames from a scene config")
    parser.add_argument("config", help="scene config (YAML), e.g. scenes/minimal.yaml")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("-n", "--frames", type=int, default=1, help="number of frames (default 1)")
    parser.add_argument("--start", type=int, default=0, help="index of the first frame (default 0), for shards")
    parser.add_argument("--seed", type=int, help="overrides render.seed in the config")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set render.samples=8 (repeatable)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--overwrite", action="store_true", help="replace what synthgen wrote in --out before")
    group.add_argument("--resume", action="store_true", help="render only the frames --out is missing")
    parser.add_argument("--save-geometry", action="store_true", help="also write geometry/NNNNNN.glb per frame")
    parser.add_argument("--labels-only", action="store_true",
                        help="labels without shading the image: same label files, much faster; images/ holds flat "
                             "previews coloured by instance")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="K",
                        help=f"Blender processes rendering frames side by side, 1 to 64 (default {DEFAULT_WORKERS}); "
                             "each gets cores/K Cycles threads")
    parser.add_argument("--backend", choices=("local", "ray"), default="local",
                        help="local: worker processes on this machine (default); ray: the same workers as Ray actors "
                             "(pip install -e '.[ray]'), on a local Ray instance or the cluster at --address")
    parser.add_argument("--address", help="with --backend ray: the Ray cluster to join, e.g. 10.0.0.5:6379")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthgen.io.outdir import output_mode
    from synthgen.errors import UserError
    from synthgen.pipeline import RenderRequest, render_dataset

    if args.address is not None and args.backend != "ray":
        raise UserError("--address needs --backend ray")

    request = RenderRequest(config=args.config, out=args.out, frames=args.frames, start=args.start, seed=args.seed,
                            overrides=args.overrides, mode=output_mode(args.overwrite, args.resume),
                            save_geometry=args.save_geometry, progress=not args.no_progress,
                            labels_only=args.labels_only, workers=args.workers,
                            backend=args.backend, address=args.address)
    summary = render_dataset(request)
    frames = max(summary.rendered, 1)
    per_frame, render = summary.seconds_wall / frames, summary.seconds_render / frames
    scene, labels = summary.seconds_scene / frames, summary.seconds_labels / frames
    share = f" = {100 * labels / render:.1f}% of the render" if render else ""
    print(f"{summary.rendered} frames rendered, {summary.skipped} already complete; {per_frame:.3f} s/frame "
          f"(render {render:.3f} s, scene sampling {scene:.3f} s, labels and files {labels:.3f} s{share})")
    print(f"{summary.instances} instances, {summary.annotations} COCO annotations -> {summary.out}")
    if summary.failed:
        print(f"synthgen: {len(summary.failed)} frames failed twice and were left out (listed in synthgen.json; "
              f"--resume tries them again):", file=sys.stderr)
        for frame, error in list(sorted(summary.failed.items()))[:SHOWN_FAILURES]:
            print(f"  frame {frame}: {error}", file=sys.stderr)
        if len(summary.failed) > SHOWN_FAILURES:
            print(f"  and {len(summary.failed) - SHOWN_FAILURES} more", file=sys.stderr)
        return EXIT_FRAMES_FAILED
    return 0
