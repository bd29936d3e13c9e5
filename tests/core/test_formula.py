"""core.formula: the grammar, its refusals (with positions), exact derivatives, the program and the custom landscape."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import formula
from core.formula import FormulaError, compile_formula, parse
from core.landscapes import LANDSCAPES, get_landscape
from core.scene import Scene

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"


def value(text: str, x: float, y: float) -> float:
    return compile_formula(text).value_and_grad_xy(x, y)[0]


# --- the grammar ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-x^2", -(0.7**2)),  # unary minus binds looser than ^
        ("2^3^2", 512.0),  # ^ is right-associative
        ("2**3", 8.0),
        ("x^-2", 0.7**-2),
        ("2x + 3(y - 1)", 2 * 0.7 + 3 * (0.3 - 1)),  # implicit products after a number
        ("2pi", 2 * math.pi),
        ("e^x", math.exp(0.7)),
        ("(1 − x)² + 100·(y − x²)²", (1 - 0.7) ** 2 + 100 * (0.3 - 0.49) ** 2),  # the built-ins' own text
        ("x × y ÷ 2 + π", 0.7 * 0.3 / 2 + math.pi),
        ("atan2(y, x) + min(x, y) - max(x, y)", math.atan2(0.3, 0.7) + 0.3 - 0.7),
        ("abs(y - x) + sqrt(x) + log(x) + exp(-y)", 0.4 + math.sqrt(0.7) + math.log(0.7) + math.exp(-0.3)),
        (
            "tanh(x) + sinh(y) + cosh(x) + atan(y) + tan(x)",
            sum([math.tanh(0.7), math.sinh(0.3), math.cosh(0.7), math.atan(0.3), math.tan(0.7)]),
        ),
        ("1.5e-1 * .5 + 1e2", 0.075 + 100),
        ("  x\t+\ny ", 1.0),
        # slide notation: a product is implicit after a number and between factors that touch
        ("xy + yx + xyy", 2 * 0.7 * 0.3 + 0.7 * 0.3 * 0.3),  # a run of x and y is their product
        ("xy² + 2.1x⁴/3", 0.7 * 0.3**2 + 2.1 * 0.7**4 / 3),  # a superscript binds to the letter before it
        ("x¹⁰ + y⁻¹ + x⁻²", 0.7**10 + 1 / 0.3 + 0.7**-2),  # superscript integers, signed
        ("cos(2πx) + 2 πy", math.cos(2 * math.pi * 0.7) + 2 * math.pi * 0.3),
        ("x(1 − x) + (x + 1)(y − 1) + 2(x)y", 0.7 * 0.3 + 1.7 * -0.7 + 2 * 0.7 * 0.3),
        ("[1 + x]·[2 + y] − (x)[y]", 1.7 * 2.3 - 0.7 * 0.3),  # brackets group like parentheses
        (
            "√x + √(x² + y²) + 2√y + √2·x + √(x)y",
            sum([math.sqrt(0.7), math.hypot(0.7, 0.3), 2 * math.sqrt(0.3), math.sqrt(2) * 0.7, math.sqrt(0.7) * 0.3]),
        ),
        ("sin(x)² − x²y + (xy)³", math.sin(0.7) ** 2 - 0.49 * 0.3 + 0.21**3),
        ("x ∗ y ⋅ 2 ∙ y − 2e−3", 0.7 * 0.3 * 2 * 0.3 - 0.002),  # − in a number's exponent too
    ],
)
def test_grammar_evaluates_as_written(text, expected):
    assert value(text, 0.7, 0.3) == pytest.approx(expected, rel=1e-14)


def test_canonical_form_is_shared_by_spellings():
    assert formula.canonical(parse("2x+y^2")) == formula.canonical(parse("2 * x + y ** 2"))
    assert formula.canonical(parse("xy")) == formula.canonical(parse("x*y")) == formula.canonical(parse("x·y"))
    assert formula.canonical(parse("6xy − x⁴/3")) == formula.canonical(parse("6*x*y - x^4/3"))
    assert formula.canonical(parse("√[x]")) == formula.canonical(parse("sqrt(x)"))
    assert formula.canonical(parse("yx")) != formula.canonical(parse("xy"))  # kept as written, as y*x is
    assert formula.canonical(parse("x-y")) != formula.canonical(parse("y-x"))


def test_spellings_share_one_cache_entry():
    first = compile_formula("3*x^2 + y^2 + 0.123")
    size = formula.cache_size()
    second = compile_formula("3 x ** 2+y²+0.123")
    assert formula.cache_size() == size
    assert second.program is first.program
    assert second.text == "3 x ** 2+y²+0.123"


def test_cache_is_bounded():
    for k in range(formula.LRU_SIZE + 10):
        compile_formula(f"x^2 + {k}*y^2")
    assert formula.cache_size() == formula.LRU_SIZE


# --- refusals, with the position ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("os", "unknown name 'os' at 1"),
        ("x + __import__", "unknown name '__import__' at 5"),
        ("x^2 + x y", "expected an operator, got 'y' at 9; is a '*' or a '+' missing?"),  # touching only
        ("sinx + 1", "unknown name 'sinx' at 1; did you mean sin(x)?"),  # a function is never split
        ("xsin(y)", "unknown name 'xsin' at 1; write products of names with '*', e.g. x*sin(…)"),
        ("2pix", "unknown name 'pix' at 2; write products of names with '*', e.g. pi*x"),
        ("ex", "unknown name 'ex' at 1; write products of names with '*', e.g. e*x"),
        ("x2 + y", "unknown name 'x2' at 1; write x^2 or x² for a power, x*2 for a product"),
        ("(x + 1)2", "a number right after ')' is not a product at 8; write * for a product or ^"),
        ("x²3", "a number right after '²' is not a product at 3"),
        ("1/2x", "a product right after a division is ambiguous at 4; write (1/2)*x or 1/(2x)"),
        ("e^2x", "a product right after an exponent written with '^' is ambiguous at 4"),
        ("x^-2y", "a product right after an exponent written with '^' is ambiguous at 5"),
        ("√2x", "a product right after a root without parentheses is ambiguous at 3; write √(2x) or √2*x"),
        ("√x²", "a power right after a root without parentheses is ambiguous at 3; write √(x²) or (√x)²"),
        ("√-x", "expected a number, x, y, a function or '(' after √, got '-' at 2"),
        ("[x + y)", "expected ']', got ')' at 7"),
        ("[x + y", "unclosed '[' at 1"),
        ("x² ³", "expected an operator, got '³' at 4; one exponent per factor"),
        ("x²²²²", "exponent ²²²² too large (at most 100) at 2"),
        ("x¹⁰¹", "exponent 101 too large (at most 100) at 2"),
        ("x⁻", "superscript ⁻ without digits at 2"),
        ("x²⁻¹", "a superscript sign goes before all the digits at 2"),
        ("sin²(x)", "expected '(' after sin at 4; write sin(x)² for a power of sin(x)"),
        ("х + y", "unexpected character 'х' at 1; it looks like 'x' but is CYRILLIC SMALL LETTER HA (U+0445)"),
        ("x + у", "unexpected character 'у' at 5; it looks like 'y' but is CYRILLIC SMALL LETTER U (U+0443)"),
        ("𝑥^2", "unexpected character '𝑥' at 1; it looks like 'x' but is MATHEMATICAL ITALIC SMALL X"),
        ("½·x", "unexpected character '½' at 1"),
        ("2w² + x", "unknown name 'w' at 2; the only variables are x and y: write a number for w"),
        ("κx", "unexpected character 'κ' at 1; the only names are x, y, pi (π), e and the functions"),
        ("ln(x)", "unknown name 'ln' at 1; did you mean log?"),
        ("x^1e9", "exponent 1e+09 too large (at most 100) at 2"),
        ("2^(3^(4^5))", "exponent 1.02e+03 too large (at most 100) at 5"),
        ("(" * 41 + "x" + ")" * 41, "nesting deeper than 40 at 41"),
        ("sin(" * 41 + "x" + ")" * 41, "nesting deeper than 40 at 164"),
        ("x +", "formula ends early: expected a number, x, y, a function or '(' at 4"),
        ("(x + 1", "unclosed '(' at 1"),
        ("x + 1)", "expected an operator, got ')' at 6"),
        ("x^2 10*y^2", "expected an operator, got '10' at 5; is a '*' or a '+' missing?"),
        ("x $ y", "unexpected character '$' at 3"),
        ("sin x", "expected '(' after sin at 5"),
        ("sin(x, y)", "sin takes one argument at 6"),
        ("atan2(x)", "atan2 takes two arguments, got 1 at 1"),
        ("1/0", "division by zero at 2"),
        ("sqrt(-1) + x", "sqrt(-1) is not a finite real number at 1"),
        ("log(0)*x", "log(0) is not a finite real number at 1"),
        ("(-8)^(1/3) + x", "-8^0.333333 is not a finite real number at 5"),
        ("9" * 25, "number longer than 24 characters at 1"),
        ("1e13*x", "number 1e13 too large (at most 1e+12) at 1"),
        ("1e999*x", "number 1e999 out of range"),
        ("x" + "+x" * 600, "formula longer than 1000 characters (1201)"),
        ("", "empty formula"),
        ("10^10^10^10", "exponent"),
        ("exp(exp(exp(10)))*x", "exp(22026.5) is not a finite real number at 5"),
        ("1e12^9*x", "constant 1e+108 too large (at most 1e+100) at 5"),
    ],
)
def test_refusal_names_the_problem_and_its_position(text, message):
    with pytest.raises(FormulaError) as caught:
        compile_formula(text)
    assert str(caught.value).startswith(message)


def test_error_position_is_reported_apart():
    with pytest.raises(FormulaError) as caught:
        compile_formula("x + y + foo(x)")
    assert (caught.value.problem, caught.value.position) == ("unknown name 'foo'", 9)


def test_derivatives_too_large_are_refused_before_sympy_builds_them():
    product = "*".join(f"sin({k}x+y)" for k in range(1, 40))  # a second derivative of ~40³ terms
    with pytest.raises(FormulaError, match="too complex to differentiate"):
        compile_formula(product)
    compile_formula("*".join(f"sin({k}x+y)" for k in range(1, 6)))  # five factors are fine


# --- exact derivatives: hypothesis ---------------------------------------------------------------------------

SMOOTH_1 = ("sin", "cos", "tanh", "atan", "exp_small", "log1p2", "sqrt1p2")


@st.composite
def expressions(draw, depth=0):
    """Random formulas from the grammar, smooth and finite everywhere (so finite differences apply)."""
    if depth >= 3 or (depth > 0 and draw(st.booleans())):
        leaf = draw(st.sampled_from(["x", "y", "num"]))
        if leaf == "num":
            return repr(draw(st.floats(0.1, 5.0, allow_nan=False).map(lambda v: round(v, 3))))
        return leaf
    kind = draw(st.sampled_from(["+", "-", "*", "/", "^", "neg", "f1", "f2"]))
    a = draw(expressions(depth + 1))
    if kind == "neg":
        return f"-({a})"
    if kind == "f1":
        name = draw(st.sampled_from(SMOOTH_1))
        if name == "exp_small":
            return f"exp(tanh({a}))"
        if name == "log1p2":
            return f"log(1 + ({a})^2)"
        if name == "sqrt1p2":
            return f"sqrt(1 + ({a})^2)"
        return f"{name}({a})"
    b = draw(expressions(depth + 1))
    if kind == "f2":
        return f"atan2({a}, 2 + cos({b}))"  # smooth: the second argument stays in [1, 3]
    if kind == "/":
        return f"({a})/(1.5 + sin({b}))"
    if kind == "^":
        return f"({a})^{draw(st.integers(2, 4))}"
    return f"({a}) {kind} ({b})"


POINTS = st.tuples(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0))


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions(), point=POINTS)
def test_gradient_matches_central_differences(text, point):
    compiled = compile_formula(text)
    x, y = point
    f, gx, gy = compiled.value_and_grad_xy(x, y)
    h = 1e-6
    fd_x = (compiled.value_and_grad_xy(x + h, y)[0] - compiled.value_and_grad_xy(x - h, y)[0]) / (2 * h)
    fd_y = (compiled.value_and_grad_xy(x, y + h)[0] - compiled.value_and_grad_xy(x, y - h)[0]) / (2 * h)
    scale = 1.0 + abs(f) + abs(gx) + abs(gy)
    assert gx == pytest.approx(fd_x, rel=1e-5, abs=1e-5 * scale), text
    assert gy == pytest.approx(fd_y, rel=1e-5, abs=1e-5 * scale), text


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions(), point=POINTS)
def test_hessian_matches_central_differences_of_the_gradient(text, point):
    compiled = compile_formula(text)
    x, y = point
    hxx, hxy, hyy = compiled.hessian_xy(x, y)
    h = 1e-6
    plus_x, minus_x = compiled.value_and_grad_xy(x + h, y), compiled.value_and_grad_xy(x - h, y)
    plus_y, minus_y = compiled.value_and_grad_xy(x, y + h), compiled.value_and_grad_xy(x, y - h)
    scale = 1.0 + abs(hxx) + abs(hxy) + abs(hyy) + sum(abs(v) for v in compiled.value_and_grad_xy(x, y))
    for exact, fd in [
        (hxx, (plus_x[1] - minus_x[1]) / (2 * h)),
        (hxy, (plus_x[2] - minus_x[2]) / (2 * h)),
        (hxy, (plus_y[1] - minus_y[1]) / (2 * h)),
        (hyy, (plus_y[2] - minus_y[2]) / (2 * h)),
    ]:
        assert exact == pytest.approx(fd, rel=1e-5, abs=1e-5 * scale), text


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions(), points=st.lists(POINTS, min_size=1, max_size=8))
def test_floats_and_arrays_give_the_same_bits(text, points):
    compiled = compile_formula(text)
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    arrays = np.stack(compiled.value_and_grad_xy(xs, ys) + compiled.hessian_xy(xs, ys), axis=1)
    floats = np.array([compiled.value_and_grad_xy(x, y) + compiled.hessian_xy(x, y) for x, y in points])
    assert arrays.tobytes() == floats.tobytes()


def test_kinks_have_a_zero_second_derivative():
    compiled = compile_formula("abs(x) + max(x, y) + min(y, 1)")
    assert compiled.value_and_grad_xy(0.5, -0.25) == (0.75, 2.0, 1.0)
    assert compiled.hessian_xy(0.5, -0.25) == (0.0, 0.0, 0.0)
    assert compiled.value_and_grad_xy(0.0, 0.0)[1:] == (0.5, 1.5)  # sign(0) = 0, Heaviside(0) = ½


def test_value_and_gradient_stop_before_the_hessian():
    program = compile_formula(BEALE).program
    assert 0 < int(program.code[1]) < program.size


def test_derivatives_keep_the_chain_rules_factored_form():
    """No number is distributed over a sum: 200·(y − x²) keeps y − x²'s digits near the valley's floor."""
    forms = compile_formula(ROSENBROCK).text_forms()
    assert forms["df/dy"] == "200*(-x^2 + y)"
    assert forms["df/dx"] == "-400*x*(-x^2 + y) - 2*(1 - x)"
    x = 1.0 + 2.0**-30
    y = x * x + 2.0**-40  # y − x² is exactly 2⁻⁴⁰ … plus the rounding of x·x, the same in both forms
    assert compile_formula(ROSENBROCK).value_and_grad_xy(x, y)[2] == 200.0 * (y - x * x)


def test_sums_of_three_or_more_terms_are_compensated():
    compiled = compile_formula("x + 1 + y")
    assert compiled.value_and_grad_xy(1e16, -1e16)[0] == 1.0  # plain left-to-right summation gives 0
    assert compiled.value_and_grad_xy(1e308, 1e308)[0] == math.inf  # an overflow stays inf, not nan
    assert math.isnan(compiled.value_and_grad_xy(math.inf, -math.inf)[0])


def test_compiling_in_threads_gives_the_same_programs():
    """Sympy runs with distribution off in every thread that compiles (its cache is shared by all)."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [ROSENBROCK, BEALE, "3*(x + y)^2 - 2*(x - 1)", "sin(2*(x + y))*exp(-3*(x^2 + 1))", "(x^2 + y^2 - 4)^2"]

    def program(text):
        _, compiled = formula._compile_tree(parse(text))
        return compiled.code.tolist(), compiled.consts.tolist()

    serial = [program(text) for text in texts]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(program, texts)) == serial


