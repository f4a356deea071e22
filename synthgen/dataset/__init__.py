"""A rendered dataset on disk: its layout, the per-frame writer, the reader, and the one COCO writer."""
