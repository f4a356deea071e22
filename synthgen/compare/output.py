"""What `synthgen compare` leaves behind: report.json, report.html, and a short table on the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthgen.compare.session import CompareInputs
from synthgen.io.atomic import atomic_write_text


def write_report(report: dict[str, Any], inputs: CompareInputs, out: Path) -> None:
    """report.html first, then report.json: a report.json on disk means the run finished."""
    from synthgen.compare.page import write_page

    write_page(report, inputs, out / "report.html")
    atomic_write_text(out / "report.json", json.dumps(report, indent=1) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table_rows(report: dict[str, Any]) -> list[list[str]]:
    """One row per annotator and class, then the annotator's total: the numbers people look at first."""
    rows = [["labels", "class", "truth", "labelled", "matched", "missed", "extra", "precision", "recall", "IoU"]]
    for name, entry in report["annotators"].items():
        for label, numbers in [*entry["per_class"].items(), ("all", entry["overall"])]:
            rows.append([name, label] + [_cell(numbers.get(k)) for k in
                                         ("truth", "labels", "matched", "missed", "extra", "precision", "recall")]
                        + [_cell(numbers["iou"]["mean"]) if "iou" in numbers else "-"])
    return rows


def print_table(report: dict[str, Any]) -> None:
    rows = table_rows(report)
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) if k < 2 else cell.rjust(w) for k, (cell, w) in enumerate(zip(row, widths))))
    for pair, numbers in report.get("agreement", {}).get("pairs", {}).items():
        print(f"{pair}: {numbers['matched']} matched, mean IoU {_cell(numbers['iou_mean'])}, "
              f"class kappa {_cell(numbers['class_kappa'])}")
    if "agreement" in report:
        print(f"class alpha (Krippendorff) over all annotators: {_cell(report['agreement']['class_alpha'])}")
