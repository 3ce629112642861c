"""The search space: the product of a manifest's hyper-parameters, in manifest order.

:class:`SearchSpace` counts combinations exactly (a Python ``int``) and iterates the grid
lazily in mixed radix, so a space of 10**15 points is counted and its first points listed in
milliseconds. Its dimensions are the kinds of :mod:`hpo_engine.manifest.kinds` (re-exported
here: the search-space model is one import for its users).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported only when a point is sampled (keeps `hpo validate` start-up short)
    import numpy as np

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.dimension import Dimension, Encoding, Value, random_index
from hpo_engine.manifest.kinds import (
    KINDS,
    DoubleRange,
    DoubleValues,
    IntRange,
    IntValues,
    StringValues,
    dimension_from_spec,
    kinds_in,
)

__all__ = [
    "Value",
    "Encoding",
    "Dimension",
    "DoubleRange",
    "IntRange",
    "DoubleValues",
    "IntValues",
    "StringValues",
    "SearchSpace",
    "KINDS",
    "dimension_from_spec",
    "random_index",
]


class SearchSpace:
    """The product of dimensions, in manifest order.

    Points are ``dict[name, value]``. A finite space is indexed ``0 .. size-1``
    in mixed radix with the **last** dimension varying fastest.
    """

    def __init__(self, dimensions: Sequence[Dimension]) -> None:
        names = [d.name for d in dimensions]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise SearchSpaceError(f"hyper-parameter names must be unique, but {repeated!r} repeat.")
        self.dimensions: tuple[Dimension, ...] = tuple(dimensions)

    @classmethod
    def from_specs(cls, specs: Sequence[Mapping[str, Any]]) -> "SearchSpace":
        """Build from the manifest's ``hyper_parameters`` list (``{name, <kind>: ...}`` each)."""
        dims = []
        for spec in specs:
            kinds = kinds_in(spec)
            if len(kinds) != 1:
                raise SearchSpaceError(f"hyper-parameter {spec.get('name')!r} needs exactly one of {', '.join(KINDS)}, but got {kinds or 'none'}.")
            dims.append(dimension_from_spec(spec.get("name"), kinds[0], spec[kinds[0]]))
        return cls(dims)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dimensions)

    def __getitem__(self, name: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise KeyError(name)

    @property
    def is_finite(self) -> bool:
        return all(d.is_finite for d in self.dimensions)

    @property
    def finite_size(self) -> int:
        """Combinations of the finite dimensions only (1 when there are none)."""
        return math.prod(d.count for d in self.dimensions if d.count is not None)

    @property
    def size(self) -> int | None:
        """Exact number of combinations, or ``None`` when a dimension is continuous."""
        return self.finite_size if self.is_finite else None

    def describe_size(self) -> str:
        """``"144"``, or ``"infinite (continuous: lr; 12 finite combinations)"``."""
        if self.is_finite:
            return f"{self.finite_size:,}"
        continuous = ", ".join(d.name for d in self.dimensions if not d.is_finite)
        return f"infinite (continuous: {continuous}; {self.finite_size:,} finite combinations)"

    # -- the grid ----------------------------------------------------------------
    def point_at(self, index: int) -> dict[str, Value]:
        """The point at 0-based ``index`` of a finite space (last dimension fastest)."""
        size = self.size
        if size is None:
            raise SearchSpaceError("the space has a continuous dimension: its points cannot be indexed.")
        if not 0 <= index < size:
            raise IndexError(f"point index {index} out of range for a space of {size} points")
        point: dict[str, Value] = {}
        for dimension in reversed(self.dimensions):
            index, digit = divmod(index, dimension.count)  # type: ignore[arg-type]
            point[dimension.name] = dimension.value_at(digit)
        return {d.name: point[d.name] for d in self.dimensions}

    def index_of(self, point: Mapping[str, Value]) -> int:
        """The 0-based grid index of ``point`` (inverse of :meth:`point_at`)."""
        if not self.is_finite:
            raise SearchSpaceError("the space has a continuous dimension: its points have no index.")
        index = 0
        for dimension in self.dimensions:
            index = index * dimension.count + dimension.index_of(point[dimension.name])  # type: ignore[operator]
        return index

    def points(self, limit: int | None = None) -> Iterator[dict[str, Value]]:
        """Grid points in order, lazily; at most ``limit``. Continuous dimensions are an error."""
        size = self.size
        if size is None:
            raise SearchSpaceError("the space has a continuous dimension: its points cannot be listed.")
        stop = size if limit is None else min(size, limit)
        for index in range(stop):
            yield self.point_at(index)

    def preview_points(self, limit: int, rng: np.random.Generator | None = None) -> list[dict[str, Value]]:
        """First ``limit`` grid points; for a space with continuous dimensions, ``limit`` seeded samples."""
        if self.is_finite:
            return list(self.points(limit))
        if rng is None:
            import numpy as np

            rng = np.random.default_rng(0)
        return [self.sample(rng) for _ in range(limit)]

    # -- sampling and encoding ------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> dict[str, Value]:
        """One point, each dimension drawn independently (see :meth:`Dimension.sample`)."""
        return {d.name: d.sample(rng) for d in self.dimensions}

    @property
    def encodings(self) -> tuple[Encoding, ...]:
        return tuple(d.encoding for d in self.dimensions)

    def encode(self, point: Mapping[str, Value]) -> list[float]:
        """The optimizer box coordinates of ``point``, in dimension order."""
        return [d.encode(point[d.name]) for d in self.dimensions]

    def decode(self, vector: Sequence[float]) -> dict[str, Value]:
        """The point at box coordinates ``vector`` (rounded/clipped per dimension)."""
        if len(vector) != len(self.dimensions):
            raise SearchSpaceError(f"expected {len(self.dimensions)} coordinates, but got {len(vector)}.")
        return {d.name: d.decode(x) for d, x in zip(self.dimensions, vector)}

    def contains(self, point: Mapping[str, Value]) -> bool:
        return set(point) == set(self.names) and all(d.contains(point[d.name]) for d in self.dimensions)

    def to_json(self, max_points: int = 20, max_values: int = 50) -> dict[str, Any]:
        """JSON-ready table: per dimension its description, the size, and the first points."""
        return {
            "dimensions": [d.to_json(max_values) for d in self.dimensions],
            "size": self.size,
            "finite_size": self.finite_size,
            "is_finite": self.is_finite,
            "size_text": self.describe_size(),
            "points": self.preview_points(max_points),
            "points_are_samples": not self.is_finite,
        }
