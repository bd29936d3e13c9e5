import json
import math

import numpy as np
import pytest

from core.landscapes import LANDSCAPES, Landscape, Surface, get_landscape

NAMES = list(LANDSCAPES)
STEP = 1e-6

# (name, params, l1, l2): default surfaces, non-default parameters, and regularized ones.
SURFACES = [(name, None, 0.0, 0.0) for name in NAMES] + [
    ("bowl", {"condition": 300.0, "angle": 35.0}, 0.0, 0.0),
    ("bowl", {"condition": 1.0, "angle": -90.0}, 0.0, 0.0),
    ("plateau", {"width": 0.7}, 0.0, 0.0),
    *[(name, None, 0.3, 0.05) for name in NAMES],
]


def surface_id(case):
    name, params, l1, l2 = case
    return f"{name}-{params or 'default'}-l1={l1}-l2={l2}"


def random_points(landscape: Landscape, count: int = 64, seed: int = 0) -> np.ndarray:
    """Points in the domain, at least 0.01 away from the axes (the l1 kink)."""
    rng = np.random.default_rng(seed)
    d = landscape.domain
    points = np.column_stack([rng.uniform(d.xmin, d.xmax, count), rng.uniform(d.ymin, d.ymax, count)])
    return points[(np.abs(points) > 0.01).all(axis=1)]


def grid_points(landscape: Landscape, n: int = 301) -> np.ndarray:
    d = landscape.domain
    grid = np.empty((n, n, 2))
    grid[..., 0] = np.linspace(d.xmin, d.xmax, n)[:, None]
    grid[..., 1] = np.linspace(d.ymin, d.ymax, n)[None, :]
    return grid


def central_difference(function, points: np.ndarray) -> np.ndarray:
    """∂function/∂θ at points (N, 2), stacked on a new axis after the function's own."""
    columns = []
    for axis in range(2):
        shift = np.zeros(2)
        shift[axis] = STEP
        columns.append((function(points + shift) - function(points - shift)) / (2 * STEP))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize("case", SURFACES, ids=surface_id)
