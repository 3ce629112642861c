"""The search-space model: every kind, float steps, power, pinned values, huge counts, encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.search_space import (
    KINDS,
    DoubleRange,
    DoubleValues,
    IntRange,
    IntValues,
    SearchSpace,
    StringValues,
    dimension_from_spec,
)

# -- double_range -------------------------------------------------------------------


def test_double_range_float_step_is_exact_decimal_with_endpoint() -> None:
    lr = DoubleRange("learning_rate", 0.005, 0.01, step=0.001)
    assert lr.count == 6
    assert list(lr.values()) == [0.005, 0.006, 0.007, 0.008, 0.009, 0.01]
    assert lr.summary() == "0.005, 0.006, 0.007, 0.008, 0.009, 0.01"


@pytest.mark.parametrize(
    ("low", "high", "step", "expected"),
    [
        (0.1, 0.3, 0.1, [0.1, 0.2, 0.3]),
        (0.0, 1.0, 0.25, [0.0, 0.25, 0.5, 0.75, 1.0]),
        (0.0, 0.9, 0.1, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
        (1, 2, 0.3, [1.0, 1.3, 1.6, 1.9]),  # max not reached: not added
        (-0.3, 0.3, 0.2, [-0.3, -0.1, 0.1, 0.3]),
    ],
)
def test_double_range_steps_never_drift(low, high, step, expected) -> None:
    assert list(DoubleRange("x", low, high, step=step).values()) == expected


def test_double_range_without_step_is_continuous() -> None:
    dropout = DoubleRange("dropout", 0.0, 0.5)
    assert dropout.count is None and not dropout.is_finite
    assert dropout.bounds == (0.0, 0.5)
    assert dropout.encoding.var_type == "R" and (dropout.encoding.lower, dropout.encoding.upper) == (0.0, 0.5)
    assert dropout.summary() == "continuous in [0, 0.5]"
    assert dropout.contains(0.25) and not dropout.contains(0.6)
    with pytest.raises(SearchSpaceError, match="continuous"):
        list(dropout.values())
    with pytest.raises(SearchSpaceError, match="continuous"):
        dropout.value_at(0)


def test_continuous_power_range_is_log_uniform_between_power_bounds() -> None:
    decay = DoubleRange("decay", -5, -1, power=10)
    low, high = decay.bounds
    assert math.isclose(low, 1e-5) and math.isclose(high, 0.1)
    assert "log scale (power 10)" in decay.summary()
    rng = np.random.default_rng(3)
    samples = np.array([decay.sample(rng) for _ in range(4000)])
    assert samples.min() >= low and samples.max() <= high
    exponents = np.log10(samples)
    # log-uniform: the exponents are uniform in [-5, -1], so each unit holds about a quarter
    counts = np.histogram(exponents, bins=4, range=(-5, -1))[0]
    assert all(800 < c < 1200 for c in counts), counts
    # encoded by exponent, decoded back by power ** exponent
    assert decay.encoding.var_type == "R" and (decay.encoding.lower, decay.encoding.upper) == (-5.0, -1.0)
    assert math.isclose(decay.encode(1e-3), -3.0)
    assert math.isclose(decay.decode(-2.0), 0.01)
    assert math.isclose(decay.decode(7.0), 0.1)  # clipped to the box


def test_double_range_with_power_and_step() -> None:
    scale = DoubleRange("scale", -3, -1, step=1, power=10)
    assert scale.count == 3
    assert [round(v, 12) for v in scale.values()] == [0.001, 0.01, 0.1]


def test_pinned_double_range_has_one_value() -> None:
    pinned = DoubleRange("momentum", 0.9, 0.9)
    assert pinned.count == 1
    assert list(pinned.values()) == [0.9]
    assert pinned.sample(np.random.default_rng(0)) == 0.9


# -- int_range ----------------------------------------------------------------------


def test_int_range_power_two_from_5_to_10() -> None:
    fc = IntRange("fc", 5, 10, power=2)
    assert fc.count == 6
    assert list(fc.values()) == [32, 64, 128, 256, 512, 1024]
    assert all(isinstance(v, int) for v in fc.values())
    assert fc.index_of(256) == 3
    assert fc.summary() == "32, 64, 128, 256, 512, 1024"


def test_int_range_step_defaults_to_one_and_keeps_reachable_endpoint() -> None:
    assert list(IntRange("n", 5, 6).values()) == [5, 6]
    assert list(IntRange("n", 16, 64, step=16).values()) == [16, 32, 48, 64]
    assert list(IntRange("n", 0, 10, step=3).values()) == [0, 3, 6, 9]


def test_int_range_negative_exponents_with_power_are_floats() -> None:
    values = list(IntRange("lr", -3, -1, power=10).values())
    assert [round(v, 12) for v in values] == [0.001, 0.01, 0.1]


def test_pinned_int_range_and_integral_float_bounds() -> None:
    assert list(IntRange("epochs", 20, 20).values()) == [20]
    assert list(IntRange("n", 1.0, 3.0).values()) == [1, 2, 3]  # integral floats are accepted


def test_int_range_summary_of_many_values_is_elided() -> None:
    assert IntRange("n", 1, 64).summary() == "1, 2, 3, ..., 63, 64"


# -- value lists --------------------------------------------------------------------


def test_value_kinds() -> None:
    beta = DoubleValues("beta", [0.9, 0.99, 1])
    assert list(beta.values()) == [0.9, 0.99, 1.0] and all(isinstance(v, float) for v in beta.values())
    units = IntValues("units", [32, 64])
    assert units.count == 2 and units.encoding.var_type == "I"
    act = StringValues("act", ["relu", "tanh", "sigmoid"])
    assert act.encoding.var_type == "C" and (act.encoding.lower, act.encoding.upper) == (0.0, 2.0)
    assert act.encode("tanh") == 1.0 and act.decode(1.6) == "sigmoid" and act.decode(-4) == "relu"
    assert act.summary() == "'relu', 'tanh', 'sigmoid'"


# -- constructor errors quote the bad values -----------------------------------------


@pytest.mark.parametrize(
    ("build", "quoted"),
    [
        (lambda: DoubleRange("lr", 0.1, 0.01), "min_value=0.1, max_value=0.01"),
        (lambda: DoubleRange("lr", 0.0, 1.0, step=0), "step=0"),
        (lambda: DoubleRange("lr", 0.0, 1.0, step=-0.5), "step=-0.5"),
        (lambda: DoubleRange("lr", 0.0, 1.0, step=2.0), "step=2.0"),
        (lambda: DoubleRange("lr", float("nan"), 1.0), "nan"),
        (lambda: DoubleRange("lr", "low", 1.0), "'low'"),
        (lambda: IntRange("n", 1.5, 4), "min_value=1.5"),
        (lambda: IntRange("n", 1, 4, step=0.5), "step=0.5"),
        (lambda: IntRange("n", 1, 4, power=1), "power=1"),
        (lambda: IntRange("n", 1, 4, power=-2), "power=-2"),
        (lambda: IntValues("n", []), "must not be empty"),
        (lambda: IntValues("n", [1, 2.5]), "[2.5]"),
        (lambda: IntValues("n", [1, True]), "[True]"),
        (lambda: StringValues("s", ["a", 3]), "[3]"),
        (lambda: StringValues("s", "abc"), "'abc'"),
        (lambda: StringValues("s", ["a", "b", "a"]), "['a']"),
        (lambda: DoubleValues("d", [1.0, float("inf")]), "[inf]"),
        (lambda: IntRange("", 1, 2), "''"),
        (lambda: DoubleRange("x", 0, 400, power=10), "power=10, max_value=400"),  # 10.0 ** 400 overflows
        (lambda: DoubleRange("x", -2000, 0, power=0.5), "power=0.5, min_value=-2000"),
        (lambda: IntRange("x", 5, 10**40, power=2), "power=2, max_value=" + "1" + "0" * 40),  # 2 ** 10**40 would never finish
    ],
)
def test_constructor_errors_quote_the_bad_values(build, quoted: str) -> None:
    with pytest.raises(SearchSpaceError) as caught:
        build()
    assert quoted in str(caught.value)


def test_dimension_from_spec_builds_every_kind_and_rejects_unknown_ones() -> None:
    built = {
        kind: dimension_from_spec("x", kind, spec)
        for kind, spec in {
            "double_range": {"min_value": 0.0, "max_value": 1.0},
            "int_range": {"min_value": 1, "max_value": 3, "step": 1},
            "double_values": [0.5],
            "int_values": [1, 2],
            "string_values": ["a"],
        }.items()
    }
    assert [d.kind for d in built.values()] == list(KINDS)
    with pytest.raises(SearchSpaceError, match="unknown hyper-parameter kind 'float_range'"):
        dimension_from_spec("x", "float_range", {})
    with pytest.raises(SearchSpaceError, match="needs max_value"):
        dimension_from_spec("x", "int_range", {"min_value": 1})


def test_dimension_from_spec_keeps_one_copy_of_a_repeated_value() -> None:
    """A repeated value is only a warning in a manifest (HPO207), so the manifest's dimension keeps one copy."""
    assert list(dimension_from_spec("act", "string_values", ["relu", "tanh", "relu"]).values()) == ["relu", "tanh"]
    assert list(dimension_from_spec("beta", "double_values", [0.5, 1, 1.0]).values()) == [0.5, 1.0]
    with pytest.raises(SearchSpaceError, match=r"\[True\]"):
        dimension_from_spec("n", "int_values", [1, True, 1])  # a boolean is not a repeat of 1


