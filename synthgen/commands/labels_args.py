"""The DATASET argument of commands that look at labels (`preview`, `report`): a rendered dataset by default,
or an export in any format synthgen reads, named with --from."""

from __future__ import annotations

import argparse


def readable_formats() -> list[str]:
    from synthgen.formats.registry import FORMATS, READ_ONLY

    return [*READ_ONLY, *FORMATS]


def add_labels_argument(parser: argparse.ArgumentParser) -> None:
    """DATASET and --from (stored as `source_format`, default synthgen)."""
    formats = readable_formats()
    parser.add_argument("dataset", help="a rendered dataset, or labels in any format synthgen reads (with --from)")
    parser.add_argument("--from", dest="source_format", default="synthgen", choices=formats, metavar="FORMAT",
                        help=f"the dataset's format (default synthgen, a rendered dataset), one of: {', '.join(formats)}")
