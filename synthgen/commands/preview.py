"""`synthgen preview DATASET [--from FORMAT] [--frames SPEC] --out DIR`: each frame with its labels drawn, and a contact sheet."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from synthgen.commands.labels_args import add_labels_argument

    parser = subparsers.add_parser("preview", help="draw labels over their images: one PNG per frame and a contact sheet")
    add_labels_argument(parser)
    parser.add_argument("--frames", help="frames to draw by index, e.g. 0-9,15 (default: all)")
    parser.add_argument("--out", required=True, help="output directory: one PNG per frame (named by its image) "
                                                     "and contact.png")
    parser.add_argument("--overwrite", action="store_true", help="replace the previews in a non-empty OUT")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from synthgen.errors import UserError
    from synthgen.formats.frames import frame_names
    from synthgen.formats.registry import read_any
    from synthgen.io.outdir import OutputMode, prepare_output_dir
    from synthgen.viz.frames import frame_overlay
    from synthgen.viz.images import write_png
    from synthgen.viz.select import select
    from synthgen.viz.sheet import cell_size, contact_sheet, thumbnail

    labels = read_any(args.source_format, Path(args.dataset))
    chosen = select([f.frame_index for f in labels.frames], args.frames)
    names = frame_names(labels.frames, labels.source)
    for position in chosen:  # every image is there before anything is written
        frame = labels.frames[position]
        if not labels.image_path(frame).is_file():
            raise UserError(f"frame {frame.frame_index}: no image to draw on ({frame.image} not found)",
                            file=args.dataset)
    out = Path(args.out)
    prepare_output_dir(out, OutputMode.OVERWRITE if args.overwrite else OutputMode.NEW,
                       managed=["frames", "contact.png"], resumable=False)
    (out / "frames").mkdir()  # overlays apart from the sheet: a frame named 'contact' cannot overwrite it
    side = cell_size(len(chosen))
    thumbs, captions, written = [], [], []
    try:
        for position in chosen:
            overlay = frame_overlay(labels, labels.frames[position])
            path = out / "frames" / f"{names[position]}.png"
            write_png(path, overlay)
            written.append(path)
            thumbs.append(thumbnail(overlay, side))
            captions.append(names[position])
        write_png(out / "contact.png", contact_sheet(thumbs, captions, side=side))
    except BaseException:  # a frame that cannot be drawn: leave nothing behind
        for path in written:
            path.unlink(missing_ok=True)
        raise
    print(f"{len(chosen)} frame previews in {out / 'frames'}, all of them in {out / 'contact.png'}")
    return 0
