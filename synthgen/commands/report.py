"""`synthgen report DATASET [--from FORMAT] [--compare OTHER] --out DIR`: a dataset's profile as one HTML page."""

from __future__ import annotations

import argparse

EXAMPLES = 6  # overlays shown for one dataset; half as many each when comparing two


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.commands.labels_args import add_labels_argument, readable_formats

    parser = subparsers.add_parser("report", help="profile a dataset (classes, sizes, positions...) in one HTML page")
    add_labels_argument(parser)
    parser.add_argument("--compare", metavar="OTHER", help="a second dataset to draw in the same plots")
    parser.add_argument("--compare-from", dest="compare_format", default=None, choices=readable_formats(), metavar="FORMAT",
                        help="OTHER's format (default synthgen)")
    parser.add_argument("--out", required=True, help="output directory: report.html and report.json")
    parser.add_argument("--overwrite", action="store_true", help="replace the report in a non-empty OUT")
    parser.set_defaults(run=run)


def _example_positions(count: int, wanted: int) -> list[int]:
    """`wanted` frame positions spread evenly over `count` frames, first and last included."""
    if count <= wanted:
        return list(range(count))
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)})


def _names(first: str, second: str) -> tuple[str, str]:
    from pathlib import Path

    a, b = Path(first).resolve(), Path(second).resolve()
    return (a.name, b.name) if a.name != b.name else (str(a), str(b))


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.errors import UserError
    from synthgen.formats.registry import read_any
    from synthgen.io.atomic import atomic_write_json
    from synthgen.io.outdir import OutputMode, prepare_output_dir
    from synthgen.viz import html
    from synthgen.viz.dataset_report import report_blocks
    from synthgen.viz.frames import frame_overlay
    from synthgen.viz.images import encode_png
    from synthgen.viz.profile import profile
    from synthgen.viz.sheet import thumbnail

    if args.compare_format and not args.compare:
        raise UserError("--compare-from needs --compare")
    inputs = [(args.dataset, args.source_format)]
    if args.compare:
        inputs.append((args.compare, args.compare_format or "synthgen"))
    sets = [read_any(fmt, Path(path)) for path, fmt in inputs]
    names = list(_names(args.dataset, args.compare)) if args.compare else [Path(args.dataset).resolve().name]
    profiles = [profile(labels) for labels in sets]

    examples, shown, notes = [], [], []
    for name, labels in zip(names, sets):
        for position in _example_positions(len(labels.frames), EXAMPLES // len(sets)):
            frame = labels.frames[position]
            try:
                overlay = frame_overlay(labels, frame)
            except UserError as error:
                notes.append(f"{name}: no example for frame {frame.frame_index}: {error}")
                continue
            overlay = thumbnail(overlay, 640) if max(overlay.shape[:2]) > 640 else overlay
            caption = f"{name}: {frame.image}" if len(sets) > 1 else frame.image
            examples.append((caption, encode_png(overlay)))
            shown.append({"dataset": name, "frame": frame.frame_index, "image": frame.image})

    data = {"datasets": [{"name": name, "path": str(path), "format": fmt, **numbers}
                         for name, (path, fmt), numbers in zip(names, inputs, profiles)],
            "examples": shown}
    title = f"Dataset report: {names[0]}" + (f" and {names[1]}" if len(names) > 1 else "")
    blocks = report_blocks(list(zip(names, profiles)), [f"{fmt}: {path}" for path, fmt in inputs], examples, notes)
    out = Path(args.out)
    prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW,
                       managed=["report.html", "report.json"], resumable=False)
    atomic_write_json(out / "report.json", data)
    html.write_page(out / "report.html", title, blocks)
    for name, numbers in zip(names, profiles):
        print(f"{name}: {numbers['frames']} frames, {numbers['objects']} objects, "
              f"{sum(1 for c in numbers['classes'].values() if c['objects'])} classes")
    print(f"report -> {out / 'report.html'}, {out / 'report.json'}")
    return 0
