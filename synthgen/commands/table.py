"""`synthgen table CONFIG --out DIR -n N`: a labelled table and a sidecar describing it."""

from __future__ import annotations

import argparse

FORMAT_CHOICES = ("csv", "parquet", "jsonl")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("table", help="generate a labelled table from a YAML config")
    parser.add_argument("config", help="table config (YAML), e.g. configs/loans.yaml")
    parser.add_argument("--out", required=True, help="output directory (refused if not empty, unless --overwrite)")
    parser.add_argument("-n", "--rows", type=int, required=True, help="number of rows")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", choices=FORMAT_CHOICES, default="csv", help="file format (default csv)")
    parser.add_argument("--overwrite", action="store_true", help="replace what synthgen wrote in --out before")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.errors import UserError
    from synthgen.io.outdir import output_mode, prepare_output_dir
    from synthgen.tabular.output import write_table

    if args.rows < 1:
        raise UserError(f"-n must be at least 1, got {args.rows}")
    if not 0 <= args.seed < 2**63:
        raise UserError(f"--seed must be between 0 and 2**63-1, got {args.seed}")
    out = Path(args.out)
    summary = write_table(args.config, out, args.rows, args.seed, args.format,
                          prepare=lambda managed: prepare_output_dir(out, output_mode(args.overwrite, False), managed, resumable=False))
    print(summary)
    return 0
