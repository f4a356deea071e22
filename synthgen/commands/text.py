"""`synthgen text CONFIG --out DIR -n N`: labelled documents with exact entity spans."""

from __future__ import annotations

import argparse

FORMAT_CHOICES = ("jsonl", "conll", "doccano", "labelstudio", "hf", "spacy")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("text", help="generate labelled text (entities, document classes) from a YAML config")
    parser.add_argument("config", help="text config (YAML), e.g. configs/ner_invoices.yaml")
    parser.add_argument("--out", required=True, help="output directory (refused if not empty, unless --overwrite)")
    parser.add_argument("-n", "--docs", type=int, required=True, help="number of documents")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--format", dest="formats", nargs="+", action="extend", choices=FORMAT_CHOICES,
                        metavar="F", help=f"one or more of: {', '.join(FORMAT_CHOICES)} (default jsonl)")
    parser.add_argument("--overwrite", action="store_true", help="replace what synthgen wrote in --out before")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.errors import UserError
    from synthgen.io.outdir import output_mode, prepare_output_dir
    from synthgen.text.output import write_text

    if args.docs < 1:
        raise UserError(f"-n must be at least 1, got {args.docs}")
    if not 0 <= args.seed < 2**63:
        raise UserError(f"--seed must be between 0 and 2**63-1, got {args.seed}")
    formats = list(dict.fromkeys(args.formats or ["jsonl"]))
    out = Path(args.out)
    print(write_text(args.config, out, args.docs, args.seed, formats,
                     prepare=lambda managed: prepare_output_dir(out, output_mode(args.overwrite, False), managed, resumable=False)))
    return 0
