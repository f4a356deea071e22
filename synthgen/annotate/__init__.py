"""Simulated annotators: the exact labels of a rendered dataset turned into labels a person would draw.

A profile (synthgen/annotate/profile.py, configs/annotators/) says how careless
the person is; `annotate` (synthgen/annotate/simulate.py) applies it with a seed.
Label-noise studies and tests of `synthgen compare` need human-like labels whose
errors are known exactly; docs/annotate.md describes the model.
"""
