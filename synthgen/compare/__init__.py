"""Comparing human labels with the exact truth (docs/compare.md, as it grows)."""
