"""Labelled synthetic text: templates with typed slots, entity spans recorded while the text is built."""
