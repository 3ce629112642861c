"""The hyper-parameter kinds: one class per manifest kind, and the table of them.

:data:`KINDS` maps each manifest key (``double_range``, ``int_range``, ``double_values``,
``int_values``, ``string_values``) to its :class:`~hpo_engine.manifest.dimension.Dimension`
class; the schema's hyper-parameter properties are tested to equal it. Each class validates
its inputs in ``__init__`` and says which values were wrong; the range rules are written once,
in :func:`range_violations`, which the validator reports with source positions
(:mod:`hpo_engine.manifest.validation.checks`) and the classes raise as :class:`SearchSpaceError`.

Adding a kind (e.g. a log range): one class here with ``kind`` and ``from_spec``, one row in
:data:`KINDS`, its schema property; the dimension contract tests in
``tests/core/test_kinds.py`` run on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported only when a point is sampled (keeps `hpo validate` start-up short)
    import numpy as np

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.dimension import Dimension, Encoding, Value, _is_number

__all__ = [
    "DoubleRange",
    "IntRange",
    "DoubleValues",
    "IntValues",
    "StringValues",
    "KINDS",
    "RangeViolation",
    "range_violations",
    "yaml_float_text",
    "kinds_in",
    "dimension_from_spec",
]

#: Decimal arithmetic of grids: enough digits for any float range and step
#: (1e308 / 5e-324 has 632 digits), so counting and stepping are always exact.
_GRID = Context(prec=700)

def _decimal(value: int | float, what: str) -> Decimal:
    """The decimal a person wrote: ``0.001`` becomes ``Decimal('0.001')``, not its binary float."""
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise SearchSpaceError(f"{what} must be a finite number, but got {value!r}.")
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - repr of a finite float always parses
        raise SearchSpaceError(f"{what} is not a number: {value!r}.") from exc


@dataclass(frozen=True, slots=True)
class RangeViolation:
    """One broken rule of a range. ``key`` is the manifest key it is about (``min_value``,
    ``max_value``, ``step`` or ``power``); ``code`` the problem code the validator reports it as;
    ``by_schema``: the JSON Schema reports it already (the validator does not repeat it)."""

    code: str
    key: str
    message: str
    by_schema: bool = False
    #: The keys whose values break the rule (``key`` first unless the rule is about a pair).
    keys: tuple[str, ...] = ()


def _exact(value: int | float) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def yaml_float_text(value: float) -> str:
    """How YAML writes a non-finite float: ``.inf``, ``-.inf``, ``.nan``."""
    return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")


def range_violations(low: int | float, high: int | float, step: int | float | None, power: int | float | None) -> list[RangeViolation]:
    """Every broken rule of a ``double_range`` / ``int_range`` with numeric bounds, in reporting order.

    Rules: all finite (HPO106); ``min_value <= max_value`` (HPO201); ``step`` positive (HPO202,
    schema) and not larger than the range (HPO203); ``power`` positive (HPO205, schema) and not
    1 (HPO205); ``power ** min_value`` and ``power ** max_value`` within the float range (HPO106:
    an exact ``2 ** 10**9`` would take gigabytes to compute). Later rules are checked only while
    the earlier ones hold.
    """
    given = [(key, value) for key, value in (("min_value", low), ("max_value", high), ("step", step), ("power", power)) if value is not None]
    infinite = [
        RangeViolation("HPO106", key, f"'{key}' must be a finite number, but it is {yaml_float_text(value)}.", keys=(key,))
        for key, value in given
        if isinstance(value, float) and not math.isfinite(value)
    ]
    if infinite:
        return infinite
    found: list[RangeViolation] = []
    if _exact(low) > _exact(high):
        found.append(RangeViolation("HPO201", "min_value", f"min_value ({low!r}) is larger than max_value ({high!r}): the range is empty.", keys=("min_value", "max_value")))
    if step is not None:
        if step <= 0:
            found.append(RangeViolation("HPO202", "step", f"step must be positive, but it is {step!r}.", by_schema=True, keys=("step",)))
        elif not found and high > low and _exact(step) > _exact(high) - _exact(low):
            found.append(
                RangeViolation("HPO203", "step", f"step ({step!r}) is larger than the range {low!r}..{high!r}: only min_value would ever be used.", keys=("step",))
            )
    if power is not None:
        if power == 1:
            found.append(RangeViolation("HPO205", "power", "power 1 makes every value 1: remove 'power' or use a base such as 2 or 10.", keys=("power",)))
        elif power <= 0:
            found.append(RangeViolation("HPO205", "power", f"power must be positive, but it is {power!r}.", by_schema=True, keys=("power",)))
        elif not found:
            for key, exponent in (("min_value", low), ("max_value", high)):
                try:
                    float(power) ** float(exponent)
                except OverflowError:
                    found.append(
                        RangeViolation(
                            "HPO106",
                            key,
                            f"power ** {key} is too large for a number: {power!r} ** {exponent!r} is beyond the largest floating-point value (about 1.8e308).",
                            keys=("power", key),
                        )
                    )
    return found


class _Range(Dimension):
    """Shared logic of ``double_range`` and ``int_range``: ``[min, max]``, optional step and power."""

    def __init__(self, name: str, min_value: int | float, max_value: int | float, step: int | float | None, power: int | float | None) -> None:
        super().__init__(name)
        for label, value in (("min_value", min_value), ("max_value", max_value), ("step", step), ("power", power)):
            if value is not None and not _is_number(value):
                raise SearchSpaceError(f"`{label}` of {name!r} must be a number, but got {value!r}.")
        violations = range_violations(min_value, max_value, step, power)
        if violations:
            given = {"min_value": min_value, "max_value": max_value, "step": step, "power": power}
            quoted = ", ".join(f"{key}={given[key]!r}" for key in violations[0].keys)
            raise SearchSpaceError(f"{self.kind} {name!r}: {violations[0].message} (got {quoted})")
        self._min = _decimal(min_value, f"`min_value` of {name!r}")
        self._max = _decimal(max_value, f"`max_value` of {name!r}")
        self.min_value = min_value
        self.max_value = max_value
        self.power = power
        self.step = step
        self._step: Decimal | None = None if step is None else _decimal(step, f"`step` of {name!r}")

    @classmethod
    def from_spec(cls, name: str, spec: Any) -> "_Range":
        """The dimension of a manifest mapping ``{min_value, max_value[, step][, power]}``."""
        if not isinstance(spec, Mapping):
            raise SearchSpaceError(f"`{cls.kind}` of {name!r} must be a mapping, but got {spec!r}.")
        missing = [key for key in ("min_value", "max_value") if key not in spec]
        if missing:
            raise SearchSpaceError(f"`{cls.kind}` of {name!r} needs {' and '.join(missing)}.")
        return cls(name, spec["min_value"], spec["max_value"], spec.get("step"), spec.get("power"))

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

    @classmethod
    def from_spec(cls, name: str, spec: Any) -> "_Values":
        """The dimension of a manifest value list; a value listed twice is kept once (HPO207 warns)."""
        return cls(name, _without_repeats(spec))

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


#: The manifest keys that choose a hyper-parameter's kind -> the class of that kind, in schema order.
KINDS: Mapping[str, type[_Range] | type[_Values]] = MappingProxyType(
    {cls.kind: cls for cls in (DoubleRange, IntRange, DoubleValues, IntValues, StringValues)}
)


def kinds_in(spec: Mapping[str, Any]) -> list[str]:
    """The kind keys a hyper-parameter mapping holds, in :data:`KINDS` order (exactly one is valid)."""
    return [kind for kind in KINDS if kind in spec]


def dimension_from_spec(name: str, kind: str, spec: Any) -> Dimension:
    """Build a dimension from its manifest form, e.g. ``("lr", "double_range", {"min_value": ...})``.

    Raises :class:`SearchSpaceError` for an unknown kind or bad values. A value
    listed twice is kept once (the validator warns about it, HPO207).
    """
    cls = KINDS.get(kind)
    if cls is None:
        raise SearchSpaceError(f"unknown hyper-parameter kind {kind!r} for {name!r}; expected one of {', '.join(KINDS)}.")
    return cls.from_spec(name, spec)
