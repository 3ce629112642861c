"""The dimension contract: one hyper-parameter, the values it may take, how optimizers see it.

Finite dimensions are indexed ``0 .. count-1`` (0-based) and never materialize their values.
Optimizers see every dimension through :class:`Encoding`: a box coordinate of type ``'R'``
(real), ``'I'`` (integer) or ``'C'`` (categorical index), with ``decode`` mapping a coordinate
back to the hyper-parameter's value. The kinds themselves are in :mod:`hpo_engine.manifest.kinds`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy is imported only when a point is sampled (keeps `hpo validate` start-up short)
    import numpy as np

from hpo_engine.errors import SearchSpaceError

__all__ = ["Value", "VarType", "Encoding", "Dimension", "random_index"]

Value = int | float | str
VarType = Literal["R", "I", "C"]


@dataclass(frozen=True, slots=True)
class Encoding:
    """How an optimizer sees one dimension: a type and inclusive box bounds."""

    var_type: VarType
    lower: float
    upper: float



def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)



def random_index(rng: np.random.Generator, count: int) -> int:
    """A uniform index in ``[0, count)``, also past numpy's int64 range (bias below 2**-64 there)."""
    if count <= _INT64_MAX:
        return int(rng.integers(0, count))
    size = (count.bit_length() + 64 + 7) // 8
    return int.from_bytes(rng.bytes(size), "big") % count


_INT64_MAX = 2**63 - 1


class Dimension(ABC):
    """One hyper-parameter: a name and the values it may take."""

    kind: str = ""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"a hyper-parameter needs a non-empty string name, but got {name!r}.")
        self.name = name

    # -- size -----------------------------------------------------------------
    @property
    @abstractmethod
    def count(self) -> int | None:
        """Number of distinct values, or ``None`` for a continuous dimension."""

    @property
    def is_finite(self) -> bool:
        return self.count is not None

    # -- values ---------------------------------------------------------------
    def value_at(self, index: int) -> Value:
        """The value at 0-based ``index`` of a finite dimension (negative counts from the end)."""
        count = self.count
        if count is None:
            raise SearchSpaceError(f"{self.name!r} is continuous: it has no value at index {index}.")
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"index {index} out of range for {self.name!r} with {count} values")
        return self._value_at(index)

    def _value_at(self, index: int) -> Value:  # pragma: no cover - overridden by finite kinds
        raise NotImplementedError

    def values(self, limit: int | None = None) -> Iterator[Value]:
        """The values in order, lazily; at most ``limit`` of them."""
        count = self.count
        if count is None:
            raise SearchSpaceError(f"{self.name!r} is continuous: its values cannot be listed.")
        stop = count if limit is None else min(count, limit)
        for index in range(stop):
            yield self._value_at(index)

    def index_of(self, value: Value) -> int:
        """The 0-based index of ``value`` in a finite dimension."""
        count = self.count
        if count is None:
            raise SearchSpaceError(f"{self.name!r} is continuous: values have no index.")
        for index in range(count):
            candidate = self._value_at(index)
            if candidate == value or (
                _is_number(candidate) and _is_number(value) and math.isclose(candidate, value, rel_tol=1e-12, abs_tol=1e-15)
            ):
                return index
        raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")

    def contains(self, value: Value) -> bool:
        """True when ``value`` is one this dimension can produce."""
        try:
            if self.is_finite:
                self.index_of(value)
                return True
            return self._contains_continuous(value)
        except SearchSpaceError:
            return False

    def _contains_continuous(self, value: Value) -> bool:  # pragma: no cover - overridden
        return False

    # -- sampling and encoding ---------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Value:
        """One value drawn uniformly (log-uniformly for a continuous power range)."""
        return self._value_at(random_index(rng, self.count)) if self.is_finite else self._sample_continuous(rng)

    def _sample_continuous(self, rng: np.random.Generator) -> Value:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def encoding(self) -> Encoding:
        """Finite dimensions: their ordinal index as ``'I'`` (``'C'`` for strings)."""
        return Encoding("I", 0.0, float(self.count - 1))

    def encode(self, value: Value) -> float:
        """The optimizer coordinate of ``value``."""
        return float(self.index_of(value))

    def decode(self, coordinate: float) -> Value:
        """The value at an optimizer coordinate (rounded and clipped for finite kinds)."""
        count = self.count
        index = int(round(float(coordinate)))
        return self._value_at(min(max(index, 0), count - 1))

    # -- description -----------------------------------------------------------
    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The manifest form of this dimension, without its name."""

    def summary(self, head: int = 3, tail: int = 2) -> str:
        """Human text: all values when few, else the first ``head``, ``...``, the last ``tail``."""
        count = self.count
        if count is None:
            return self._continuous_summary()
        if count <= head + tail + 1:
            return ", ".join(_format(v) for v in self.values())
        first = [_format(self._value_at(i)) for i in range(head)]
        last = [_format(self._value_at(count - tail + i)) for i in range(tail)]
        return ", ".join(first) + ", ..., " + ", ".join(last)

    def _continuous_summary(self) -> str:  # pragma: no cover - overridden
        return "continuous"

    def to_json(self, max_values: int = 50) -> dict[str, Any]:
        """JSON-ready description: kind, count (``None`` when continuous), values or bounds."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "count": self.count, "spec": self.spec()}
        if self.is_finite:
            data["values"] = list(self.values(max_values))
            data["values_truncated"] = self.count > max_values
        else:
            data["bounds"] = list(self.bounds)  # type: ignore[attr-defined]
            data["scale"] = "log" if getattr(self, "power", None) else "linear"
        data["summary"] = self.summary()
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.spec()!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.name == other.name and self.spec() == other.spec()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name, repr(self.spec())))


def _format(value: Value) -> str:
    return repr(value) if isinstance(value, str) else str(value)