def test_gradient_matches_central_differences(case):
    name, params, l1, l2 = case
    surface = get_landscape(name).surface(params, l1, l2)
    points = random_points(surface.landscape)
    expected = central_difference(surface.value, points)
    np.testing.assert_allclose(surface.grad(points), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", SURFACES, ids=surface_id)
def test_hessian_matches_central_differences_of_the_gradient(case):
    name, params, l1, l2 = case
    surface = get_landscape(name).surface(params, l1, l2)
    points = random_points(surface.landscape)
    expected = np.swapaxes(central_difference(surface.grad, points), -1, -2)
    hessian = surface.hessian(points)
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(hessian[:, 0, 1], hessian[:, 1, 0])


@pytest.mark.parametrize("case", SURFACES[: len(NAMES) + 3], ids=surface_id)
def test_listed_minima_are_stationary_with_their_stated_value(case):
    name, params, _, _ = case
    surface = get_landscape(name).surface(params)
    for minimum in surface.minima:
        loss, grads = surface.value_and_grad(np.array(minimum.point))
        assert loss == pytest.approx(minimum.value, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grads, 0.0, atol=1e-9 * (1 + abs(minimum.value)))
        assert np.all(np.linalg.eigvalsh(surface.hessian(np.array(minimum.point))) > 0)


@pytest.mark.parametrize("name", NAMES)
def test_global_minima_share_the_lowest_value_and_no_grid_point_is_lower(name):
    landscape = get_landscape(name)
    values = [m.value for m in landscape.minima]
    lowest = min(values)
    assert {m.kind for m in landscape.minima if m.value == lowest} == {"global"}
    assert {m.kind for m in landscape.minima if m.value > lowest} <= {"local"}
    assert landscape.surface().value(grid_points(landscape)).min() >= lowest - 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_minima_and_start_lie_inside_the_domain(name):
    landscape = get_landscape(name)
    d = landscape.domain
    for x, y in [landscape.start, *(m.point for m in landscape.minima)]:
        assert d.xmin <= x <= d.xmax
        assert d.ymin <= y <= d.ymax


def test_beale_and_rosenbrock_equal_their_standard_formulas():
    points = np.random.default_rng(3).uniform(-3, 3, size=(100, 2))
    x, y = points[:, 0], points[:, 1]
    beale = (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    rosenbrock = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    np.testing.assert_allclose(get_landscape("beale").surface().value(points), beale, rtol=1e-12)
    np.testing.assert_allclose(get_landscape("rosenbrock").surface().value(points), rosenbrock, rtol=1e-12)


def test_bowl_has_the_requested_condition_number_and_rotation():
    hessian = get_landscape("bowl").surface({"condition": 50, "angle": 30}).hessian([1.0, 2.0])
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    np.testing.assert_allclose(eigenvalues, [1 / 50, 1.0])
    valley = eigenvectors[:, 0] * np.sign(eigenvectors[0, 0])
    np.testing.assert_allclose(valley, [math.cos(math.pi / 6), math.sin(math.pi / 6)])


def test_regularization_adds_its_penalty_and_gradient():
    landscape = get_landscape("himmelblau")
    points = np.array([[1.5, -2.0], [0.0, 3.0]])
    plain = landscape.surface()
    regularized = landscape.surface(l1=0.5, l2=0.25)
    np.testing.assert_allclose(
        regularized.value(points), plain.value(points) + np.array([0.5 * 3.5 + 0.25 * 6.25, 1.5 + 2.25])
    )
    np.testing.assert_allclose(regularized.grad(points), plain.grad(points) + np.array([[1.25, -1.5], [0.0, 2.0]]))
    np.testing.assert_allclose(regularized.hessian(points), plain.hessian(points) + 0.5 * np.eye(2))


@pytest.mark.parametrize("name", ["rosenbrock", "bowl", "himmelblau"])
@pytest.mark.parametrize(("shape", "expected"), [((2,), ()), ((5, 2), (5,)), ((3, 4, 2), (3, 4))], ids=str)
def test_shapes_broadcast_over_leading_axes(name, shape, expected):
    surface = get_landscape(name).surface(l1=0.1, l2=0.1)
    points = np.random.default_rng(0).uniform(-1, 1, size=shape)
    loss, grads = surface.value_and_grad(points)
    assert np.shape(loss) == expected
    assert grads.shape == shape
    assert surface.hessian(points).shape == (*shape, 2)
    np.testing.assert_array_equal(loss, surface.value(points))
    np.testing.assert_array_equal(grads, surface.grad(points))
    flat_loss = surface.value(points.reshape(-1, 2))
    np.testing.assert_array_equal(np.reshape(loss, -1), flat_loss)


@pytest.mark.parametrize("name", NAMES)
def test_value_and_grad_accepts_lists_and_returns_float64(name):
    loss, grads = get_landscape(name).surface().value_and_grad([[0.5, 0.25], [1, 2]])
    assert loss.dtype == np.float64
    assert grads.dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_metadata_is_complete(name):
    landscape = get_landscape(name)
    assert landscape.name == name
    assert landscape.title and landscape.formula and landscape.lesson
    assert landscape.tolerance > 0 and landscape.radius > 0
    assert landscape.domain.xmin < landscape.domain.xmax
    assert landscape.domain.ymin < landscape.domain.ymax
    assert any(m.kind == "global" for m in landscape.minima)
    json.dumps([spec.to_json() for spec in landscape.params], allow_nan=False)


def test_registry_starts_with_the_lecture_landscapes():
    assert NAMES[:5] == ["beale", "rosenbrock", "saddle", "bowl", "himmelblau"]
    assert {"rastrigin", "six_hump_camel", "booth", "goldstein_price"} <= set(NAMES)
    assert len(NAMES) >= 10


def test_unknown_landscape_is_rejected_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown landscape 'moon'; expected one of: beale, "):
        get_landscape("moon")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"condition": 0.5}, r"landscape bowl\.condition must be a number in \[1, 10000\]"),
        ({"condition": "steep"}, r"landscape bowl\.condition must be a number"),
        ({"angle": 120}, r"landscape bowl\.angle must be a number in \[-90, 90\], got 120"),
        ({"angle": float("nan")}, r"landscape bowl\.angle must be a number"),
        ({"depth": 1}, r"landscape bowl has no parameter 'depth'; expected one of: condition"),
    ],
)
def test_bad_params_are_rejected_naming_the_field(params, match):
    with pytest.raises(ValueError, match=match):
        get_landscape("bowl").surface(params)


