"""`synthgen export DATASET --format F ... --out DIR`: a rendered dataset in the formats tools read."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS

    parser = subparsers.add_parser("export", help="write a rendered dataset in annotation formats (COCO, YOLO, VOC...)")
    parser.add_argument("dataset", help="a directory written by `synthgen render`")
    parser.add_argument("--format", dest="formats", action="append", required=True, choices=list(FORMATS),
                        metavar="FORMAT", help=f"repeatable; one of: {', '.join(FORMATS)}")
    parser.add_argument("--out", required=True, help="output directory; each format goes in OUT/FORMAT/")
    parser.add_argument("--taxonomy", help="YAML mapping of synthgen categories to a target taxonomy")
    parser.add_argument("--overwrite", action="store_true", help="replace the formats' directories in a non-empty OUT")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.commands.labels_output import mapped_to_taxonomy, output_folder
    from synthgen.formats.registry import get, read_any
    from synthgen.formats.writeout import write_format

    specs = [get(name) for name in dict.fromkeys(args.formats)]
    [labels] = mapped_to_taxonomy([read_any("synthgen", Path(args.dataset))], args.taxonomy)
    with output_folder(args.out, args.overwrite, managed=[s.name for s in specs]) as out:
        for spec in specs:
            print(write_format(labels, spec, out / spec.name))
    return 0
