"""`synthgen merge A B --out DIR`: one COCO or YOLO dataset from a synthetic and a real one."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS, READ_ONLY

    known = [*READ_ONLY, *FORMATS]
    parser = subparsers.add_parser("merge", help="merge a synthetic and a real dataset into one COCO or YOLO dataset")
    parser.add_argument("a", help="first dataset (by default a rendered synthgen dataset)")
    parser.add_argument("b", help="second dataset (by default COCO: a JSON file or a directory with annotations/)")
    parser.add_argument("--from-a", default="synthgen", choices=known, metavar="FORMAT", help="format of A (synthgen)")
    parser.add_argument("--from-b", default="coco", choices=known, metavar="FORMAT", help="format of B (coco)")
    parser.add_argument("--images-a", help="folder holding A's images when they are not where A says")
    parser.add_argument("--images-b", help="folder holding B's images when they are not where B says")
    parser.add_argument("--synthetic", choices=["a", "b", "both", "none"],
                        help="which inputs are synthetic (default: those read as a rendered synthgen dataset)")
    parser.add_argument("--to", default="coco", choices=["coco", "coco-polygons", "yolo", "yolo-seg", "yolo-pose"],
                        metavar="FORMAT", help="coco (default), coco-polygons, yolo, yolo-seg or yolo-pose")
    parser.add_argument("--taxonomy", help="YAML mapping applied to both inputs before merging")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.commands.labels_output import mapped_to_taxonomy, output_folder
    from synthgen.formats.merge import merge
    from synthgen.formats.registry import get, read_any
    from synthgen.formats.writeout import write_format

    spec = get(args.to)
    masks = "mask" in spec.holds or bool(args.taxonomy)  # a taxonomy may drop objects: count the kept ones' masks
    first = read_any(args.from_a, Path(args.a), Path(args.images_a) if args.images_a else None, masks)
    second = read_any(args.from_b, Path(args.b), Path(args.images_b) if args.images_b else None, masks)
    first, second = mapped_to_taxonomy([first, second], args.taxonomy)
    synthetic = args.synthetic or ("both" if args.from_a == args.from_b == "synthgen" else
                                   "a" if args.from_a == "synthgen" else "b" if args.from_b == "synthgen" else "none")
    labels = merge([(first, synthetic in ("a", "both")), (second, synthetic in ("b", "both"))],
                   list(first.categories) if args.taxonomy else None)  # keep the taxonomy's ids
    with output_folder(args.out, args.overwrite, managed=[]) as out:
        counts = sum(f.extra["source"] == "synthetic" for f in labels.frames)
        print(f"merged {len(labels.frames)} images ({counts} synthetic, {len(labels.frames) - counts} real), "
              f"{len(labels.categories)} categories")
        print(write_format(labels, spec, out))
    return 0
