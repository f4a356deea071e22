"""The base of every config model: frozen, and strict about unknown keys."""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


class Strict(BaseModel):
    """Base model: unknown keys are errors that suggest the closest valid key, and a float field takes
    finite numbers only (NaN and infinities would reach generated values and JSON sidecars unchecked)."""

    # defer_build: a model's validator is built when it first validates, so a run that finds its checked
    # config in the cache (synthgen/tabular/prepared.py) never pays for building the models it does not use
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False,
                              defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise PydanticCustomError("synthgen", f"expected a mapping of keys to values, got {data!r}")
        valid = [field.alias or name for name, field in cls.model_fields.items()]
        for key in data:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
                raise PydanticCustomError("unknown_key", "unknown key '{key}'" + hint, {"key": str(key)})
        return data


class Ordered(Strict):
    """A config range whose two ends, named by `ends`, must not be given upside down."""

    ends: ClassVar[tuple[str, str]] = ("low", "high")

    @model_validator(mode="after")
    def _order(self) -> "Ordered":
        low, high = self.ends
        if getattr(self, high) < getattr(self, low):
            raise ValueError(f"expected {low} <= {high}")
        return self
