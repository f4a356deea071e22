"""Faker values, weighted choices and per-block random streams: what text and table generation share."""
