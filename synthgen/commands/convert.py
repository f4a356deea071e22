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

    from synthgen.formats.registry import get, read_any
    from synthgen.formats.writeout import write_format
    from synthgen.io.outdir import OutputMode, prepare_output_dir, removed_on_failure

    spec = get(args.target)
    labels = read_any(args.source, Path(args.input), Path(args.images) if args.images else None,
                      masks="mask" in spec.holds or bool(args.taxonomy))  # a taxonomy may drop objects: count
                                                                         # the masks of those kept only  # reads and validates everything before writing anything
    if args.taxonomy:
        from synthgen.formats.taxonomy import apply_taxonomy, load_taxonomy

        labels, note = apply_taxonomy(labels, load_taxonomy(Path(args.taxonomy)))
        if note:
            print(note)
    out = Path(args.out)
    with removed_on_failure(out):
        prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW, managed=[], resumable=False)
        print(write_format(labels, spec, out))
    return 0
