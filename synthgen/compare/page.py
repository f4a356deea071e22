"""report.html: the numbers of report.json as tables and plots, and the worst images as overlays.

One self-contained file (synthgen/viz/html.py): every plot and overlay is an
embedded PNG, so the page opens offline and can be mailed. Each annotator's worst
images show the truth and the human labels in two colours on the same picture.
"""

from __future__ import annotations

from typing import Any

from synthgen.compare.report import EDGES, HIDDEN_BUCKETS, frames_by_stem, in_truth_terms
from synthgen.compare.session import CompareInputs, in_common_terms
from synthgen.viz import html, plots

WORST_SHOWN = 6  # overlays per annotator
SLICE_COLUMNS = ("truth", "labels", "matched", "missed", "extra", "precision", "recall")


def _mean(numbers: dict[str, Any], key: str) -> float | None:
    return numbers[key]["mean"] if key in numbers else None


def _slice_table(slices: dict[str, dict[str, Any]], title: str) -> str:
    header = [title, *SLICE_COLUMNS, "IoU", "mask IoU", "boundary F"]
    rows = [[name, *[numbers.get(k) for k in SLICE_COLUMNS], _mean(numbers, "iou"), _mean(numbers, "mask_iou"),
             _mean(numbers, "boundary_f")] for name, numbers in slices.items()]
    return html.table(header, rows)


def _bucket_recall_plot(report: dict[str, Any], key: str, title: str) -> str | None:
    buckets = list(dict.fromkeys(b for entry in report["annotators"].values() for b in entry[key]))
    if not buckets:
        return None
    series = {name: [(entry[key].get(b, {}).get("recall") or 0.0) for b in buckets]
              for name, entry in report["annotators"].items()}
    return html.image(plots.bar_chart(buckets, series, title, ylabel="recall"), title)


def _summary(report: dict[str, Any]) -> list[str]:
    rows = []
    for name, entry in report["annotators"].items():
        overall = entry["overall"]
        coco = (entry["coco_eval"].get("bbox") or {}).get("AP")
        rows.append([name, entry["format"], entry["images"]["compared"], *[overall.get(k) for k in SLICE_COLUMNS],
                     _mean(overall, "iou"), _mean(overall, "mask_iou"), _mean(overall, "boundary_f"), coco])
    return [html.paragraph(f"Objects matched one to one per image and class at IoU >= {report['threshold']} "
                           f"({report['matched_on']}); boundary tolerance {report['boundary_px']} px. "
                           "Every number is in report.json, described in docs/compare.md."),
            html.table(["labels", "format", "images", *SLICE_COLUMNS, "IoU", "mask IoU", "boundary F", "COCO AP"],
                       rows)]


def _plots(report: dict[str, Any]) -> list[str]:
    annotators = report["annotators"]
    blocks = []
    histograms = {name: entry["iou_histogram"]["counts"] for name, entry in annotators.items()}
    edges = next(iter(annotators.values()))["iou_histogram"]["edges"]
    if any(sum(c) for c in histograms.values()):
        blocks.append(html.image(plots.histogram(edges, histograms, "IoU of matched pairs", "IoU", "pairs"),
                                 "IoU of matched pairs"))
    offsets = {name: [entry["overall"]["edge_offsets_px"][e]["mean"] for e in EDGES]
               for name, entry in annotators.items() if "edge_offsets_px" in entry["overall"]}
    if offsets:
        blocks.append(html.image(plots.bar_chart(list(EDGES), offsets, "Mean edge offset (human - truth)",
                                                 ylabel="pixels (+ right / down)"), "edge offsets"))
    for key, title in (("per_size", "Recall by object size"), ("per_visibility", "Recall by visibility"),
                       ("per_truncation", "Recall by truncation")):
        block = _bucket_recall_plot(report, key, title)
        if block:
            blocks.append(block)
    shares = {name: [entry["hidden"]["by_visibility"][b]["share"] or 0.0 for b in HIDDEN_BUCKETS]
              for name, entry in annotators.items()}
    blocks.append(html.image(plots.bar_chart(list(HIDDEN_BUCKETS), shares, "Share of true objects labelled, "
                                             "by visibility", ylabel="labelled"), "hidden objects"))
    return [html.heading("Plots"), html.row(blocks)]


