"""Generate a table block by block so that row i depends only on (config, seed, i).

Each block has BLOCK_ROWS rows and is always generated whole (the last one is
cut afterwards), and every column draws from its own stream keyed by the block
index and the column name; so `-n 1000` is a prefix of `-n 5000`, and adding a
column does not change the others. Order inside a block:

1. the row locales and the copula uniforms of correlated columns;
2. columns in dependency order: value, then outliers (which dependents see);
3. label noise (flips recorded per row);
4. missing values, applied last so labels are computed from complete rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from synthgen.errors import UserError
from synthgen.tabular import columns as draw
from synthgen.fake.blocks import block_rng, blocks, choose_weighted
from synthgen.tabular.spec import (
    NUMERIC, BooleanColumn, CategoryColumn, DateColumn, FakerColumn, FormulaColumn, IdColumn, LabelColumn,
    TableSpec, case_key, dependencies,
)
from synthgen.tabular.expr import ExprFault
from synthgen.fake.values import FakerValues
from synthgen.tabular.normal import normal_cdf

BLOCK_ROWS = 10_000  # rows per block; -n in multiples of it wastes no generated rows
CALIBRATION_BLOCKS = 4  # rows used to place score-label thresholds: 4 x 10,000
MAIN, CALIBRATION = 0, 1


@dataclass
class Block:
    """Columns of one block (full BLOCK_ROWS rows, or fewer once cut) and their missing masks."""

    values: dict[str, np.ndarray]
    missing: dict[str, np.ndarray] = field(default_factory=dict)

    def head(self, n: int) -> "Block":
        return self.part(0, n)

    def part(self, first: int, stop: int) -> "Block":
        """Rows first .. stop - 1 (views, not copies)."""
        return Block({k: v[first:stop] for k, v in self.values.items()},
                     {k: v[first:stop] for k, v in self.missing.items()})


@dataclass
class Generator:
    """Generation state that outlives one block: Faker data, label thresholds, seen unique values."""

    spec: TableSpec
    seed: int
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)
    _sources: dict[int, list[FakerValues]] = field(default_factory=dict)
    _seen: dict[str, set] = field(default_factory=dict)
    limit: int = 0  # rows wanted; uniqueness is enforced on these only, in row order
    first: int = 0  # the first row wanted (a shard's --start): expression errors before it are another shard's
    _case_memo: dict[int, tuple] = field(default_factory=dict)  # the last parent's case codes, kept with it
    _drawn_codes: dict[int, tuple] = field(default_factory=dict)  # this block's category columns: their codes

    def sources(self, pool: int) -> list[FakerValues]:
        if pool not in self._sources:
            self._sources[pool] = [FakerValues(loc, self.seed, pool) for loc in self.spec.locales]
        return self._sources[pool]

    def store_faker_facts(self) -> None:
        """Keep what was read from Faker so far for later runs (synthgen/fake/facts.py)."""
        for sources in self._sources.values():
            for source in sources:
                source.store()

    def rng(self, block: int, stream: str, root: int = MAIN) -> np.random.Generator:
        return block_rng(self.seed, block, stream, root)

    # -- one block ---------------------------------------------------------------------------
    def block(self, index: int) -> Block:
        """Block `index` of the output: every column, labels with their noise, then missing values."""
        env, _ = self._columns(index, MAIN)
        spec, missing = self.spec, {}
        for name, column in spec.columns.items():
            rate = getattr(column, "missing", 0.0)
            if rate > 0 and not isinstance(column, LabelColumn):
                missing[name] = self.rng(index, f"missing:{name}").random(BLOCK_ROWS) < rate
        return Block({name: env[name] for name in spec.output_columns()}, missing)

    def calibration_scores(self, index: int, label: str) -> np.ndarray:
        """The score of `label` on calibration block `index`; only the columns the score reads are made."""
        _, score = self._columns(index, CALIBRATION, stop_at=label)
        assert score is not None
        return score

    def _columns(self, index: int, root: int, stop_at: str | None = None) -> tuple[dict[str, np.ndarray],
                                                                                   np.ndarray | None]:
        """The columns of a block in dependency order, or, with `stop_at`, up to that label's score."""
        spec, n = self.spec, BLOCK_ROWS
        env: dict[str, np.ndarray] = {}
        self._drawn_codes = {}
        locale_index = choose_weighted(self.rng(index, "locale", root), spec.locale_weights, n)
        uniforms = self._copula(index, root, n)
        needed = self._needed(stop_at) if stop_at is not None else None
        for name in spec.order:
            if needed is not None and name not in needed:
                continue  # calibration makes only what the score reads; each column has its own stream
            column = spec.columns[name]
            if isinstance(column, LabelColumn):
                if stop_at == name:
                    return env, self._expr(("columns", name, "score"), env, n, index, root).astype(np.float64)
                env[name], flips = self._label(name, column, env, index, root, n)
                if column.noise_column:
                    env[column.noise_column] = flips
            else:
                env[name] = self._column(name, column, env, index, root, n, locale_index, uniforms)
                if getattr(column, "unique", False) and root == MAIN:
                    self._make_unique(name, column, env, index, locale_index)
        return env, None

    def _needed(self, name: str) -> set[str]:
        """`name` and every column it depends on, directly or not."""
        makers = {c.noise_column: n for n, c in self.spec.columns.items() if getattr(c, "noise_column", None)}
        needed, todo = set(), [name]
        while todo:
            current = todo.pop()
            current = makers.get(current, current)  # a label's flip column is made by the label
            if current not in needed:
                needed.add(current)
                todo.extend(dependencies(self.spec, current))
        return needed

    def _copula(self, index: int, root: int, n: int) -> dict[str, np.ndarray]:
        uniforms: dict[str, np.ndarray] = {}
        for group, (names, chol) in enumerate(self.spec.correlation_groups):
            z = self.rng(index, f"copula:{group}", root).standard_normal((n, len(names))) @ chol.T
            for position, name in enumerate(names):
                uniforms[name] = normal_cdf(z[:, position])
        return uniforms

    def _column(self, name: str, column: Any, env: dict[str, np.ndarray], index: int, root: int, n: int,
                locale_index: np.ndarray, uniforms: dict[str, np.ndarray]) -> np.ndarray:
        rng = self.rng(index, f"column:{name}", root)
        if isinstance(column, IdColumn):
            return draw.ids(column, index * BLOCK_ROWS, n)
        if column.type in NUMERIC:
            u = uniforms[name] if name in uniforms else rng.random(n)
            values = self._per_case(name, column, env, n, lambda spec, rows: draw.numeric_from_uniform(spec, u[rows]))
            return self._outliers(name, column, values, index, root, n)
        if isinstance(column, FormulaColumn):
            values = self._formula(name, column, env, index, root, n)
            return self._outliers(name, column, values, index, root, n) if values.dtype.kind in "if" else values
        if isinstance(column, CategoryColumn):  # drawn as positions in the categories, kept for its dependents
            codes = self._per_case(name, column, env, n, lambda spec, rows: draw.category_codes(spec, rng, rows.size))
            categories = column.categories()  # a case changes the weights, never the categories
            values = draw.natural_array(categories)[codes]
            if not column.unique:  # a unique column's repeated values are redrawn afterwards: codes would be stale
                self._drawn_codes[id(values)] = (values, codes, categories)
            return values
        if isinstance(column, BooleanColumn):
            return self._per_case(name, column, env, n, lambda spec, rows: draw.boolean(spec, rng, rows.size))
        if isinstance(column, DateColumn):
            return self._per_case(name, column, env, n, lambda spec, rows: draw.date(spec, rng, rows.size))
        if isinstance(column, FakerColumn):
            return self._per_case(name, column, env, n, lambda spec, rows: draw.faker(
                spec, self.sources(spec.pool), locale_index[rows], rng, rows.size))
        raise TypeError(type(column).__name__)  # pragma: no cover

    def _per_case(self, name: str, column: Any, env: dict[str, np.ndarray], n: int, make: Any) -> np.ndarray:
        """Draw with the column's own parameters, then redraw the rows of each case with its overrides."""
        all_rows = np.arange(n)
        values = make(column, all_rows)
        cases = self.spec.case_specs.get(name)
        if cases:
            parent = env[column.by]
            if id(parent) not in self._case_memo:  # several columns may condition on one parent
                self._case_memo = {id(parent): (parent, self._parent_codes(parent))}
            codes, keys = self._case_memo[id(parent)][1]
            for value, case in cases.items():
                rows = np.flatnonzero(codes == keys.index(value)) if value in keys else ()
                if len(rows):
                    values[rows] = make(case, rows)
        return values

    def _parent_codes(self, parent: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """_case_codes of a parent column; for a category column, the codes it was drawn as (when its
        categories' case keys differ, as they do unless a config repeats a value)."""
        drawn = self._drawn_codes.get(id(parent))
        if drawn is not None and drawn[0] is parent:
            keys = [case_key(v) for v in drawn[2]]
            if len(set(keys)) == len(keys):
                return drawn[1], keys
        return _case_codes(parent)

    def _outliers(self, name: str, column: Any, values: np.ndarray, index: int, root: int, n: int) -> np.ndarray:
        if column.outliers is None or column.outliers.rate <= 0:
            return values
        hit = self.rng(index, f"outliers:{name}", root).random(n) < column.outliers.rate
        out = values.astype(np.float64)
        out[hit] = out[hit] * column.outliers.factor
        if values.dtype.kind == "i":
            return draw.finish_numeric(column, out)
        if column.decimals is not None:  # 20.49 * 20 is 409.79999999999995: round outliers as the column says
            out[hit] = np.round(out[hit], column.decimals)
        return out

    def _formula(self, name: str, column: FormulaColumn, env: dict[str, np.ndarray], index: int, root: int,
                 n: int) -> np.ndarray:
        values = self._expr(("columns", name, "expr"), env, n, index, root, column.on_error)
        if values.dtype.kind in "biuf" and values.dtype.kind != "b":
            values = values.astype(np.float64)
            if column.noise is not None and column.noise.std > 0:
                values = values + self.rng(index, f"noise:{name}", root).normal(0.0, column.noise.std, n)
            return draw.finish_numeric(column, values)
        if column.noise is not None:
            raise self.spec.source.error(("columns", name, "noise"), "noise needs a numeric expression")
        return values.astype(object) if values.dtype.kind == "U" else values

    def _expr(self, key: tuple, env: dict[str, np.ndarray], n: int, index: int, root: int,
              on_error: Any = "error") -> np.ndarray:
        """Evaluate a config expression over a block. Rows where it went wrong (division by zero, domain,
        overflow) are an error naming the first of them, or with `on_error` set, NaN or that value;
        rows past -n in the last block, or before --start in the first, do not count."""
        try:
            return self.spec.exprs[key].evaluate(env, n)
        except ExprFault as fault:
            offset = index * BLOCK_ROWS
            rows = fault.rows if root != MAIN else \
                fault.rows[(fault.rows < self.limit - offset) & (fault.rows >= self.first - offset)]
            if rows.size and on_error == "error":
                where = f"row {index * BLOCK_ROWS + int(rows[0])}" if root == MAIN else \
                    f"row {index * BLOCK_ROWS + int(rows[0])} of the label calibration sample"
                raise self.spec.source.error(key, f"{fault.problem} at {where}: '{fault.where}' "
                                                  f"({rows.size} rows of this block; on_error: null or a number "
                                                  "writes those rows as missing or as that value)") from None
            value = fault.value
            if on_error != "error" and value.dtype.kind in "biuf":
                value = value.astype(np.float64)
                value[fault.rows] = np.nan if on_error is None else float(on_error)
            return value
        except UserError:
            raise
        except Exception as exc:  # a type error inside the user's expression
            raise self.spec.source.error(key, f"expression failed: {exc}") from None

    def _label(self, name: str, column: LabelColumn, env: dict[str, np.ndarray], index: int, root: int,
               n: int) -> tuple[np.ndarray, np.ndarray]:
        classes = column.label_values()
        if column.rules is not None:
            chosen = np.full(n, -1, dtype=np.int64)
            for position, rule in enumerate(column.rules):
                class_index = classes.index(rule.value)
                if rule.when is None:
                    hit = np.ones(n, dtype=bool)
                else:
                    hit = np.asarray(self._expr(("columns", name, "rules", position, "when"), env, n, index, root),
                                     dtype=bool)
                chosen = np.where((chosen < 0) & hit, class_index, chosen)
        else:
            score = self._expr(("columns", name, "score"), env, n, index, root).astype(np.float64)
            chosen = np.searchsorted(self.thresholds[name], score, side="right")
        flip = np.zeros(n, dtype=bool)
        if column.noise > 0:
            rng = self.rng(index, f"label-noise:{name}", root)
            flip = rng.random(n) < column.noise
            shift = rng.integers(1, len(classes), size=n)
            chosen = np.where(flip, (chosen + shift) % len(classes), chosen)
        return draw.natural_array(classes)[chosen], flip

    def _make_unique(self, name: str, column: Any, env: dict[str, np.ndarray], index: int,
                     locale_index: np.ndarray) -> None:
        """Redraw values already seen in earlier rows; row order makes this prefix-stable."""
        seen = self._seen.setdefault(name, set())
        values = env[name]
        rng = self.rng(index, f"unique:{name}")
        for row in range(min(values.size, self.limit - index * BLOCK_ROWS)):
            value = values[row]
            key = value.item() if isinstance(value, np.generic) else value
            attempts = 0
            while key in seen:
                attempts += 1
                if attempts > 1000:
                    raise UserError(f"no unused value left after 1000 draws at row {index * BLOCK_ROWS + row}; "
                                    "the column's value space is too small for -n",
                                    file=self.spec.path, key_path=("columns", name, "unique"))
                one = self._redraw(name, column, rng, locale_index[row:row + 1])
                values[row] = one[0]
                key = values[row].item() if isinstance(values[row], np.generic) else values[row]
            seen.add(key)

    def _redraw(self, name: str, column: Any, rng: np.random.Generator, locale_index: np.ndarray) -> np.ndarray:
        if column.type in NUMERIC:
            return draw.numeric_from_uniform(column, rng.random(1))
        if isinstance(column, DateColumn):
            return draw.date(column, rng, 1)
        if isinstance(column, FakerColumn):
            return draw.faker(column, self.sources(column.pool), locale_index, rng, 1)
        if isinstance(column, CategoryColumn):
            return draw.category(column, rng, 1)
        return draw.boolean(column, rng, 1)

    # -- calibration ---------------------------------------------------------------------------
    def calibrate(self) -> None:
        """Place the class thresholds of score labels from a fixed calibration sample.

        The sample is its own stream (never the output rows) and does not depend
        on -n, so the thresholds, and therefore every label, are fixed by the seed.
        """
        for name in self.spec.order:
            column = self.spec.columns[name]
            if isinstance(column, LabelColumn) and column.score is not None:
                scores = np.concatenate([self.calibration_scores(b, name)
                                         for b in range(CALIBRATION_BLOCKS)])
                cumulative = np.cumsum(column.shares())[:-1]
                scores = scores[np.isfinite(scores)]  # missing inputs (on_error: null) have no score to place
                self.thresholds[name] = np.quantile(scores, cumulative, method="inverted_cdf")

    def rows(self, n: int, first: Block | None = None) -> Iterator[Block]:
        """The first n rows, block by block (call calibrate() first). `first` is block 0 if already made."""
        self.limit = n
        for index, wanted in blocks(n, BLOCK_ROWS):
            block = first if index == 0 and first is not None else self.block(index)
            yield block if wanted == BLOCK_ROWS else block.head(wanted)


def _case_codes(parent: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each row's parent value as a number, and the case key (how `cases` names it: booleans as
    true/false, others as text) of each number."""
    if parent.dtype == bool:
        return parent.astype(np.intp), ["false", "true"]
    items = parent.tolist() if parent.dtype.kind == "O" else None
    if items is not None and len(set(map(type, items))) == 1:
        # text categories: comparing with each of the few distinct values is far faster than sorting Python
        # objects (with one type only, so that 1 and True are not taken for one value)
        distinct = list(set(items))
        codes = np.zeros(parent.size, dtype=np.intp)
        for number, value in enumerate(distinct[1:], start=1):
            codes[parent == value] = number
        return codes, [case_key(v) for v in distinct]
    distinct, where = np.unique(parent, return_inverse=True)  # a block has few distinct parent values
    return where.reshape(-1), [case_key(v) for v in distinct.tolist()]


def generate(spec: TableSpec, seed: int, n: int) -> Block:
    """All n rows in memory (for tests and the benchmark)."""
    generator = Generator(spec, seed)
    generator.calibrate()
    parts = list(generator.rows(n))
    if not parts:
        return Block({name: np.empty(0) for name in spec.output_columns()})
    values = {k: np.concatenate([p.values[k] for p in parts]) for k in parts[0].values}
    missing = {k: np.concatenate([p.missing[k] for p in parts]) for k in parts[0].missing}
    return Block(values, missing)