# -- the space ---------------------------------------------------------------------------


def seed_space() -> SearchSpace:
    return SearchSpace(
        [
            DoubleRange("learning_rate", 0.005, 0.01, step=0.001),
            IntRange("conv_filter_size1", 5, 6),
            IntRange("conv_filter_size2", 5, 6),
            IntRange("fc", 5, 10, power=2),
        ]
    )


def test_seed_space_has_144_points_last_dimension_fastest() -> None:
    space = seed_space()
    assert space.size == 144 and space.describe_size() == "144"
    points = list(space.points(7))
    assert points[0] == {"learning_rate": 0.005, "conv_filter_size1": 5, "conv_filter_size2": 5, "fc": 32}
    assert [p["fc"] for p in points[:6]] == [32, 64, 128, 256, 512, 1024]
    assert points[6]["conv_filter_size2"] == 6 and points[6]["fc"] == 32
    assert space.point_at(143) == {"learning_rate": 0.01, "conv_filter_size1": 6, "conv_filter_size2": 6, "fc": 1024}
    assert len(list(space.points())) == 144


def test_point_at_and_index_of_are_inverse() -> None:
    space = SearchSpace([*seed_space(), StringValues("act", ["relu", "tanh", "sigmoid"]), DoubleValues("beta", [0.9, 0.99])])
    assert space.size == 144 * 6
    for index in range(space.size):
        assert space.index_of(space.point_at(index)) == index
    with pytest.raises(IndexError):
        space.point_at(space.size)
    with pytest.raises(IndexError):
        space.point_at(-1)


