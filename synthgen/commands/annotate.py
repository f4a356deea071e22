"""`synthgen annotate DATASET --annotator PROFILE --out EXPORT`: the labels a simulated person would draw."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS

    parser = subparsers.add_parser("annotate", help="label a rendered dataset as a simulated human annotator would")
    parser.add_argument("dataset", help="a directory written by `synthgen render`")
    parser.add_argument("--annotator", required=True,
                        help="a profile YAML, or a bundled profile's name: careful, average, rushed")
    parser.add_argument("--out", required=True, help="export directory")
    parser.add_argument("--to", dest="target", default="coco", choices=list(FORMATS), metavar="FORMAT",
                        help=f"the export's format (default coco), one of: {', '.join(FORMATS)}")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same labels (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty OUT, replacing what the format writes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from collections import Counter
    from pathlib import Path

    from synthgen.annotate.profile import load_profile
    from synthgen.annotate.simulate import annotate
    from synthgen.errors import UserError
    from synthgen.formats.registry import get, read_any
    from synthgen.formats.writeout import write_format
    from synthgen.io.outdir import OutputMode, prepare_output_dir, removed_on_failure

    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    spec = get(args.target)
    profile = load_profile(args.annotator)
    truth = read_any("synthgen", Path(args.dataset))
    tally: Counter = Counter()
    labels = annotate(truth, profile, args.seed, tally)  # everything is checked and drawn before anything is written
    out = Path(args.out)
    with removed_on_failure(out):
        prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW, managed=[], resumable=False)
        print(f"annotator {profile.name}, seed {args.seed}: {tally['true objects']} visible true objects, "
              f"{tally['missed']} missed, {tally['below the visibility floor']} skipped as barely visible, "
              f"{tally['relabelled']} given another class, {tally['duplicated']} labelled twice")
        print(write_format(labels, spec, out))
    return 0