# --- typed Rosenbrock and Beale are the built-ins ------------------------------------------------------------

TYPED = [
    ("rosenbrock", ROSENBROCK, {"x": [-2, 2], "y": [-1, 3]}),
    ("beale", BEALE, {"x": [-4.5, 4.5], "y": [-4.5, 4.5]}),
]


@pytest.mark.parametrize(("name", "text", "domain"), TYPED)
def test_typed_formula_matches_the_builtin_pointwise(name, text, domain):
    builtin = get_landscape(name).surface()
    typed = get_landscape("custom").surface({"f": text, **domain})
    grid = np.stack(np.meshgrid(np.linspace(*domain["x"], 41), np.linspace(*domain["y"], 41)), axis=-1)
    np.testing.assert_allclose(typed.value(grid), builtin.value(grid), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(typed.grad(grid), builtin.grad(grid), rtol=1e-13, atol=1e-11)
    np.testing.assert_allclose(typed.hessian(grid), builtin.hessian(grid), rtol=1e-13, atol=1e-11)


@pytest.mark.parametrize(("name", "text", "domain"), TYPED)
def test_typed_formula_finds_the_builtin_minimum_and_arrival_rule(name, text, domain):
    builtin = get_landscape(name)
    typed = get_landscape("custom").resolve({"f": text, **domain})
    assert len(typed.minima) == 1
    np.testing.assert_allclose(typed.minima[0].point, builtin.minima[0].point, atol=1e-9)
    assert typed.minima[0].value == pytest.approx(builtin.minima[0].value, abs=1e-15)
    assert (typed.tolerance, typed.radius, typed.log_scale) == (builtin.tolerance, builtin.radius, builtin.log_scale)


# The races on typed Rosenbrock and Beale, racer by racer against the built-ins: tests/core/test_formula_races.py


# --- the custom landscape ------------------------------------------------------------------------------------


def test_default_custom_entry_is_registered():
    custom = LANDSCAPES["custom"]
    assert custom.formula == "x^2 + 10*y^2"
    assert [m.point for m in custom.minima] == [(0.0, 0.0)]
    assert [p.name for p in custom.params] == ["f", "x", "y"]


def test_ring_of_three_minima_and_their_saddles():
    entry = get_landscape("custom").resolve({"f": "(x^2 + y^2 - 4)^2 + 0.5*(x^3 - 3*x*y^2)"})
    assert len(entry.minima) == 3 and {m.kind for m in entry.minima} == {"global"}
    assert len(entry.saddles) == 3
    for point in entry.saddles:
        hxx, hxy, hyy = entry.compiled.hessian_xy(*point)
        assert hxx * hyy - hxy * hxy < 0


def test_domain_comes_from_the_parameters_and_bounds_the_start():
    entry = get_landscape("custom").resolve({"f": "(x - 5)^2 + y^2", "x": "0,10", "y": [-1, 1]})
    assert (entry.domain.xmin, entry.domain.xmax, entry.domain.ymin, entry.domain.ymax) == (0, 10, -1, 1)
    assert entry.minima[0].point == pytest.approx((5.0, 0.0), abs=1e-9)
    with pytest.raises(ValueError, match="start must lie in the domain of custom"):
        Scene.model_validate({"landscape": {"name": "custom", "params": {"f": "x^2 + y^2"}}, "start": [5, 0]})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"f": "log(x) + y^2"}, "not finite on most of the domain"),
        ({"f": "x + y"}, "no minimum inside the domain"),
        ({"f": "x^2", "x": "3,-3"}, "landscape custom.x must be two numbers"),
        ({"f": "x^2", "y": "0,1e9"}, "landscape custom.y must be two numbers"),
        ({"f": 3}, "landscape custom.f must be a text"),
        ({"f": "x^2 + y^2", "x": "0,0.0001"}, "landscape custom.x must span at least 0.001"),
    ],
)
def test_custom_landscape_refusals_name_the_parameter(params, message):
    with pytest.raises(ValueError, match=message):
        get_landscape("custom").surface(params)


