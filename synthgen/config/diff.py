"""Which keys two configs disagree on, as dotted paths a user can pass to --set."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def differing_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths (`camera.resolution`, `objects.0.count`) where `old` and `new` differ, in order: the
    deepest key present in both and unequal, or present in one only. Lists of mappings are followed by
    index; a list of plain values (a resolution, a colour) is one value."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in list(old) + [k for k in new if k not in old]:
            found += differing_keys(old.get(key, _MISSING), new.get(key, _MISSING), f"{prefix}{key}.")
        return found
    if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
            and any(isinstance(item, (dict, list)) for item in old + new)):  # a list of scalars is one value
        found = []
        for index, (a, b) in enumerate(zip(old, new)):
            found += differing_keys(a, b, f"{prefix}{index}.")
        return found
    return [] if old == new and type(old) is type(new) else [prefix.rstrip(".") or "(the whole config)"]
