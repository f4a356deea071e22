"""Map a LabelSet's categories onto a target taxonomy (COCO's 80, Cityscapes' labels, KITTI's, or your own).

A taxonomy file lists the target categories and maps source names to them:

    categories:            # the target list, in order; `id` optional (default: position + 1)
      - {id: 3, name: car}
    map:                   # source category -> target name, or null to drop it on purpose
      cube: car
    unmapped: error        # error | drop | keep, for source categories the map does not name

Names already in the target list map to themselves, so real data that already
speaks the taxonomy passes through. Everything dropped is counted and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from synthgen.config.source import load_yaml
from synthgen.errors import UserError
from synthgen.labels.labelset import Category, LabelSet


@dataclass(frozen=True)
class Taxonomy:
    path: Path
    categories: tuple[Category, ...]
    mapping: dict[str, str | None]
    unmapped: str


def load_taxonomy(path: Path) -> Taxonomy:
    source = load_yaml(path)
    data = source.data
    if not isinstance(data, dict):
        raise source.error((), "a taxonomy is a mapping with categories, map and unmapped")
    unknown = set(data) - {"name", "description", "categories", "map", "unmapped"}
    if unknown:
        key = sorted(unknown)[0]
        raise source.error((key,), f"unknown key '{key}'; valid keys: name, description, categories, map, unmapped")
    items = data.get("categories")
    if not isinstance(items, list) or not items:
        raise source.error(("categories",), "must be a non-empty list of {id, name}")
    categories, ids, names = [], set(), set()
    for k, item in enumerate(items):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise source.error(("categories", k), "expected a name or {id, name}")
        cid = item.get("id", k + 1)
        if not isinstance(cid, int) or isinstance(cid, bool) or cid < 0:
            raise source.error(("categories", k, "id"), f"must be a non-negative integer, got {cid!r}")
        if cid in ids or item["name"] in names:
            raise source.error(("categories", k), f"duplicate category id or name ({cid}, {item['name']!r})")
        ids.add(cid)
        names.add(item["name"])
        categories.append(Category(cid, item["name"]))
    mapping = data.get("map") or {}
    if not isinstance(mapping, dict):
        raise source.error(("map",), "must map source category names to target names (or null)")
    for key, target in mapping.items():
        if target is not None and target not in names:
            raise source.error(("map", key), f"target '{target}' is not one of the taxonomy's categories")
    unmapped = data.get("unmapped", "error")
    if unmapped not in ("error", "drop", "keep"):
        raise source.error(("unmapped",), f"expected error, drop or keep, got {unmapped!r}")
    return Taxonomy(Path(path), tuple(categories), {str(k): v for k, v in mapping.items()}, unmapped)


def apply_taxonomy(labels: LabelSet, taxonomy: Taxonomy) -> tuple[LabelSet, str | None]:
    """The LabelSet in the target taxonomy, and a line saying what was dropped (None if nothing)."""
    targets = {c.name: c for c in taxonomy.categories}
    categories = list(taxonomy.categories)
    resolved: dict[int, Category | None] = {}
    for category in labels.categories:
        if category.name in taxonomy.mapping:
            target = taxonomy.mapping[category.name]
            resolved[category.id] = targets[target] if target is not None else None
        elif category.name in targets:
            resolved[category.id] = targets[category.name]
        elif taxonomy.unmapped == "error":
            raise UserError(f"category '{category.name}' is not mapped (add it under map:, or set unmapped: "
                            f"drop or keep)", file=taxonomy.path, key_path="map")
        elif taxonomy.unmapped == "drop":
            resolved[category.id] = None
        else:
            kept = Category(max(c.id for c in categories) + 1, category.name)
            categories.append(kept)
            targets[kept.name] = kept
            resolved[category.id] = kept
    schemas: dict[str, tuple] = {}
    for category in labels.categories:
        target = resolved[category.id]
        if target is not None and category.keypoints:
            schema = (category.keypoints, category.skeleton)
            if schemas.setdefault(target.name, schema) != schema:
                raise UserError(f"categories with different keypoints map to '{target.name}'", file=taxonomy.path,
                                key_path=("map", category.name))
    categories = [replace(c, keypoints=schemas[c.name][0], skeleton=schemas[c.name][1]) if c.name in schemas else c
                  for c in categories]
    by_name = {c.name: c for c in categories}
    dropped: dict[str, int] = {}
    frames = []
    for frame in labels.frames:
        instances = []
        for instance in frame.instances:
            target = resolved.get(instance.category_id)
            if target is None:
                dropped[instance.category] = dropped.get(instance.category, 0) + 1
                continue
            final = by_name[target.name]
            instances.append(replace(instance, category=final.name, category_id=final.id))
        frames.append(replace(frame, instances=tuple(instances), categories=tuple(c.name for c in categories)))
    note = None
    if dropped:
        what = ", ".join(f"{n} {name}" for name, n in sorted(dropped.items()))
        note = f"taxonomy {taxonomy.path.name}: dropped {sum(dropped.values())} objects whose category maps to nothing ({what})"
    return LabelSet(categories, frames, labels.root, labels.source, labels.unread.copy()), note
