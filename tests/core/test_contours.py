import json
import math

import numpy as np
import pytest

from core.contours import contour_data
from core.landscapes import LANDSCAPES, get_landscape

NAMES = list(LANDSCAPES)


def lowest_value(surface) -> float:
    return min(minimum.value for minimum in surface.minima)


def all_numbers(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from all_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_numbers(item)
    elif isinstance(value, float | int) and not isinstance(value, bool):
        yield value


@pytest.fixture(scope="module", params=NAMES)
def data(request):
    surface = get_landscape(request.param).surface()
    return surface, contour_data(surface)


def test_grid_shape_and_domain(data):
    surface, result = data
    d = surface.landscape.domain
    assert result["domain"] == {"x": [d.xmin, d.xmax], "y": [d.ymin, d.ymax]}
    assert result["log_scale"] is surface.landscape.log_scale
    assert result["grid"]["nx"] == result["grid"]["ny"] == 160
    assert len(result["grid"]["z"]) == 160 * 160
    assert len(result["levels"]) == len(result["lines"]) == 24


def test_grid_is_row_major_from_ymin_upward(data):
    surface, result = data
    d = surface.landscape.domain
    z = np.array(result["grid"]["z"]).reshape(160, 160)
    xs = np.linspace(d.xmin, d.xmax, 160)
    ys = np.linspace(d.ymin, d.ymax, 160)
    for row, col in [(0, 0), (0, 159), (159, 0), (37, 101)]:
        expected = surface.value([xs[col], ys[row]])
        assert z[row, col] == pytest.approx(expected, rel=1e-5, abs=1e-300)
    assert result["z_min"] == pytest.approx(z.min(), rel=1e-5)
    assert result["z_max"] == pytest.approx(z.max(), rel=1e-5)


def test_grid_values_keep_six_significant_digits(data):
    _, result = data
    for value in result["grid"]["z"][::97]:
        assert float(f"{value:.6g}") == value


def test_levels_increase_strictly_inside_the_grid_range(data):
    _, result = data
    levels = np.array(result["levels"])
    assert np.all(np.diff(levels) > 0)
    assert result["z_min"] < levels[0] and levels[-1] < result["z_max"]


def test_levels_are_log_spaced_above_the_minimum_or_linear(data):
    surface, result = data
    levels = np.array(result["levels"])
    if surface.landscape.log_scale:
        ratios = np.diff(np.log(levels - lowest_value(surface)))
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-6)
    else:
        np.testing.assert_allclose(np.diff(levels), np.diff(levels)[0], rtol=1e-6)


def test_every_level_has_lines_with_points_in_the_domain(data):
    surface, result = data
    d = surface.landscape.domain
    for line, level in zip(result["lines"], result["levels"], strict=True):
        assert line["level"] == level
        assert line["paths"], f"no path at level {level}"
        for path in line["paths"]:
            points = np.array(path)
            assert points.ndim == 2 and points.shape[1] == 2 and len(points) >= 2
            assert np.all(points[:, 0] >= d.xmin - 1e-5) and np.all(points[:, 0] <= d.xmax + 1e-5)
            assert np.all(points[:, 1] >= d.ymin - 1e-5) and np.all(points[:, 1] <= d.ymax + 1e-5)
            assert np.all(points == np.round(points, 5))


def test_output_is_finite_plain_json(data):
    _, result = data
    assert all(math.isfinite(number) for number in all_numbers(result))
    assert json.loads(json.dumps(result, allow_nan=False)) == result


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("l1", "l2"), [(0.0, 0.0), (0.3, 0.1)])
def test_lines_lie_at_their_level(name, l1, l2):
    surface = get_landscape(name).surface(l1=l1, l2=l2)
    result = contour_data(surface, resolution=320)
    points = np.array([p for line in result["lines"] for path in line["paths"] for p in path])
    levels = np.array([line["level"] for line in result["lines"] for path in line["paths"] for _ in path])
    if surface.landscape.log_scale:  # relative to the level's height above the minimum
        scale = levels - lowest_value(surface)
    else:
        scale = result["levels"][-1] - result["levels"][0]
    error = np.abs(surface.value(points) - levels) / scale
    assert np.median(error) < 5e-3
    assert np.quantile(error, 0.95) < 5e-2
    assert error.max() < 0.5


def test_regularization_changes_the_contours():
    landscape = get_landscape("bowl")
    plain = contour_data(landscape.surface(), resolution=32)
    regularized = contour_data(landscape.surface(l1=1.0), resolution=32)
    assert regularized["z_max"] > plain["z_max"]
    assert regularized["levels"] != plain["levels"]


def test_levels_and_resolution_are_honoured():
    result = contour_data(get_landscape("booth").surface(), levels=5, resolution=16)
    assert len(result["levels"]) == len(result["lines"]) == 5
    assert result["grid"]["nx"] == result["grid"]["ny"] == 16
    assert len(result["grid"]["z"]) == 256


@pytest.mark.parametrize("levels", [1, 201, 2.5, True, "24"])
def test_bad_levels_are_rejected(levels):
    with pytest.raises(ValueError, match=r"levels must be an integer in \[2, 200\], got "):
        contour_data(get_landscape("booth").surface(), levels=levels)


@pytest.mark.parametrize("resolution", [15, 513, 100.0, None])
def test_bad_resolution_is_rejected(resolution):
    with pytest.raises(ValueError, match=r"resolution must be an integer in \[16, 512\], got "):
        contour_data(get_landscape("booth").surface(), resolution=resolution)


def test_a_window_gives_a_close_up_of_the_surface() -> None:
    surface = get_landscape("beale").surface()
    close = contour_data(surface, levels=6, resolution=16, window=(2.5, 3.5, 0.0, 1.0))
    assert close["domain"] == {"x": [2.5, 3.5], "y": [0.0, 1.0]}
    assert close["z_min"] < contour_data(surface, levels=6, resolution=16)["z_min"] + 1  # the basin is in it
    for line in close["lines"]:
        for path in line["paths"]:
            assert all(2.5 <= x <= 3.5 and 0 <= y <= 1 for x, y in path)


@pytest.mark.parametrize(
    "window", [(2.5, 3.5, 0.0), (3.5, 2.5, 0.0, 1.0), (2.5, 9.0, 0.0, 1.0), (0, float("nan"), 0, 1)]
)
def test_a_bad_window_is_refused_naming_it(window) -> None:
    with pytest.raises(ValueError, match="window must"):
        contour_data(get_landscape("beale").surface(), window=window)
