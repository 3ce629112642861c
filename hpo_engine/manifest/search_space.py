"""The search-space model: one class per hyper-parameter kind, and their product.

Each dimension validates its inputs in ``__init__`` and says which values were
wrong. Finite dimensions are indexed ``0 .. count-1`` (0-based) and never
materialize their values; :class:`SearchSpace` counts combinations exactly
(a Python ``int``) and iterates the grid lazily in mixed radix, so a space of
10**15 points is counted and its first points listed in milliseconds.

Optimizers see every dimension through :class:`Encoding`: a box coordinate of
type ``'R'`` (real), ``'I'`` (integer) or ``'C'`` (categorical index), with
``decode`` mapping a coordinate back to the hyper-parameter's value. Finite
numeric dimensions are encoded by their ordinal index, continuous ones by their
value, or by their exponent when they have a ``power``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy is imported only when a point is sampled (keeps `hpo validate` start-up short)
    import numpy as np

from hpo_engine.errors import SearchSpaceError

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
]

Value = int | float | str
VarType = Literal["R", "I", "C"]

#: The manifest keys that choose a hyper-parameter's kind.
KINDS: tuple[str, ...] = ("double_range", "int_range", "double_values", "int_values", "string_values")


@dataclass(frozen=True, slots=True)
class Encoding:
    """How an optimizer sees one dimension: a type and inclusive box bounds."""

    var_type: VarType
    lower: float
    upper: float


#: Decimal arithmetic of grids: enough digits for any float range and step
#: (1e308 / 5e-324 has 632 digits), so counting and stepping are always exact.
_GRID = Context(prec=700)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decimal(value: int | float, what: str) -> Decimal:
    """The decimal a person wrote: ``0.001`` becomes ``Decimal('0.001')``, not its binary float."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise SearchSpaceError(f"{what} must be a finite number, but got {value!r}.")
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - repr of a finite float always parses
        raise SearchSpaceError(f"{what} is not a number: {value!r}.") from exc


def _check_power(power: int | float | None, name: str) -> float | None:
    if power is None:
        return None
    if not _is_number(power) or not math.isfinite(power):
        raise SearchSpaceError(f"`power` of {name!r} must be a number, but got {power!r}.")
    if power <= 0 or power == 1:
        raise SearchSpaceError(f"`power` of {name!r} must be positive and not 1, but got power={power!r}.")
    return power


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


class _Range(Dimension):
    """Shared logic of ``double_range`` and ``int_range``: ``[min, max]``, optional step and power."""

    def __init__(self, name: str, min_value: int | float, max_value: int | float, step: int | float | None, power: int | float | None) -> None:
        super().__init__(name)
        self._min = _decimal(min_value, f"`min_value` of {name!r}")
        self._max = _decimal(max_value, f"`max_value` of {name!r}")
        if self._min > self._max:
            raise SearchSpaceError(
                f"`min_value <= max_value` must hold for {name!r}, but got (min_value={min_value!r}, max_value={max_value!r})."
            )
        self.min_value = min_value
        self.max_value = max_value
        self.power = _check_power(power, name)
        if self.power is not None:  # int_range too: 2 ** 10**9 would take gigabytes to compute
            for label, exponent in (("min_value", min_value), ("max_value", max_value)):
                try:
                    float(self.power) ** float(exponent)
                except OverflowError:
                    raise SearchSpaceError(
                        f"`power ** {label}` of {name!r} is too large for a floating-point number: got (power={power!r}, {label}={exponent!r})."
                    ) from None
        self.step = step
        self._step: Decimal | None = None
        if step is not None:
            self._step = _decimal(step, f"`step` of {name!r}")
            if self._step <= 0:
                raise SearchSpaceError(f"`step` of {name!r} must be positive, but got step={step!r}.")
            span = self._max - self._min
            if span > 0 and self._step > span:
                raise SearchSpaceError(
                    f"`step` of {name!r} is larger than the range, so only min_value is reachable: "
                    f"got (min_value={min_value!r}, max_value={max_value!r}, step={step!r})."
                )

    def _exponent_at(self, index: int) -> Decimal:
        assert self._step is not None
        return _GRID.add(self._min, _GRID.multiply(self._step, Decimal(index)))

    def _map_power(self, exponent: Decimal | float) -> float:
        """``power ** exponent`` (or the exponent itself without a power), as a float."""
        if self.power is None:
            return float(exponent)
        return float(self.power) ** float(exponent)

    def spec(self) -> dict[str, Any]:
        data: dict[str, Any] = {"min_value": self.min_value, "max_value": self.max_value}
        if self.step is not None:
            data["step"] = self.step
        if self.power is not None:
            data["power"] = self.power
        return data