def test_huge_space_is_counted_exactly_and_listed_lazily() -> None:
    space = SearchSpace([IntRange(f"d{i}", 0, 999) for i in range(5)])  # 1000**5 = 10**15 points
    assert space.size == 10**15 and isinstance(space.size, int)
    assert space.describe_size() == "1,000,000,000,000,000"
    points = list(space.points(100))
    assert len(points) == 100
    assert points[0] == {f"d{i}": 0 for i in range(5)}
    assert points[99] == {"d0": 0, "d1": 0, "d2": 0, "d3": 0, "d4": 99}
    last = space.point_at(10**15 - 1)
    assert last == {f"d{i}": 999 for i in range(5)}
    assert space.index_of(last) == 10**15 - 1


def test_a_10_to_15_space_built_from_float_steps_is_counted_exactly() -> None:
    space = SearchSpace([DoubleRange(f"x{i}", 0.0, 0.999, step=0.001) for i in range(5)])
    assert space.size == 10**15
    assert list(space.points(100))[-1]["x4"] == 0.099


def test_even_larger_spaces_stay_exact_python_ints() -> None:
    space = SearchSpace([IntRange(f"d{i}", 1, 10**6) for i in range(10)])
    assert space.size == 10**60


def test_space_with_a_continuous_dimension_counts_its_finite_part() -> None:
    space = SearchSpace([DoubleRange("lr", 0.0, 1.0), IntRange("n", 1, 3), StringValues("a", ["x", "y"])])
    assert space.size is None and not space.is_finite
    assert space.finite_size == 6
    assert space.describe_size() == "infinite (continuous: lr; 6 finite combinations)"
    with pytest.raises(SearchSpaceError, match="continuous"):
        list(space.points(1))
    with pytest.raises(SearchSpaceError, match="continuous"):
        space.point_at(0)
    samples = space.preview_points(5)
    assert len(samples) == 5 and all(space.contains(p) for p in samples)