def test_log_scale_follows_the_decades_of_the_values():
    assert get_landscape("custom").resolve({"f": "x^2 + 10*y^2"}).log_scale is False
    assert get_landscape("custom").resolve({"f": "(x^2 + y^2)^4"}).log_scale is True


def test_contours_carry_a_formulas_saddles_unregularized():
    from core.contours import contour_data

    ring = {"f": "(x^2 + y^2 - 4)^2 + 0.5*(x^3 - 3*x*y^2)"}
    assert len(contour_data(get_landscape("custom").surface(ring), levels=4, resolution=16)["saddles"]) == 3
    assert "saddles" not in contour_data(get_landscape("custom").surface(ring, l2=0.1), levels=4, resolution=16)
    assert "saddles" not in contour_data(get_landscape("saddle").surface(), levels=4, resolution=16)


def test_contours_draw_a_formula_with_holes():
    from core.contours import contour_data

    surface = get_landscape("custom").surface({"f": "sqrt(x) + y^2 + (x - 1)^2", "x": "-1,3"})
    data = contour_data(surface, levels=8, resolution=32)
    assert all(math.isfinite(v) for v in data["grid"]["z"])


ALPHABET = "xy0123456789.e+-*/^(),  sincotaexplgqrbhmdπ²·−_[]√⁻¹³⁴⁰×хw"


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=ALPHABET, max_size=60))
def test_any_text_compiles_or_is_refused_with_a_formula_error(text):
    """Whatever is typed: a compiled formula, or a FormulaError (a 422), never another exception."""
    try:
        compiled = compile_formula(text)
    except FormulaError as error:
        assert error.position is None or 1 <= error.position <= len(text) + 1
        return
    with np.errstate(all="ignore"):
        values = compiled.value_and_grad_xy(np.array([0.3, -1.7]), np.array([0.9, 2.2]))
    assert all(v.shape == (2,) for v in values)
    try:  # and as a landscape: an entry with at least one minimum, or a ValueError naming custom.f
        entry = get_landscape("custom").resolve({"f": text})
    except ValueError as error:
        assert "landscape custom.f" in str(error)
    else:
        assert entry.minima and all(math.isfinite(m.value) for m in entry.minima)


