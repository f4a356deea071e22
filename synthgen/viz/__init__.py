"""Pictures of labels: overlays, contact sheets, plots and self-contained HTML pages.

Building blocks shared by `synthgen preview`, `synthgen report` and compare's
report page; each module has one job and takes plain numpy arrays, label
objects and bytes, so any command can put them together:

- `palette`: fixed, deterministic colours (one per instance position; two for truth vs labels).
- `images`: read an RGB image, encode PNG bytes, data: URIs, write a PNG atomically.
- `overlay`: masks, tight and amodal boxes, class names, keypoints and skeletons on an image;
  two label sets on one image (`draw_pair`). Masks are a separate layer (`mask_layer`,
  `blend_masks`), strokes another (`stroke_layer`), so each can be checked pixel by pixel.
- `sheet`: many images as one grid of captioned thumbnails.
- `plots`: matplotlib (Agg) bar charts, histograms and heat maps as PNG bytes, one or
  two datasets per plot.
- `html`: a page of headings, paragraphs, escaped tables and embedded images, written
  atomically, with nothing fetched from the network.
- `select`: frame selections such as `0-9,15`.
- `profile` and `dataset_report`: the numbers and the page of `synthgen report`.

Nothing here is imported by the command line at start-up; matplotlib is loaded only by `plots`.
"""
