"""`synthgen compare --truth DATASET --labels EXPORT --from FORMAT --out DIR`: human labels against the truth."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS

    parser = subparsers.add_parser("compare", help="measure human labels against a rendered dataset's exact labels")
    parser.add_argument("--truth", required=True, help="a directory written by `synthgen render`")
    parser.add_argument("--labels", required=True, help="the human labels: an export in any format synthgen reads")
    parser.add_argument("--from", dest="source_format", required=True, choices=list(FORMATS), metavar="FORMAT",
                        help=f"the labels' format, one of: {', '.join(FORMATS)}")
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a pair needs to match (default 0.5)")
    parser.add_argument("--boxes", action="store_true", help="match on boxes even where both sides have masks")
    parser.add_argument("--out", required=True, help="report directory: report.json")
    parser.add_argument("--overwrite", action="store_true", help="replace the report in a non-empty OUT")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from synthgen.compare.report import compare
    from synthgen.errors import UserError
    from synthgen.formats.registry import read_any
    from synthgen.io.atomic import atomic_write_text
    from synthgen.io.outdir import OutputMode, prepare_output_dir

    if not 0.0 < args.iou <= 1.0:
        raise UserError(f"--iou must be in (0, 1], got {args.iou}")
    truth = read_any("synthgen", Path(args.truth))
    labels = read_any(args.source_format, Path(args.labels))
    report = compare(truth, labels, args.iou, use_masks=not args.boxes)
    out = Path(args.out)
    prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW, managed=["report.json"],
                       resumable=False)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1) + "\n")
    overall = report["overall"]
    print(f"{report['images']['compared']} images, {overall['truth']} true objects, {overall['labels']} labelled: "
          f"{overall['matched']} matched, {overall['missed']} missed, {overall['extra']} extra; "
          f"precision {overall['precision']}, recall {overall['recall']}"
          + (f", mean IoU {overall['iou']['mean']}" if "iou" in overall else ""))
    print(f"report -> {out / 'report.json'}")
    return 0
