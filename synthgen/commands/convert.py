"""`synthgen convert IN --from F --to G --out DIR`: between annotation formats, real data included."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS, READ_ONLY

    parser = subparsers.add_parser("convert", help="convert labels between annotation formats")
    parser.add_argument("input", help="the labels to read: a file or directory, as the format lays it out")
    parser.add_argument("--from", dest="source", required=True, choices=[*FORMATS, *READ_ONLY], metavar="FORMAT",
                        help=f"one of: {', '.join([*FORMATS, *READ_ONLY])}")
    parser.add_argument("--to", dest="target", required=True, choices=list(FORMATS), metavar="FORMAT",
                        help=f"one of: {', '.join(FORMATS)}")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--images", help="folder holding the input's images when they are not where the export "
                                         "says (server paths and URLs are found by file name under it)")
    parser.add_argument("--taxonomy", help="YAML mapping of the input's categories to a target taxonomy")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT, replacing what the format writes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.commands.labels_output import mapped_to_taxonomy, output_folder
    from synthgen.formats.registry import get, read_any
    from synthgen.formats.writeout import write_format

    spec = get(args.target)
    # everything is read and checked before anything is written; with a taxonomy masks are read too, since it
    # may drop objects and only the kept objects' masks count as lost
    labels = read_any(args.source, Path(args.input), Path(args.images) if args.images else None,
                      masks="mask" in spec.holds or bool(args.taxonomy))
    [labels] = mapped_to_taxonomy([labels], args.taxonomy)
    with output_folder(args.out, args.overwrite, managed=[]) as out:
        print(write_format(labels, spec, out))
    return 0
