"""`synthgen table CONFIG --out DIR -n N`: a labelled table and a sidecar describing it."""

from __future__ import annotations

import argparse

from synthgen.commands.dataset_args import add_dataset_arguments

FORMAT_CHOICES = ("csv", "parquet", "jsonl")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("table", help="generate a labelled table from a YAML config")
    add_dataset_arguments(parser, "table config (YAML), e.g. configs/loans.yaml", "rows", "rows")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="csv", help="file format (default csv)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthgen.commands.dataset_args import checked_output
    from synthgen.io.outdir import removed_on_failure
    from synthgen.tabular.output import write_table

    out, prepare = checked_output(args.rows, args.seed, args.out, args.overwrite, args.jobs, args.start)
    with removed_on_failure(out):
        print(write_table(args.config, out, args.rows, args.seed, args.format, prepare=prepare,
                          progress=not args.no_progress, jobs=args.jobs, start=args.start))
    return 0
