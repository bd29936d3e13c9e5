"""The custom landscape over HTTP: POST /api/landscapes/custom/check, races, contours and exports of a typed
formula, and a hostile-formula set that must get a 4xx naming the problem (never a 5xx)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from core import formula
from tests.server.conftest import assert_error, ndjson_lines, strict_json

CHECK = "/api/landscapes/custom/check"
RING = "(x^2 + y^2 - 4)^2 + 0.5*(x^3 - 3*x*y^2)"


def test_check_gives_derivatives_minima_and_saddles(client: TestClient) -> None:
    reply = strict_json(client.post(CHECK, json={"f": RING}).content)
    assert reply["f"] == RING
    assert reply["text"]["df/dy"] == "-3*x*y + 4*y*(x^2 + y^2 - 4)"
    assert reply["text"]["d2f/dxdy"] == "8*x*y - 3*y"
    assert set(reply["latex"]) == set(formula.OUTPUTS)
    assert len(reply["minima"]) == 3 and len(reply["saddles"]) == 3
    assert reply["domain"] == {"x": [-3.0, 3.0], "y": [-3.0, 3.0]}


def test_check_takes_the_domain(client: TestClient) -> None:
    reply = strict_json(client.post(CHECK, json={"f": "(x - 5)^2 + y^2", "x": [0, 10], "y": [-1, 1]}).content)
    assert reply["domain"] == {"x": [0.0, 10.0], "y": [-1.0, 1.0]}
    assert reply["minima"][0]["point"] == pytest.approx([5.0, 0.0], abs=1e-9)


def test_check_refusal_is_a_422_naming_f_and_the_position(client: TestClient) -> None:
    reply = assert_error(client.post(CHECK, json={"f": "os"}), 422, "unknown name 'os' at 1", loc=["body", "f"])
    assert reply["detail"][0]["type"] == "formula_error"


def test_check_refusal_of_a_domain_names_it(client: TestClient) -> None:
    assert_error(client.post(CHECK, json={"f": "x^2 + y^2", "x": [2, 1]}), 422, "custom.x", loc=["body", "x"])


def test_race_on_a_typed_formula(client: TestClient) -> None:
    query = f"landscape=custom&landscape.f={quote(RING)}&landscape.x=-3,3&landscape.y=-3,3&steps=200"
    reply = strict_json(client.get(f"/api/race?{query}").content)
    assert reply["scene"]["landscape"] == {"name": "custom", "params": {"f": RING, "x": [-3, 3], "y": [-3, 3]}}
    assert len(reply["minima"]) == 3
    assert any(racer["status"] == "arrived" for racer in reply["racers"])


def test_race_stream_on_a_typed_formula(client: TestClient) -> None:
    scene = {"landscape": {"name": "custom", "params": {"f": "x^2 + 10*y^2"}}, "steps": 50}
    response = client.post("/api/race/stream", json=scene)
    lines = ndjson_lines(response)
    assert lines[0]["type"] == "header" and lines[-1]["type"] == "summary"
    assert lines[0]["scene"]["start"] == [-2.4, -2.4]


def test_contours_of_a_typed_formula_on_its_domain(client: TestClient) -> None:
    response = client.get("/api/landscapes/custom/contours", params={"f": RING, "x": "-2.5,2.5", "resolution": 32})
    reply = strict_json(response.content)
    assert reply["domain"] == {"x": [-2.5, 2.5], "y": [-3.0, 3.0]}
    assert len(reply["grid"]["z"]) == 32 * 32


def test_evaluate_a_typed_formula(client: TestClient) -> None:
    reply = strict_json(
        client.post(
            "/api/landscapes/custom/evaluate", json={"points": [[1.0, 2.0]], "params": {"f": "x^2*y^2"}}
        ).content
    )
    assert reply == {"loss": [4.0], "grad": [[8.0, 4.0]]}


def test_scene_query_round_trip_keeps_the_formula(client: TestClient) -> None:
    scene = {"landscape": {"name": "custom", "params": {"f": "sin(x)*cos(y) + 0.1*(x^2 + y^2)"}}, "steps": 30}
    reply = strict_json(client.post("/api/scene/query", json=scene).content)
    assert reply["scene"]["landscape"]["params"]["f"] == "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
    assert "landscape.f=sin%28x%29%2Acos%28y%29%20%2B%200.1" in reply["query"]
    again = strict_json(client.get(f"/api/race?{reply['query']}").content)
    assert again["scene"] == reply["scene"]


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_exports_draw_a_typed_formula(client: TestClient, kind: str) -> None:
    query = "landscape=custom&landscape.f=" + quote(RING) + "&steps=40"
    response = client.get(f"/export/race.{kind}?{query}&width=320&height=240")
    assert response.status_code == 200, response.text


# --- hostile formulas ------------------------------------------------------------------------------------

HOSTILE: list[tuple[str, str]] = [
    # code injection and introspection
    ("__import__('os').system('ls')", "unknown name '__import__' at 1"),
    ("os.system('rm -rf /')", "unknown name 'os' at 1"),
    ("eval('1+1')", "unknown name 'eval' at 1"),
    ("exec('import os')", "unknown name 'exec' at 1"),
    ("().__class__.__bases__[0].__subclasses__()", "expected a number, x, y, a function or '(', got ')' at 2"),
    ("x.__class__", "unexpected character '.' at 2"),
    ("x.real", "unexpected character '.' at 2"),
    ("lambda: 0", "unknown name 'lambda' at 1"),
    ("open('/etc/passwd').read()", "unknown name 'open' at 1"),
    ("import os", "unknown name 'import' at 1"),
    ("x; import os", "unexpected character ';' at 2"),
    ("${7*7}", "unexpected character '$' at 1"),
    ("{{7*7}}", "unexpected character '{' at 1"),
    ("x if y else 0", "expected an operator, got 'if' at 3"),
    ("[x for x in range(9)]", "expected ']', got 'for' at 4"),
    ("'x'", 'unexpected character "\'" at 1'),
    ("x\n+__import__('os')", "unknown name '__import__' at 4"),
    ("getattr(x, 'real')", "unknown name 'getattr' at 1"),
    ("sympify('x')", "unknown name 'sympify' at 1"),
    ("Symbol('x')**2", "unknown name 'Symbol' at 1"),
    ("x^2 + y^2 + 0*__builtins__", "unknown name '__builtins__' at 15"),
    ("x\x00", "unexpected character U+0000 at 2"),
    ("ｘ^2", "unexpected character 'ｘ' at 1"),
    ("x^2 + ☃", "unexpected character '☃' at 7"),
    # functions and names outside the whitelist
    ("factorial(x)", "unknown name 'factorial' at 1"),
    ("gamma(x) + y", "unknown name 'gamma' at 1"),
    ("nan*x", "unknown name 'nan' at 1"),
    ("inf + x^2", "unknown name 'inf' at 1"),
    ("max(x)", "max takes two arguments, got 1 at 1"),
    # exponent towers and huge numbers
    ("10**10**10", "exponent 1e+10 too large (at most 100) at 3"),
    ("2^2^2^2^2^2", "exponent 6.55e+04 too large (at most 100) at 4"),
    ("x^(10^9)", "exponent 1e+09 too large (at most 100) at 2"),
    ("x^1e300", "number 1e300 too large (at most 1e+12) at 3"),
    ("9" * 1000, "number longer than 24 characters at 1"),
    ("99999999999999999999999*x", "number 99999999999999999999999 too large"),
    ("1e999 * x", "out of range"),
    ("1e12^9*x", "constant 1e+108 too large (at most 1e+100) at 5"),
    # size and depth
    ("(" * 10_000 + "x" + ")" * 10_000, "formula longer than 1000 characters (20001)"),
    ("(" * 499 + "x" + ")" * 499, "nesting deeper than 40 at 41"),
    ("x+" * 50_000 + "x", "formula longer than 1000 characters (100001)"),
    ("-" * 900 + "x", "operators chained deeper than 160 at 160"),
    ("sin(" * 100 + "x" + ")" * 100, "nesting deeper than 40"),
    ("x" + "^x" * 300, "operators chained deeper than 160"),
    ("*".join(f"sin({k}x+y)" for k in range(1, 40)), "too complex to differentiate"),
    ("+".join(f"x^{k % 9}*y" for k in range(100)), "more than 400 terms"),
    # NaN or infinite (almost) everywhere
    ("0/0 + x", "division by zero at 2"),
    ("log(-1 - x^2) + y", "not finite on most of the domain"),
    ("sqrt(-1 - x^2 - y^2)", "not finite on most of the domain"),
    ("exp(1000*(x^2 + 1))", "not finite on most of the domain"),
    ("1/(x - x)", "infinite or undefined everywhere"),
    ("(-2)^x + y^2", "complex values"),
    # slide notation pushed too far: runs of letters, superscripts, lookalikes, ambiguous products
    ("x" * 10_000, "formula longer than 1000 characters (10000)"),
    ("x" * 999, "formula has more than 400 terms and operations at 201"),
    ("xy²" * 333, "formula has more than 400 terms and operations"),
    ("x" + "²" * 999, "exponent ²²²²²²²²… too large (at most 100) at 2"),
    ("²²²²", "expected a number, x, y, a function or '(', got '²²²²' at 1"),
    ("x²²²" + "+x" * 10, "exponent 222 too large (at most 100) at 2"),
    ("(xy)⁹⁹⁹", "exponent 999 too large (at most 100) at 5"),
    ("√" * 500 + "x", "operators chained deeper than 160 at 160"),
    ("х^2 + y^2", "unexpected character 'х' at 1; it looks like 'x' but is CYRILLIC SMALL LETTER HA (U+0445)"),
    ("xх + y", "unexpected character 'х' at 2; it looks like 'x'"),
    ("x^2 + ｙ^2", "unexpected character 'ｙ' at 7; it looks like 'y' but is FULLWIDTH LATIN SMALL LETTER Y"),
    ("x\u200by", "unexpected character U+200B at 2"),
    ("x\u202e+y", "unexpected character U+202E at 2"),
    ("еxp(x)", "unexpected character 'е' at 1; it looks like 'e' but is CYRILLIC SMALL LETTER IE"),
    ("e^2x", "a product right after an exponent written with '^' is ambiguous at 4"),
    ("1/2x + y", "a product right after a division is ambiguous at 4"),
    ("(x + 1)2", "a number right after ')' is not a product at 8"),
    ("sinx + cosy", "unknown name 'sinx' at 1; did you mean sin(x)?"),
    ("xexec(y)", "unknown name 'xexec' at 1"),
    ("x⁻⁻¹", "a superscript sign goes before all the digits at 2"),
    # not a formula at all
    ("", "empty formula"),
    ("x^2 10*y^2", "expected an operator, got '10' at 5"),
]


def test_hostile_set_is_large():
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize(("text", "message"), HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_formula_is_refused_by_the_check(client: TestClient, text: str, message: str) -> None:
    response = client.post(CHECK, json={"f": text})
    if len(text) > formula.MAX_LENGTH:  # the schema's maxLength answers first
        assert_error(response, 422, "at most 1000 characters", loc=["body", "f"])
    else:
        assert_error(response, 422, message, loc=["body", "f"])


@pytest.mark.parametrize(("text", "message"), HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_formula_is_refused_in_a_scene(client: TestClient, text: str, message: str) -> None:
    scene = {"landscape": {"name": "custom", "params": {"f": text}}, "steps": 10}
    response = client.post("/api/race", json=scene)
    assert 400 <= response.status_code < 500, response.text
    if len(text) > formula.MAX_LENGTH:
        message = "landscape custom.f must be a text of at most 1000 characters"
    assert message in strict_json(response.content)["error"]


@pytest.mark.parametrize(("text", "message"), HOSTILE[:12], ids=[f"h{i}" for i in range(12)])
def test_hostile_formula_is_refused_in_a_url(client: TestClient, text: str, message: str) -> None:
    response = client.get(f"/api/race?landscape=custom&landscape.f={quote(text)}")
    assert_error(response, 422, message)


@pytest.mark.parametrize(
    "params",
    [{"f": 3}, {"f": ["x"]}, {"f": "x^2", "x": "nan,1"}, {"f": "x^2", "x": "1"}, {"f": "x^2", "y": [0, 1e9]}],
)
def test_wrong_types_of_custom_parameters_are_422(client: TestClient, params: dict) -> None:
    response = client.post("/api/race", json={"landscape": {"name": "custom", "params": params}, "steps": 10})
    assert response.status_code == 422, response.text


def test_pytorch_script_writes_the_formula_in_torch(client: TestClient) -> None:
    text = "atan2(y, 2) + max(x, 1) + 0.5*(x^2 + y^2)\n"
    reply = client.get(f"/api/pytorch?landscape=custom&landscape.f={quote(text)}&landscape.x=-2,2&steps=20")
    assert reply.status_code == 200, reply.text
    source = reply.text
    compile(source, "race.py", "exec")
    assert "return ((torch.atan2(y, torch.tensor(2.0)) + torch.maximum(x, torch.tensor(1.0)))" in source
    assert "# --- the landscape: f(x, y) = atan2(y, 2) + max(x, 1) + 0.5*(x^2 + y^2)\n" in source
    assert "X_BOUNDS = [-42.0, 42.0]" in source  # the formula's domain, widened as the race's bound
