"""Everything one `synthgen compare` run compares: the truth, one or more human exports, a taxonomy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthgen.labels.labelset import LabelSet
from synthgen.formats.taxonomy import Taxonomy, apply_taxonomy


@dataclass(frozen=True)
class CompareInputs:
    truth: LabelSet
    labels: list[tuple[str, str, LabelSet]]  # (name in the report, format, labels)
    taxonomy: Taxonomy | None = None


def in_common_terms(inputs: CompareInputs) -> tuple[LabelSet, list[LabelSet], list[str]]:
    """Both sides mapped through the taxonomy (when there is one), and what it dropped."""
    if inputs.taxonomy is None:
        return inputs.truth, [labels for _, _, labels in inputs.labels], []
    notes = []
    truth, note = apply_taxonomy(inputs.truth, inputs.taxonomy)
    notes += [note] if note else []
    mapped = []
    for _, _, labels in inputs.labels:
        labels, note = apply_taxonomy(labels, inputs.taxonomy)
        mapped.append(labels)
        notes += [note] if note else []
    return truth, mapped, notes


def compare_all(inputs: CompareInputs, threshold: float = 0.5, use_masks: bool = True, boundary_px: float = 2.0,
                reviewed: bool = False, min_score: float | None = None) -> dict[str, Any]:
    """report.json: each annotator against the truth and, with several, against each other."""
    from synthgen.compare.agreement import agreement
    from synthgen.compare.report import compare, in_truth_terms

    truth, mapped, notes = in_common_terms(inputs)
    report: dict[str, Any] = {
        "threshold": threshold,
        "matched_on": "masks where both sides have them, else boxes" if use_masks else "boxes",
        "boundary_px": boundary_px,
        "min_score": min_score,
        "taxonomy": None if inputs.taxonomy is None else {"file": str(inputs.taxonomy.path), "dropped": notes},
        "annotators": {},
    }
    for (name, source_format, _), labels in zip(inputs.labels, mapped):
        report["annotators"][name] = {"source": labels.source, "format": source_format,
                                      **compare(truth, labels, threshold, use_masks, boundary_px, reviewed, min_score)}
    if len(mapped) > 1:
        humans = [in_truth_terms(truth, labels) for labels in mapped]
        report["agreement"] = agreement(truth, list(report["annotators"]), humans, threshold, use_masks)
    return report
