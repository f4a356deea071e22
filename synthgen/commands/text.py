"""`synthgen text CONFIG --out DIR -n N`: labelled documents with exact entity spans."""

from __future__ import annotations

import argparse

from synthgen.commands.dataset_args import add_dataset_arguments

FORMAT_CHOICES = ("jsonl", "conll", "doccano", "labelstudio", "hf", "spacy")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("text", help="generate labelled text (entities, document classes) from a YAML config")
    add_dataset_arguments(parser, "text config (YAML), e.g. configs/ner_invoices.yaml", "docs", "documents")
    parser.add_argument("--format", dest="formats", nargs="+", action="extend", choices=FORMAT_CHOICES,
                        metavar="F", help=f"one or more of: {', '.join(FORMAT_CHOICES)} (default jsonl)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from synthgen.commands.dataset_args import checked_output
    from synthgen.io.outdir import removed_on_failure
    from synthgen.text.output import write_text

    out, prepare = checked_output(args.docs, args.seed, args.out, args.overwrite, args.jobs, args.start)
    formats = list(dict.fromkeys(args.formats or ["jsonl"]))
    with removed_on_failure(out):
        print(write_text(args.config, out, args.docs, args.seed, formats, prepare=prepare,
                         progress=not args.no_progress, jobs=args.jobs, start=args.start))
    return 0
