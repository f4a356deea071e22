"""Labelled synthetic tables generated from YAML configs, vectorised with numpy."""