def test_sampling_is_reproducible_with_a_seed() -> None:
    space = SearchSpace([DoubleRange("lr", -4, -1, power=10), IntRange("n", 1, 100), StringValues("a", ["x", "y", "z"]), DoubleRange("d", 0, 1)])
    first = [space.sample(np.random.default_rng(42)) for _ in range(3)]
    again = [space.sample(np.random.default_rng(42)) for _ in range(3)]
    assert first == again
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    assert [space.sample(rng_a) for _ in range(20)] == [space.sample(rng_b) for _ in range(20)]
    assert space.sample(np.random.default_rng(1)) != space.sample(np.random.default_rng(2))
    assert all(space.contains(space.sample(rng_a)) for _ in range(50))


def test_encode_decode_round_trip_every_kind() -> None:
    space = SearchSpace(
        [
            DoubleRange("lr", 0.005, 0.01, step=0.001),
            DoubleRange("dropout", 0.0, 0.5),
            DoubleRange("decay", -5, -1, power=10),
            IntRange("fc", 5, 10, power=2),
            IntRange("batch", 16, 64, step=16),
            DoubleValues("beta", [0.9, 0.99]),
            IntValues("units", [32, 64, 128]),
            StringValues("act", ["relu", "tanh"]),
        ]
    )
    assert [e.var_type for e in space.encodings] == ["I", "R", "R", "I", "I", "I", "I", "C"]
    assert space.encodings[0].upper == 5.0  # six values: indexes 0..5
    rng = np.random.default_rng(11)
    for _ in range(200):
        point = space.sample(rng)
        decoded = space.decode(space.encode(point))
        assert decoded.keys() == point.keys()
        for name, value in point.items():
            if isinstance(value, float):
                assert math.isclose(decoded[name], value, rel_tol=1e-9), name
            else:
                assert decoded[name] == value, name
    with pytest.raises(SearchSpaceError, match="expected 8 coordinates"):
        space.decode([0.0])


def test_decode_rounds_and_clips_finite_coordinates() -> None:
    fc = IntRange("fc", 5, 10, power=2)
    assert fc.decode(2.4) == 128 and fc.decode(2.6) == 256
    assert fc.decode(-3) == 32 and fc.decode(99) == 1024


def test_duplicate_names_in_a_space_are_refused() -> None:
    with pytest.raises(SearchSpaceError, match=r"\['a'\]"):
        SearchSpace([IntRange("a", 1, 2), IntValues("a", [1])])


def test_from_specs_and_to_json() -> None:
    space = SearchSpace.from_specs(
        [
            {"name": "lr", "double_range": {"min_value": 0.005, "max_value": 0.01, "step": 0.001}},
            {"name": "fc", "int_range": {"min_value": 5, "max_value": 10, "power": 2}},
            {"name": "act", "string_values": ["relu", "tanh"]},
        ]
    )
    data = space.to_json(max_points=3)
    assert data["size"] == 72 and data["is_finite"] and not data["points_are_samples"]
    assert data["dimensions"][0]["values"] == [0.005, 0.006, 0.007, 0.008, 0.009, 0.01]
    assert data["dimensions"][1]["spec"] == {"min_value": 5, "max_value": 10, "power": 2}
    assert len(data["points"]) == 3
    with pytest.raises(SearchSpaceError, match="exactly one of"):
        SearchSpace.from_specs([{"name": "x", "int_values": [1], "string_values": ["a"]}])


