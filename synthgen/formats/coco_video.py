"""COCO with video and track fields, as MMTracking's CocoVideoDataset (CocoVID) reads it.

`annotations/instances.json` is the `coco` export (same writer, layout and ids) plus:
- a top-level `videos` list: `id` (from 1), `name` (the sequence's), `fps`, `width`, `height`;
- on each image, `video_id` and `frame_id`, the frame's position in its video counted from 0
  (MMTracking's convention; CenterTrack counts from 1);
- on each annotation, `instance_id`, the track, counted from 0 as MMTracking's converters do:
  instance id - 1, plus 32768 x the video's position so that tracks of different videos never share
  a number; the same value as `track_id` (TAO's and CenterTrack's name); and `visibility`.
pycocotools' COCO() ignores the extra keys. Reading adds 1 back (`instance_id` 0 is instance 1) and keeps
each frame's video as its `sequence`.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthgen.dataset.coco import ANNOTATION_ID_STRIDE
from synthgen.formats import coco, sequences
from synthgen.formats.frames import visible
from synthgen.formats.losses import Losses
from synthgen.io.reading import fail, is_int, read_json
from synthgen.labels.labelset import LabelSet
from synthgen.labels.model import FrameLabels


def _positions(labels: LabelSet) -> tuple[list[dict], dict[int, tuple[int, int, int]]]:
    """The `videos` entries, and per frame (by its place in labels.frames) its video id, frame id and the
    offset its video adds to track numbers."""
    videos, where = [], {}
    place = {id(frame): k for k, frame in enumerate(labels.frames)}
    for position, sequence in enumerate(sequences.split(labels, "synthgen")):
        first = sequence.frames[0].camera
        videos.append({"id": position + 1, "name": sequence.name, "fps": sequences.frame_rate(sequence.frames),
                       "width": first.width, "height": first.height})
        for frame_id, frame in enumerate(sequence.frames):
            where[place[id(frame)]] = (position + 1, frame_id, position * ANNOTATION_ID_STRIDE)
    return videos, where


def _track_fields(frames: list[FrameLabels], where: dict[int, tuple[int, int, int]]):
    """instance_id, track_id and visibility of every visible instance, in the order coco writes them."""
    for k, frame in enumerate(frames):
        offset = where[k][2]
        for instance in visible(frame):
            track = offset + instance.instance_id - 1
            fields = {"instance_id": track, "track_id": track}
            if instance.visibility is not None:
                fields["visibility"] = round(float(instance.visibility), 6)
            yield fields


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "rle") -> None:
    videos, where = _positions(labels)
    image_fields = iter([{"video_id": where[k][0], "frame_id": where[k][1]} for k in range(len(labels.frames))])
    track_fields = _track_fields(labels.frames, where)

    def annotations(items):
        for annotation in items:
            yield {**annotation, **next(track_fields)}

    def images(items):
        for image in items:
            yield {**image, **next(image_fields)}

    coco.write_coco_dir(labels, out, "polygon" if variant == "polygon" else "rle",
                        annotations=annotations, images=images)
    path = out / coco.COCO_JSON
    with open(path, "r+b") as document:  # the one COCO writer's document ends "\n]}\n": add the videos before "}"
        document.seek(-3, 2)
        if document.read(3) != b"]}\n":
            raise AssertionError(f"{path} does not end as the COCO writer writes it")
        document.seek(-2, 2)
        document.write(b', "videos": [' + ",\n".join(json.dumps(v) for v in videos).encode() + b"]}\n")


def _local_tracks(tracks: dict[int, list], doc: dict, videos: dict) -> None:
    """Track numbers back to per-video ones, in place: the writer adds 32768 x the video's position so that
    ids are unique over the file; a video whose numbers all lie in its own block gets the offset taken off.
    Other files' numbers (global ids from another tool) are kept as they are."""
    position = {vid: k for k, vid in enumerate(videos)}
    image_block = {image["id"]: position.get(image.get("video_id")) for image in doc["images"]}
    by_video: dict[int, list[int]] = {}
    for image_id, numbers in tracks.items():
        block = image_block.get(image_id)
        if block is not None:
            by_video.setdefault(block, []).extend(n for n in numbers if n is not None)
    inside = {block for block, numbers in by_video.items()
              if all(block * ANNOTATION_ID_STRIDE <= n < (block + 1) * ANNOTATION_ID_STRIDE for n in numbers)}
    for image_id, numbers in tracks.items():
        block = image_block.get(image_id)
        if block in inside and block:
            tracks[image_id] = [n - block * ANNOTATION_ID_STRIDE if n is not None else None for n in numbers]


def read(path: Path, images: Path | None = None, masks: bool = True) -> LabelSet:
    """A COCO file with video fields: what `coco` reads, each frame's video as its `sequence` and each
    object's `instance_id` (else `track_id`) + 1 as its instance id; when every image has `video_id` and
    `frame_id`, frames go video by video (in order of first appearance) in `frame_id` order. Annotations of
    an image without a track keep coco's numbering."""
    from dataclasses import replace

    labels = coco.read_coco(path, images, masks)
    json_path = Path(labels.source)
    doc = read_json(json_path)
    videos = {}
    for k, video in enumerate(doc.get("videos") or []):
        if not isinstance(video, dict) or not is_int(video.get("id")):
            raise fail(json_path, f"videos[{k}]", "must be an object with an integer id")
        videos[video["id"]] = str(video.get("name") or f"video_{video['id']}")
    image_video = {}
    for k, image in enumerate(doc["images"]):
        vid, frame_id = image.get("video_id"), image.get("frame_id")
        if vid is None:
            continue
        if videos and vid not in videos:
            raise fail(json_path, f"images[{k}] (id {image['id']})", f"video_id {vid!r} is not in videos")
        if frame_id is not None and not (is_int(frame_id) and frame_id >= 0):
            raise fail(json_path, f"images[{k}] (id {image['id']})", f"frame_id must be an integer >= 0, got {frame_id!r}")
        image_video[image["id"]] = videos.get(vid, f"video_{vid}")
    tracks: dict[int, list] = {}
    for k, annotation in enumerate(doc["annotations"]):
        track = annotation.get("instance_id", annotation.get("track_id"))
        if track is not None and not (is_int(track) and track >= 0):
            raise fail(json_path, f"annotations[{k}] (id {annotation['id']})",
                       f"instance_id must be an integer >= 0, got {track!r}")
        tracks.setdefault(annotation["image_id"], []).append(track)
    _local_tracks(tracks, doc, videos)
    frames = []
    order = {image["id"]: (image.get("video_id"), image.get("frame_id")) for image in doc["images"]}
    if all(v is not None and f is not None for v, f in order.values()):  # each video's frames in frame_id order
        videos_first = {vid: k for k, vid in reversed(list(enumerate(v for v, _ in order.values())))}
        labels.frames.sort(key=lambda f: (videos_first[order[f.frame_index][0]], order[f.frame_index][1]))
    for frame in labels.frames:
        numbers = tracks.get(frame.frame_index, [])
        if numbers and None not in numbers:
            if len(set(numbers)) != len(numbers):
                raise fail(json_path, f"image {frame.frame_index}", "two annotations share an instance_id")
            frame = replace(frame, instances=tuple(replace(i, instance_id=n + 1)
                                                   for i, n in zip(frame.instances, numbers)))
        if frame.frame_index in image_video:
            frame = replace(frame, extra={**frame.extra, "sequence": image_video[frame.frame_index]})
        frames.append(frame)
    return LabelSet(labels.categories, frames, labels.root, labels.source, labels.unread)