def test_params_are_resolved_with_defaults():
    surface = get_landscape("bowl").surface({"angle": "45"})
    assert surface.params == {"condition": 20.0, "angle": 45.0}


@pytest.mark.parametrize("field", ["l1", "l2"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1", True, None])
def test_bad_regularization_is_rejected_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"{field} must be a number >= 0, got "):
        get_landscape("rosenbrock").surface(**{field: value})


@pytest.mark.parametrize("name", NAMES)
def test_unregularized_surfaces_use_the_exact_minima(name):
    landscape = get_landscape(name)
    assert landscape.surface().minima == landscape.minima


def regularized_cases():
    for name in NAMES:
        yield name, 0.5, 0.0
        yield name, 0.0, 0.2
    yield "six_hump_camel", 3.0, 0.0
    yield "goldstein_price", 20.0, 0.0


@pytest.mark.parametrize(("name", "l1", "l2"), list(regularized_cases()))
def test_regularized_minima_are_stationary_off_the_axes_and_lowest_on_a_grid(name, l1, l2):
    surface = get_landscape(name).surface(l1=l1, l2=l2)
    minima = surface.minima
    assert minima[0].kind == "global"
    grid_min = surface.value(grid_points(surface.landscape, 401)).min()
    assert minima[0].value <= grid_min + 1e-12
    for minimum in minima:
        point = np.array(minimum.point)
        loss, grads = surface.value_and_grad(point)
        assert loss == minimum.value
        off_axes = point != 0.0
        np.testing.assert_allclose(grads[off_axes], 0.0, atol=1e-6 * (1 + abs(loss)))
        for axis in np.flatnonzero(~off_axes):  # on an axis: no way down along that axis
            for sign in (-1.0, 1.0):
                assert surface.value(point + sign * 1e-6 * np.eye(2)[axis]) > loss
    assert [m.value for m in minima] == sorted(m.value for m in minima)


def test_l2_keeps_the_bowl_minimum_at_the_origin():
    minima = get_landscape("bowl").surface({"angle": 20}, l2=1.0).minima
    assert minima == (((0.0, 0.0), 0.0, "global"),)


def test_large_l1_moves_a_minimum_onto_an_axis():
    surface = get_landscape("goldstein_price").surface(l1=0.5)
    (x, y), value, kind = surface.minima[0]
    assert x == 0.0
    assert y == pytest.approx(-1.0, abs=1e-3)
    assert kind == "global"
    assert value == pytest.approx(3.5, abs=1e-3)


def test_large_l1_sends_rosenbrock_to_the_origin():
    assert get_landscape("rosenbrock").surface(l1=3.0).minima == (((0.0, 0.0), 1.0, "global"),)


def test_l2_breaks_the_tie_between_himmelblau_minima():
    minima = get_landscape("himmelblau").surface(l2=0.1).minima
    assert len(minima) == 4
    assert [m.kind for m in minima] == ["global", "local", "local", "local"]
    assert minima[0].point == pytest.approx((3.0, 2.0), abs=0.02)


def test_surface_records_its_landscape_params_and_penalties():
    surface = get_landscape("plateau").surface({"width": 2}, l1=1, l2=0.5)
    assert isinstance(surface, Surface)
    assert surface.landscape is LANDSCAPES["plateau"]
    assert surface.params == {"width": 2.0}
    assert (surface.l1, surface.l2) == (1.0, 0.5)
    assert isinstance(surface.l1, float)