def test_first_points_of_a_30_digit_space_are_listed_without_walking_it() -> None:
    space = SearchSpace([IntRange(f"d{i}", 0, 10**5) for i in range(6)])
    assert space.size == (10**5 + 1) ** 6
    points = list(space.points(100))
    assert len(points) == 100 and points[-1]["d5"] == 99


def test_wide_ranges_with_tiny_steps_are_counted_exactly() -> None:
    """Regression: 0.005..1e40 step 0.001 raised decimal.InvalidOperation (28-digit context) inside validate_text."""
    wide = DoubleRange("x", 0.005, 1e40, step=0.001)
    assert wide.count == 10**43 - 4
    assert wide.value_at(1) == 0.006 and wide.value_at(-1) == 1e40
    extreme = DoubleRange("x", 5e-324, 1e308, step=5e-324)
    assert len(str(extreme.count)) == 632


def test_sampling_a_dimension_past_int64_is_uniform_and_reproducible() -> None:
    """Regression: rng.integers(0, count) raised 'high is out of bounds for int64' (hpo preview crashed)."""
    wide = IntRange("x", 5, 10**40)
    first = [wide.sample(np.random.default_rng(9)) for _ in range(3)]
    assert first == [wide.sample(np.random.default_rng(9)) for _ in range(3)]
    rng = np.random.default_rng(4)
    samples = [wide.sample(rng) for _ in range(400)]
    assert all(5 <= s <= 10**40 for s in samples)
    assert sum(s > 5 * 10**39 for s in samples) in range(150, 251)  # about half above the middle
    space = SearchSpace([wide, DoubleRange("y", 0, 1)])
    assert len(space.preview_points(3)) == 3


def test_int_values_accept_integral_floats() -> None:
    """JSON Schema's "integer" accepts 2.0; the model used to refuse it, so the manifest lost its space."""
    assert list(IntValues("n", [32, 64.0]).values()) == [32, 64]
    assert all(type(v) is int for v in IntValues("n", [32, 64.0]).values())
    with pytest.raises(SearchSpaceError, match=r"\[2.5\]"):
        IntValues("n", [1, 2.5])


def test_index_of_a_double_grid_is_computed_not_searched() -> None:
    """Regression: DoubleRange.index_of scanned every value (1 s for 10**6 values; a 10**15 grid never
    finished), and random search, grid warm starts and rbfopt's encode all call it."""
    fine = DoubleRange("x", 0.0, 1.0, step=1e-9)
    assert fine.index_of(0.5) == 500_000_000 and fine.encode(1.0) == 1e9  # a scan would take minutes
    space = SearchSpace([DoubleRange(f"x{i}", 0.0, 0.999, step=0.001) for i in range(5)])
    point = space.point_at(10**15 - 12345)
    assert space.index_of(point) == 10**15 - 12345
    grid = DoubleRange("lr", 0.005, 0.01, step=0.001)
    assert [grid.index_of(v) for v in (0.005, 0.006, 0.007, 0.008, 0.009, 0.01)] == [0, 1, 2, 3, 4, 5]
    assert grid.index_of(0.006000000000000001) == 1  # float noise is tolerated
    powered = DoubleRange("scale", -3, -1, step=0.5, power=10)
    assert [powered.index_of(v) for v in powered.values()] == [0, 1, 2, 3, 4]
    for bad in (0.0055, 0.02, -1.0, "x", float("nan")):
        with pytest.raises(SearchSpaceError):
            grid.index_of(bad)
    with pytest.raises(SearchSpaceError):
        powered.index_of(-1.0)