class DoubleRange(_Range):
    """``double_range``: ``min_value .. max_value`` with an optional ``step`` and ``power``.

    With a step the values are ``min, min+step, ...`` up to ``max`` (endpoint kept when
    reached), computed in decimal arithmetic so ``0.005..0.01 step 0.001`` gives exactly
    ``0.005, 0.006, ..., 0.01``. Without a step the dimension is continuous (unless
    ``min == max``, which pins one value). With ``power`` every value ``v`` becomes
    ``power ** v``; a continuous power range is log-uniform between ``power**min``
    and ``power**max``.
    """

    kind = "double_range"

    def __init__(self, name: str, min_value: float, max_value: float, step: float | None = None, power: float | None = None) -> None:
        super().__init__(name, min_value, max_value, step, power)
        if self._step is not None:
            self._count = int(_GRID.divide_int(_GRID.subtract(self._max, self._min), self._step)) + 1
        elif self._min == self._max:
            self._count = 1
        else:
            self._count = None

    @property
    def count(self) -> int | None:
        return self._count

    def _value_at(self, index: int) -> float:
        exponent = self._min if self._step is None else self._exponent_at(index)
        return self._map_power(exponent)

    def index_of(self, value: Value) -> int:
        """The index of ``value``, computed (not searched: a grid may hold 10**15 values)."""
        if self._step is None or self._count is None or not _is_number(value) or not math.isfinite(value):
            return super().index_of(value)
        try:
            if self.power is None:
                estimate = _GRID.divide(_GRID.subtract(_decimal(value, "value"), self._min), self._step)
            elif value > 0:
                exponent = math.log(float(value)) / math.log(float(self.power))
                estimate = _GRID.divide(_GRID.subtract(Decimal(repr(exponent)), self._min), self._step)
            else:
                raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")
            center = int(estimate.to_integral_value())
        except (ArithmeticError, ValueError) as exc:
            raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.") from exc
        for index in (center, center - 1, center + 1):
            if 0 <= index < self._count:
                candidate = self._value_at(index)
                if candidate == value or math.isclose(candidate, value, rel_tol=1e-12, abs_tol=1e-15):
                    return index
        raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")

    @property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value (after ``power``)."""
        low, high = self._map_power(self._min), self._map_power(self._max)
        return (min(low, high), max(low, high))

    def _contains_continuous(self, value: Value) -> bool:
        if not _is_number(value):
            return False
        low, high = self.bounds
        return low - 1e-12 * abs(low) <= float(value) <= high + 1e-12 * abs(high)

    def _sample_continuous(self, rng: np.random.Generator) -> float:
        return self._map_power(float(rng.uniform(float(self._min), float(self._max))))

    @property
    def encoding(self) -> Encoding:
        if self.is_finite:
            return super().encoding
        return Encoding("R", float(self._min), float(self._max))

    def encode(self, value: Value) -> float:
        if self.is_finite:
            return super().encode(value)
        if not _is_number(value):
            raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")
        if self.power is None:
            return float(value)
        return math.log(float(value)) / math.log(self.power)

    def decode(self, coordinate: float) -> Value:
        if self.is_finite:
            return super().decode(coordinate)
        clipped = min(max(float(coordinate), float(self._min)), float(self._max))
        return self._map_power(clipped)

    def _continuous_summary(self) -> str:
        low, high = self.bounds
        scale = f", log scale (power {self.power:g})" if self.power is not None else ""
        return f"continuous in [{low:g}, {high:g}]{scale}"


class IntRange(_Range):
    """``int_range``: integers ``min_value .. max_value`` by ``step`` (default 1), optional ``power``.

    With ``power`` every value ``v`` becomes ``power ** v``: ``5..10 power 2`` is
    32, 64, ..., 1024. Values stay ints when ``power`` is an int and the exponents
    are not negative.
    """

    kind = "int_range"

    def __init__(self, name: str, min_value: int, max_value: int, step: int | None = None, power: int | float | None = None) -> None:
        for label, value in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool)):
                if not (isinstance(value, float) and value.is_integer()):
                    raise SearchSpaceError(f"`{label}` of int_range {name!r} must be an integer, but got {label}={value!r}.")
        super().__init__(name, int(min_value), int(max_value), None if step is None else int(step), power)
        self._istep = 1 if step is None else int(step)
        self._imin, self._imax = int(min_value), int(max_value)
        self._count = (self._imax - self._imin) // self._istep + 1

    @property
    def count(self) -> int:
        return self._count

    def _value_at(self, index: int) -> int | float:
        exponent = self._imin + self._istep * index
        if self.power is None:
            return exponent
        if isinstance(self.power, int) and exponent >= 0:
            return self.power**exponent
        return float(self.power) ** exponent

    def index_of(self, value: Value) -> int:
        if self.power is None and _is_number(value) and float(value).is_integer():
            offset = int(value) - self._imin
            if offset % self._istep == 0 and 0 <= offset // self._istep < self._count:
                return offset // self._istep
            raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")
        if self.power is not None and _is_number(value) and value > 0:
            exponent = round(math.log(float(value)) / math.log(float(self.power)))
            offset = exponent - self._imin
            if offset % self._istep == 0 and 0 <= offset // self._istep < self._count:
                index = offset // self._istep
                if math.isclose(self._value_at(index), value, rel_tol=1e-9):
                    return index
        raise SearchSpaceError(f"{value!r} is not a value of {self.name!r}.")


class _Values(Dimension):
    """Shared logic of explicit value lists."""

    _item_types: tuple[type, ...] = ()
    _item_label = ""

    def __init__(self, name: str, values: Sequence[Value]) -> None:
        super().__init__(name)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SearchSpaceError(f"`{self.kind}` of {name!r} must be a list, but got {values!r}.")
        if not values:
            raise SearchSpaceError(f"`{self.kind}` of {name!r} must not be empty.")
        bad = [v for v in values if not self._accepts(v)]
        if bad:
            raise SearchSpaceError(f"`{self.kind}` of {name!r} must hold only {self._item_label}, but got {bad!r}.")
        seen: list[Value] = []
        duplicates = []
        for value in values:
            if value in seen:
                duplicates.append(value)
            else:
                seen.append(value)
        if duplicates:
            raise SearchSpaceError(f"`{self.kind}` of {name!r} repeats {duplicates!r}.")
        self._values = tuple(self._convert(v) for v in values)

    def _accepts(self, value: object) -> bool:
        return isinstance(value, self._item_types) and not isinstance(value, bool)

    def _convert(self, value: Value) -> Value:
        return value

    @property
    def count(self) -> int:
        return len(self._values)

    def _value_at(self, index: int) -> Value:
        return self._values[index]

    def index_of(self, value: Value) -> int:
        try:
            return self._values.index(value)
        except ValueError:
            return super().index_of(value)

    def spec(self) -> dict[str, Any]:
        return {self.kind: list(self._values)}


class DoubleValues(_Values):
    """``double_values``: an explicit list of numbers (ints are accepted and kept as floats)."""

    kind = "double_values"
    _item_types = (int, float)
    _item_label = "numbers"

    def _accepts(self, value: object) -> bool:
        return super()._accepts(value) and math.isfinite(value)  # type: ignore[arg-type]

    def _convert(self, value: Value) -> float:
        return float(value)


class IntValues(_Values):
    """``int_values``: an explicit list of integers."""

    kind = "int_values"
    _item_types = (int,)
    _item_label = "integers"

    def _accepts(self, value: object) -> bool:
        # JSON Schema's "integer" accepts 2.0, so a manifest may hold it
        return super()._accepts(value) or isinstance(value, float) and value.is_integer()

    def _convert(self, value: Value) -> int:
        return int(value)


class StringValues(_Values):
    """``string_values``: an explicit list of strings, encoded as a categorical index."""

    kind = "string_values"
    _item_types = (str,)
    _item_label = "strings"

    @property
    def encoding(self) -> Encoding:
        return Encoding("C", 0.0, float(self.count - 1))


def _without_repeats(values: Any) -> Any:
    """A manifest's value list with repeated values dropped (the first kept), else ``values`` unchanged.

    A repeated value is only a warning in a manifest (HPO207: each value is tried
    once), so the manifest's dimension keeps one copy; the constructors themselves
    still refuse repeats. Values of different kinds (``1`` and ``true``) are not
    repeats of each other.
    """
    if not isinstance(values, list):
        return values
    kept: list[Any] = []
    seen: list[tuple[Any, Any]] = []
    for value in values:
        key = (float if _is_number(value) else type(value), value)
        if key not in seen:
            seen.append(key)
            kept.append(value)
    return kept


def dimension_from_spec(name: str, kind: str, spec: Any) -> Dimension:
    """Build a dimension from its manifest form, e.g. ``("lr", "double_range", {"min_value": ...})``.

    Raises :class:`SearchSpaceError` for an unknown kind or bad values. A value
    listed twice is kept once (the validator warns about it, HPO207).
    """
    if kind in ("double_range", "int_range"):
        if not isinstance(spec, Mapping):
            raise SearchSpaceError(f"`{kind}` of {name!r} must be a mapping, but got {spec!r}.")
        missing = [key for key in ("min_value", "max_value") if key not in spec]
        if missing:
            raise SearchSpaceError(f"`{kind}` of {name!r} needs {' and '.join(missing)}.")
        cls = DoubleRange if kind == "double_range" else IntRange
        return cls(name, spec["min_value"], spec["max_value"], spec.get("step"), spec.get("power"))
    if kind == "double_values":
        return DoubleValues(name, _without_repeats(spec))
    if kind == "int_values":
        return IntValues(name, _without_repeats(spec))
    if kind == "string_values":
        return StringValues(name, _without_repeats(spec))
    raise SearchSpaceError(f"unknown hyper-parameter kind {kind!r} for {name!r}; expected one of {', '.join(KINDS)}.")


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
            kinds = [k for k in KINDS if k in spec]
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