def test_run_program_fills_the_register_file_with_f_gradient_and_hessian():
    program = compile_formula(BEALE).program
    out = np.zeros(program.registers)
    formula.run_program(program.code, program.consts, 1.25, -0.5, out)
    value_and_grad = formula.program_value_and_grad(program.code, program.consts, 1.25, -0.5)
    hessian = formula.program_hessian(program.code, program.consts, 1.25, -0.5)
    assert tuple(out[:6]) == value_and_grad + hessian
    builtin = get_landscape("beale").surface()
    assert out[0] == pytest.approx(builtin.value([1.25, -0.5]), rel=1e-15)
    np.testing.assert_allclose(out[3:6], builtin.hessian([1.25, -0.5]).ravel()[[0, 1, 3]], rtol=1e-14)


def test_custom_surface_runs_its_program_in_the_compiled_dispatch():
    """The race engine's compiled loop evaluates a formula by its kind and program: no compilation per formula."""
    from core.landscapes import FORMULA

    surface = get_landscape("custom").surface({"f": ROSENBROCK, "x": [-2, 2], "y": [-1, 3]})
    kind, packed, program, constants = surface.compiled
    assert kind == FORMULA and packed.size == 0
    assert program is surface.landscape.compiled.program.code and constants is surface.landscape.compiled.program.consts
    np.testing.assert_allclose(surface.value_and_grad([0.5, 0.7])[1], [-91.0, 90.0], rtol=1e-15)
