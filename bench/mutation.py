"""Mutation scores of the modules where a wrong number becomes a wrong label.

Runs mutmut (configured in pyproject.toml: which files it mutates, which Blender-free tests it runs)
on the chosen modules, then prints per module: killed / total, the raw score, and the score with the
mutants listed in bench/mutation_equivalent.txt (shown to be equivalent) left out.

    python bench/mutation.py                      # every configured module
    python bench/mutation.py synthgen/scene/poses.py synthgen/config/distributions.py
    python bench/mutation.py --report-only        # scores of the last run, without running
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT = REPO / "bench" / "mutation_equivalent.txt"
KILLED = {1, 3, 37}  # mutmut's exit codes for a failing test run (3: pytest internal error) and a type-check kill
NO_TESTS = {5, 33}  # no selected test reaches the mutated function


def configured_modules() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return config["tool"]["mutmut"]["only_mutate"]


def module_glob(path: str) -> str:
    """mutmut names a mutant by dotted module, function and number: synthgen.scene.poses.x_rigid__mutmut_3."""
    return path.removesuffix(".py").replace("/", ".") + ".*"


def listed_mutants(import_time: bool) -> set[str]:
    """Mutant names from the first column of bench/mutation_equivalent.txt (# starts a comment): those whose
    comment says "import-time" (code mutmut cannot switch, as it runs on import) or the others (equivalent)."""
    if not EQUIVALENT.exists():
        return set()
    names = set()
    for line in EQUIVALENT.read_text().splitlines():
        fields, _, why = line.partition("#")
        if fields.split() and ("import-time" in why) == import_time:
            names.add(fields.split()[0])
    return names


def exit_codes(path: str) -> dict[str, int | None]:
    meta = REPO / "mutants" / (path + ".meta")
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def score_line(path: str, equivalent: set[str], import_time: set[str]) -> tuple[str, list[str]]:
    codes = exit_codes(path)
    killed = sum(code in KILLED for code in codes.values())
    unchecked = sum(code is None for code in codes.values())
    survivors = sorted(name for name, code in codes.items() if code not in KILLED and code is not None)
    equivalent_here = [name for name in survivors if name in equivalent]
    import_time_here = [name for name in survivors if name in import_time]
    total = len(codes) - unchecked
    raw = 100.0 * killed / total if total else 0.0
    effective = total - len(equivalent_here)
    net = 100.0 * killed / effective if effective else 0.0
    reachable = effective - len(import_time_here)
    line = (f"{path:34s} {killed:4d} / {total:4d} killed {raw:5.1f}%  {len(equivalent_here):3d} equivalent: "
            f"{net:5.1f}% without them" + (f", {100.0 * killed / reachable:5.1f}% also without "
                                           f"{len(import_time_here)} import-time" if import_time_here else "")
            + (f"  ({unchecked} not run)" if unchecked else ""))
    untested = sum(codes[name] in NO_TESTS for name in survivors)
    if untested:
        line += f"  ({untested} of them reached by no selected test)"
    return line, [name for name in survivors if name not in equivalent and name not in import_time]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="files as listed in [tool.mutmut] only_mutate (default: all)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes (default 2)")
    parser.add_argument("--report-only", action="store_true", help="print the scores of the last run")
    args = parser.parse_args()
    modules = args.modules or configured_modules()
    unknown = [m for m in modules if m not in configured_modules()]
    if unknown:
        print(f"bench/mutation.py: {unknown[0]} is not in [tool.mutmut] only_mutate of pyproject.toml", file=sys.stderr)
        return 2
    if not args.report_only:
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children),
                   *map(module_glob, modules)]
        subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, check=False)
    equivalent, import_time = listed_mutants(import_time=False), listed_mutants(import_time=True)
    for module in modules:
        line, unexplained = score_line(module, equivalent, import_time)
        print(line)
        for name in unexplained:
            print(f"    survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
