"""Run a table config end to end: check, generate, write the data file and its sidecar.

Everything that can fail because of the config (validation, expression type
errors, label calibration, the first block) happens before the output
directory is created, so a bad config leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from synthgen import __version__
from synthgen.errors import UserError
from synthgen.fake.blocks import block_ranges
from synthgen.io.atomic import atomic_open, atomic_write_json
from synthgen.io.forked import ForkedBlocks, process_count
from synthgen.io.progress import DelayedProgress
from synthgen.tabular.generate import BLOCK_ROWS, CALIBRATION_BLOCKS, Block, Generator
from synthgen.tabular.prepared import prepared_table
from synthgen.tabular.spec import IdColumn, LabelColumn, TableSpec
from synthgen.tabular.stats import ColumnStats
from synthgen.tabular.writers import ENCODERS, FILE_NAMES, write_parquet

SIDECAR = "schema.json"


def write_table(config: str | Path, out: Path, n: int, seed: int, fmt: str,
                prepare: Callable[[list[str]], None], progress: bool = True, jobs: int | None = None,
                start: int = 0) -> str:
    """Rows start .. start + n - 1 of the table into `out`; each row as a run from row 0 writes it."""
    spec, thresholds = prepared_table(config, seed)
    unique = [name for name, c in spec.columns.items() if getattr(c, "unique", False)]
    if start and unique:  # which values are still free at a row depends on every row before it
        raise spec.source.error(("columns", unique[0], "unique"),
                                "a table with a unique column cannot start at --start > 0: the values left at a "
                                "row depend on every earlier row; make the whole table in one run (an id column "
                                "is unique and shards)")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError("--format parquet needs pyarrow: pip install 'synthgen[parquet]'") from None
    generator = Generator(spec, seed, thresholds=thresholds)
    generator.first, generator.limit = start, start + n
    parts = list(block_ranges(start, n, BLOCK_ROWS))  # (block, first row, stop row) inside each block
    names = spec.output_columns()
    tallies = Tallies(spec, names)
    encoder = ENCODERS.get(fmt)
    count = len(parts)
    processes = 1 if encoder is None or unique else process_count(jobs, count)  # seen values carry over blocks
    first: Block | None = None  # block 0 is this process's, made once the helpers have started on theirs

    def make(part: int) -> Any:
        """The rows of the run in its `part`-th block, tallied; as file bytes (and their count) where the
        format allows."""
        index, low, high = parts[part]
        block = first if part == 0 else generator.block(index)
        block = block if high - low == BLOCK_ROWS else block.part(low, high)
        tallies.add(block)
        return (encoder[1](names, block), high - low) if encoder is not None else block

    with ForkedBlocks(count, make, lambda: tallies, processes, fd_later=True) as forked:
        first = generator.block(parts[0][0])  # a config error here leaves nothing behind: nothing is written yet
        generator.store_faker_facts()
        prepare([*FILE_NAMES.values(), SIDECAR])  # --overwrite: a CSV run does not leave an earlier Parquet file
        with DelayedProgress("table", n, "rows", enabled=progress) as bar:
            if encoder is not None:
                with atomic_open(out / FILE_NAMES[fmt], "wb") as handle:
                    header = encoder[0](names)
                    handle.write(header)
                    handle.flush()
                    for rows in forked.results(handle.fileno(), len(header)):  # each process writes its blocks
                        bar.advance(rows)
            else:
                def made() -> Iterator[Block]:
                    for block in forked.results():
                        yield block
                        bar.advance(len(block.values[names[0]]) if names else 0)
                write_parquet(out / FILE_NAMES[fmt], names, made())
    for other in forked.tallies:
        tallies.merge(other)
    atomic_write_json(out / SIDECAR, sidecar(spec, seed, n, fmt, generator, tallies.stats, tallies.label_counts,
                                             start))
    shard = f" (rows {start} .. {start + n - 1})" if start else ""
    return f"{out / FILE_NAMES[fmt]}: {n} rows{shard}, {len(names)} columns; schema in {out / SIDECAR}"


class Tallies:
    """Column statistics and label counts of the blocks one process made."""

    def __init__(self, spec: TableSpec, names: list[str]) -> None:
        self.names = names
        self.stats = {name: ColumnStats(all_distinct=isinstance(spec.columns.get(name), IdColumn)) for name in names}
        self.label_counts: dict[str, Counter] = {
            name: Counter() for name, c in spec.columns.items() if isinstance(c, LabelColumn)}

    def add(self, block: Block) -> None:
        for name in self.names:
            self.stats[name].add(block.values[name], block.missing.get(name))
        for name, counts in self.label_counts.items():
            counts.update(block.values[name].tolist())

    def merge(self, other: "Tallies") -> None:
        for name, stats in self.stats.items():
            stats.merge(other.stats[name])
        for name, counts in self.label_counts.items():
            counts.update(other.label_counts[name])


def sidecar(spec: TableSpec, seed: int, n: int, fmt: str, generator: Generator,
            stats: dict[str, ColumnStats], label_counts: dict[str, Counter], start: int = 0) -> dict[str, Any]:
    """The sidecar: config, seed, schema, label rules, and statistics and counts of the rows written. A shard's
    (--start > 0) also says where its rows start; a run from row 0 says nothing, as before shards existed."""
    from synthgen.fake.facts import faker_version

    raw = spec.source.data
    columns = []
    for name in spec.output_columns():
        definition = raw["columns"].get(name)
        entry: dict[str, Any] = {"name": name}
        if definition is None:
            entry["definition"] = {"type": "label noise flag", "of": _noise_owner(spec, name)}
        else:
            entry["definition"] = _plain(definition)
        entry["stats"] = stats[name].summary()
        columns.append(entry)
    labels = {}
    for name, column in spec.columns.items():
        if not isinstance(column, LabelColumn):
            continue
        label: dict[str, Any] = {"classes": _plain(column.label_values()), "noise_rate": column.noise,
                                 "noise_column": column.noise_column}
        if column.rules is not None:
            label["rules"] = [{"when": r.when, "value": r.value} for r in column.rules]
            label["how"] = "the first rule whose condition holds gives the class; the last rule is the default"
        else:
            cuts = generator.thresholds[name].tolist()
            label.update(score=column.score, balance=column.shares(), thresholds=cuts,
                         how="class k is the k-th class when thresholds[k-1] <= score < thresholds[k]; "
                             f"thresholds are the balance quantiles of the score on {CALIBRATION_BLOCKS * BLOCK_ROWS} "
                             "calibration rows drawn from the seed")
        label["counts"] = {str(k): v for k, v in sorted(label_counts[name].items(), key=lambda kv: str(kv[0]))}
        if column.noise_column:
            label["flipped"] = stats[column.noise_column].counts.get("true", 0)
        labels[name] = label
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return {
        "generator": f"synthgen {__version__}",
        "faker_version": faker_version(),
        "config": str(spec.path),
        "config_sha256": digest,
        "seed": seed,
        **({"start": start} if start else {}),
        "rows": n,
        "format": fmt,
        "file": {"csv": "data.csv", "parquet": "data.parquet", "jsonl": "data.jsonl"}[fmt],
        "locales": dict(zip(spec.locales, spec.locale_weights.tolist())),
        "generation_order": spec.order,
        "missing_values": "applied after labels: labels are computed from the complete row",
        "columns": columns,
        "labels": labels,
        "correlations": _plain(raw.get("correlations", [])),
    }


def _noise_owner(spec: TableSpec, name: str) -> str:
    return next(label for label, c in spec.columns.items() if isinstance(c, LabelColumn) and c.noise_column == name)


def _plain(value: Any) -> Any:
    """YAML data as JSON-safe values (dates become ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