def _annotator_sections(name: str, entry: dict[str, Any]) -> list[str]:
    blocks = [html.heading(f"{name}: {entry['source']}"), html.heading("By class", 3),
              _slice_table(entry["per_class"], "class"), html.heading("By size, visibility, truncation", 3),
              _slice_table({**{f"size {k}": v for k, v in entry["per_size"].items()},
                            **{f"visibility {k}": v for k, v in entry["per_visibility"].items()},
                            **{f"truncation {k}": v for k, v in entry["per_truncation"].items()}}, "true objects")]
    confusion = entry["confusion"]
    columns = sorted({c for row in confusion.values() for c in row})
    blocks += [html.heading("Class confusion (rows: truth, columns: labelled)", 3),
               html.table(["truth", *columns], [[t, *[row.get(c, 0) for c in columns]] for t, row in confusion.items()])]
    offsets = entry["overall"].get("edge_offsets_px")
    if offsets:
        blocks += [html.heading("Edge offsets in pixels (human - truth; + is right or down)", 3),
                   html.table(["", *EDGES], [[stat, *[offsets[e][stat] for e in EDGES]] for stat in ("mean", "median")])]
    hidden = entry["hidden"]
    blocks += [html.heading("Hidden objects: labelled share by the truth's visibility", 3),
               html.table(["visibility", "true objects", "labelled", "share"],
                          [[b, v["truth"], v["labelled"], v["share"]] for b, v in hidden["by_visibility"].items()]),
               html.paragraph(f"Mostly hidden (under half visible or over half outside the image): "
                              f"{hidden['mostly_hidden']['labelled']} of {hidden['mostly_hidden']['truth']} labelled; "
                              f"{hidden['extras_on_unseen_objects']} human boxes lie on objects no pixel shows.")]
    for kind in ("bbox", "segm"):
        stats = entry["coco_eval"].get(kind)
        if stats:
            blocks += [html.heading(f"COCOeval ({kind})", 3), html.table(list(stats), [list(stats.values())])]
    for category, keypoints in entry["keypoints"].items():
        blocks += [html.heading(f"Keypoints of {category} ({keypoints['objects']} objects, mean OKS "
                                f"{keypoints['oks']['mean'] if keypoints['oks'] else '-'})", 3),
                   html.table(["keypoint", "truth labelled", "human labelled", "OKS", "error px (mean)"],
                              [[k, v["truth_labelled"], v["human_labelled"], v.get("oks_mean"),
                                (v.get("error_px") or {}).get("mean")] for k, v in keypoints["per_keypoint"].items()])]
    review = entry.get("review")
    if review:
        keys = ("prelabels", "reviewed", "unchanged", "moved", "relabelled", "deleted", "added",
                "accepted_unchanged_share")
        blocks += [html.heading("Review of the pre-labels", 3), html.table(list(keys), [[review[k] for k in keys]])]
    return blocks


def _worst_overlays(inputs: CompareInputs, report: dict[str, Any]) -> list[str]:
    from synthgen.viz.frames import frame_image
    from synthgen.viz.images import encode_png
    from synthgen.viz.overlay import display_scale, draw_pair

    truth, mapped, _ = in_common_terms(inputs)
    truth_frames = frames_by_stem(truth, "truth")
    blocks = [html.heading("Worst images"),
              html.paragraph("Truth and human labels on the same picture: mask outlines, tight boxes and classes.")]
    for (name, _, _), labels in zip(inputs.labels, mapped):
        worst = report["annotators"][name]["worst_images"][:WORST_SHOWN]
        if not worst:
            blocks.append(html.paragraph(f"{name}: no image disagrees with the truth."))
            continue
        human = in_truth_terms(truth, labels)
        figures = []
        for item in worst:
            frame = truth_frames[item["image"]]
            image = frame_image(truth, frame)
            picture = draw_pair(image, [i for i in frame.instances if i.bbox is not None], human[item["image"]],
                                scale=display_scale(image.shape[1], image.shape[0]), titles=("truth", name))
            figures.append(html.image(encode_png(picture), f"{name} {item['image']}",
                                      f"{item['image']}: {item['missed']} missed, {item['extra']} extra, "
                                      f"{item['confused']} confused, mean IoU {item['mean_iou']}"))
        blocks += [html.heading(name, 3), html.row(figures)]
    return blocks


def _agreement(report: dict[str, Any]) -> list[str]:
    agreement = report.get("agreement")
    if not agreement:
        return []
    rows = [[pair, v["images"], *v["objects"], v["matched"], v["iou_mean"], v["class_kappa"]]
            for pair, v in agreement["pairs"].items()]
    return [html.heading("Agreement between annotators"),
            html.table(["pair", "images", "objects (first)", "objects (second)", "matched", "mean IoU", "class kappa"],
                       rows),
            html.paragraph(f"Krippendorff's alpha on the classes given to the true objects: {agreement['class_alpha']}")]


def report_blocks(report: dict[str, Any], inputs: CompareInputs) -> list[str]:
    blocks = [*_summary(report), *_plots(report), *_agreement(report)]
    for name, entry in report["annotators"].items():
        blocks += _annotator_sections(name, entry)
    return blocks + _worst_overlays(inputs, report)


def write_page(report: dict[str, Any], inputs: CompareInputs, path) -> None:
    html.write_page(path, "synthgen compare: human labels against the truth", report_blocks(report, inputs))
