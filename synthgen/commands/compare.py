"""`synthgen compare --truth DATASET --labels EXPORT --from FORMAT --out DIR`: human labels against the truth."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.formats.registry import FORMATS

    parser = subparsers.add_parser("compare", help="measure human labels against a rendered dataset's exact labels")
    parser.add_argument("--truth", required=True, help="a directory written by `synthgen render`")
    parser.add_argument("--labels", required=True, action="append",
                        help="human labels: an export in any format synthgen reads; repeat for several annotators")
    sources = [*FORMATS, "coco-results"]
    parser.add_argument("--from", dest="source_format", required=True, action="append", choices=sources,
                        metavar="FORMAT", help=f"the labels' format, once for all or once per --labels: "
                                               f"{', '.join(sources)} (a model's detections, by the ids of the "
                                               f"truth's COCO export)")
    parser.add_argument("--min-score", type=float, help="leave detections scored below this out of the counts "
                                                        "(COCOeval still ranks them all)")
    parser.add_argument("--images", help="folder holding the labels' images when they are not where the exports "
                                         "say (server paths and URLs are found by file name under it)")
    parser.add_argument("--taxonomy", help="a taxonomy file mapping both sides' categories onto common names")
    parser.add_argument("--iou", type=float, default=0.5, help="IoU a pair needs to match (default 0.5)")
    parser.add_argument("--boxes", action="store_true", help="match on boxes even where both sides have masks")
    parser.add_argument("--boundary-px", type=float, default=2.0,
                        help="distance within which boundaries agree, for the boundary F-score (default 2)")
    parser.add_argument("--reviewed", action="store_true",
                        help="the labels are the truth's pre-labels after human review: report what reviewers changed")
    parser.add_argument("--out", required=True, help="report directory: report.json and report.html")
    parser.add_argument("--overwrite", action="store_true", help="replace the report in a non-empty OUT")
    parser.set_defaults(run=run)


def annotator_names(paths: list[str]) -> list[str]:
    """Each export's name in the report: its file or folder name, numbered when two are alike."""
    from pathlib import Path

    names: list[str] = []
    for path in paths:
        base = Path(path).resolve().name or "labels"
        name, k = base, 2
        while name in names:
            name, k = f"{base}-{k}", k + 1
        names.append(name)
    return names


def read_each(name: str, source_format: str, path, images, truth) -> list[tuple[str, str, object]]:
    """One --labels as (name, format, labels) per annotator: a Label Studio export annotated by several
    people is several annotators, NAME:WHO each, compared with the truth and with each other."""
    from synthgen.formats.registry import read_per_annotator

    each = read_per_annotator(source_format, path, images)
    if each:
        print(f"{name}: {len(each)} annotators ({', '.join(who for who, _ in each)}), compared one by one")
        return [(f"{name}:{who}", source_format, labels) for who, labels in each]
    return [(name, source_format, read_labels(source_format, path, images, truth))]


def read_labels(source_format: str, path, images, truth):
    """One --labels: any format synthgen reads, or a results file over the truth's COCO ids."""
    from synthgen.formats.registry import read_any

    if source_format == "coco-results":
        from synthgen.errors import UserError
        from synthgen.formats.coco_results import read_results

        if not path.is_file():
            raise UserError("no such file", file=path)
        return read_results(path, truth)
    return read_any(source_format, path, images)


def run(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from synthgen.compare.output import print_table, write_report
    from synthgen.compare.session import CompareInputs, compare_all
    from synthgen.errors import UserError
    from synthgen.formats.registry import read_any
    from synthgen.io.outdir import OutputMode, prepare_output_dir, removed_on_failure

    if not 0.0 < args.iou <= 1.0:
        raise UserError(f"--iou must be in (0, 1], got {args.iou}")
    if not (math.isfinite(args.boundary_px) and args.boundary_px >= 0):
        raise UserError(f"--boundary-px must be a finite number of pixels, at least 0, got {args.boundary_px}")
    formats = args.source_format
    if len(formats) not in (1, len(args.labels)):
        raise UserError(f"give --from once, or once per --labels ({len(args.labels)}), not {len(formats)} times")
    formats = formats * len(args.labels) if len(formats) == 1 else formats
    truth = read_any("synthgen", Path(args.truth))
    images = Path(args.images) if args.images else None
    if args.min_score is not None and not math.isfinite(args.min_score):
        raise UserError(f"--min-score must be a finite number, got {args.min_score}")
    labels = [each for name, f, p in zip(annotator_names(args.labels), formats, args.labels)
              for each in read_each(name, f, Path(p), images, truth)]
    taxonomy = None
    if args.taxonomy:
        from synthgen.formats.taxonomy import load_taxonomy

        taxonomy = load_taxonomy(Path(args.taxonomy))
    inputs = CompareInputs(truth, labels, taxonomy)
    report = compare_all(inputs, threshold=args.iou, use_masks=not args.boxes, boundary_px=args.boundary_px,
                         reviewed=args.reviewed, min_score=args.min_score)
    out = Path(args.out)
    with removed_on_failure(out):
        prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW,
                           managed=["report.json", "report.html"], resumable=False)
        write_report(report, inputs, out)
    print_table(report)
    print(f"report -> {out / 'report.json'}, {out / 'report.html'}")
    return 0
