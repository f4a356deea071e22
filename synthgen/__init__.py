"""synthgen: synthetic training data whose labels are exact by construction."""

__version__ = "0.1.0"
