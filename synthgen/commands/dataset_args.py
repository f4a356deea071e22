"""Arguments and checks that `synthgen text` and `synthgen table` share.

Both generate a dataset of N items from a config and a seed into a fresh output
directory; keeping the flags and their checks in one place keeps the two
commands' interfaces and error messages identical.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

MAX_JOBS = 64  # processes; each helper keeps a pipe to the caller


def add_dataset_arguments(parser: argparse.ArgumentParser, config_help: str, count_dest: str, items: str) -> None:
    """CONFIG, --out, -n (stored as `count_dest`), --start, --seed, --overwrite, --no-progress and --jobs."""
    parser.add_argument("config", help=config_help)
    parser.add_argument("--out", required=True, help="output directory (refused if not empty, unless --overwrite)")
    parser.add_argument("-n", f"--{count_dest}", type=int, required=True, help=f"number of {items}")
    parser.add_argument("--start", type=int, default=0,
                        help=f"index of the first of the {items} (default 0), for shards: each is the same as in a "
                             "run from 0")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace what synthgen wrote in --out before")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it shows on a terminal once a run has taken 2 s)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="processes to generate with (default: one per core this machine gives synthgen, "
                             "up to 8); the output is the same for any N")


def checked_output(count: int, seed: int, out: str, overwrite: bool, jobs: int | None = None,
                   start: int = 0) -> tuple[Path, Callable[[list[str]], None]]:
    """Reject a bad -n, --seed or --start; return the output directory and the function that prepares it
    (called only once the config has been checked, so a bad config writes nothing)."""
    from synthgen.errors import UserError
    from synthgen.io.outdir import output_mode, prepare_output_dir

    from synthgen.config.checks import check_count_and_seed, check_start

    check_count_and_seed(count, seed)
    check_start(start, count)
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise UserError(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs}")
    path = Path(out)
    return path, lambda managed: prepare_output_dir(path, output_mode(overwrite, False), managed, resumable=False)
