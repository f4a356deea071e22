"""`synthgen validate FILE`: check a scene config without rendering anything."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check a scene config and report the first problem")
    parser.add_argument("config", help="scene config (YAML)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set camera.resolution=[320,240]")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    loaded = load_scene_config(args.config, args.overrides)  # mesh files included
    build_scene(loaded.config, loaded.config.render.seed, 0, loaded.mesh_paths)  # frame 0, as `render` builds it first
    groups = len(loaded.config.objects)
    print(f"{args.config}: ok ({groups} object group{'s' if groups != 1 else ''}, "
          f"categories: {', '.join(loaded.config.categories())})")
    return 0
