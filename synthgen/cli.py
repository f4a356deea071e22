"""The `synthgen` command line. Bad input exits with status 2 and one line on stderr."""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import signal
import sys
import threading

from synthgen import __version__
from synthgen.errors import EXIT_USAGE, UserError
from synthgen.io.folder_lock import release_all
from synthgen.io.stopping import EXIT_STATUS, Terminated

# Each command module exposes add_parser(subparsers) and keeps heavy imports inside
# its run function, so `synthgen validate` never pays for importing Blender.
COMMAND_MODULES = [
    "synthgen.commands.validate",
    "synthgen.commands.render",
    "synthgen.commands.table",
    "synthgen.commands.text",
    "synthgen.commands.export",
    "synthgen.commands.convert",
    "synthgen.commands.merge",
    "synthgen.commands.compare",
    "synthgen.commands.annotate",
    "synthgen.commands.preview",
    "synthgen.commands.report",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, like every other bad input
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with `command` of that one only: a run of a command needs no other's
    arguments (building them all took about 20 ms of start-up); the full list is for help and mistakes."""
    parser = _Parser(prog="synthgen", description="Synthetic data with exact labels.")
    parser.add_argument("--version", action="version", version=f"synthgen {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        if command is None or name == f"synthgen.commands.{command}":
            importlib.import_module(name).add_parser(subparsers)
    return parser


def _quick_exit() -> None:
    """At exit, before the interpreter tears its modules down: collect the garbage there is (so its
    finalizers run), then freeze everything left, so the collections of the teardown do not walk every
    object numpy and the run keep alive once more (20 to 40 ms of a table run's exit)."""
    gc.collect()
    gc.freeze()


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    atexit.unregister(_quick_exit)  # once, however often main runs in one process
    atexit.register(_quick_exit)
    words = sys.argv[1:] if argv is None else argv
    command = words[0] if words and f"synthgen.commands.{words[0]}" in COMMAND_MODULES else None
    args = build_parser(command).parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        return int(args.run(args) or 0)
    except UserError as error:
        print(f"synthgen: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("synthgen: terminated", file=sys.stderr)
        return EXIT_STATUS[signal.SIGTERM]
    except KeyboardInterrupt:
        print("synthgen: interrupted", file=sys.stderr)
        return EXIT_STATUS[signal.SIGINT]
    except OSError as error:  # the machine refused a read or write (permissions, disk full): one line too
        where = f"{error.filename}: " if error.filename else ""
        print(f"synthgen: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        release_all()  # the output folder's lock (synthgen/io/folder_lock.py), for the next command in this process
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
