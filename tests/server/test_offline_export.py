"""The offline HTML export (GET /export/race.html, optirace export --format html) and its module bundler."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.scene_url import scene_from_query
from server.cli import main
from server.paths import STATIC
from server.render import FORMATS
from server.render.offline import CSP, BundleError, bundle, module_order, offline_html, parse_module, rounded

SCENE = "landscape=bowl&steps=40&racer=sgd;lr=0.1&racer=adam;lr=0.2;label=A%26B%20%3C%2Fscript%3E"


class Tags(HTMLParser):
    """Every start tag and its attributes (script and style contents are text to the parser, not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))


# --- the export -------------------------------------------------------------------------------------------


def test_html_export_is_one_html_file(client: TestClient) -> None:
    reply = client.get(f"/export/race.html?{SCENE}")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    html = reply.text
    assert html.startswith("<!doctype html>")
    tags = Tags()
    tags.feed(html)
    # nothing to fetch: no src, no stylesheet link (the icon is a data: URL), scripts and styles inline
    assert [
        (tag, attrs) for tag, attrs in tags.seen if "src" in attrs or (tag == "link" and attrs.get("rel") != "icon")
    ] == []
    assert [attrs for tag, attrs in tags.seen if tag == "link"] == [{"rel": "icon", "href": "data:,"}]
    assert [attrs.get("type") for tag, attrs in tags.seen if tag == "script"] == ["application/json", None]
    assert len(reply.content) < 400_000


def test_html_export_declares_a_csp_without_network_and_is_an_attachment() -> None:
    headers = FORMATS["html"].headers
    assert headers["Content-Security-Policy"] == CSP
    assert "default-src 'none'" in CSP and "connect-src" not in CSP and "http" not in CSP
    assert headers["Content-Disposition"].startswith("attachment")


def test_html_export_reply_has_only_its_own_csp_and_is_an_attachment(client: TestClient) -> None:
    reply = client.get(f"/export/race.html?{SCENE}")
    assert reply.headers.get_list("content-security-policy") == [CSP]
    assert reply.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("width=320", "width"),
        ("theme=blue", "theme"),
        ("autoplay=2", "autoplay"),
        ("landscape=nope", "landscape"),
        ("steps=lots", "steps"),
    ],
)
def test_a_bad_html_export_request_is_a_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    reply = client.get(f"/export/race.html?landscape=bowl&steps=20&{query}")
    assert reply.status_code == 422
    body = reply.json()
    assert any(d["loc"][-1] == field or field in ".".join(map(str, d["loc"])) for d in body["detail"]), body
    assert field in body["error"]


def test_html_export_carries_the_race_and_the_options(client: TestClient) -> None:
    html = client.get(f"/export/race.html?{SCENE}&theme=dark&autoplay=1&loop=1&controls=0").text
    data = json.loads(re.search(r'id="embed-data">(.*?)</script>', html, re.S).group(1))
    assert data["defaults"] == {"theme": "dark", "autoplay": True, "loop": True, "controls": False}
    assert [r["label"] for r in data["race"]["racers"]] == ["SGD", "A&B </script>"]
    assert '<html lang="en" data-theme="dark">' in html
    assert 'class="open"' not in html  # no server to go back to


def test_html_export_is_deterministic() -> None:
    scene = scene_from_query(SCENE)
    options = FORMATS["html"].parse_options({})
    assert offline_html(scene, options) == offline_html(scene, options)


def test_cli_writes_the_html_file(tmp_path: Path) -> None:
    out = tmp_path / "race.html"
    assert main(["export", SCENE, "--format", "html", "-o", str(out), "--theme", "dark"]) == 0
    html = out.read_text(encoding="utf-8")
    assert '<html lang="en" data-theme="dark">' in html and "<script>" in html


def test_rounded_keeps_six_significant_digits() -> None:
    assert rounded({"a": [1.23456789, 2, -0.000123456789], "b": "x"}) == {"a": [1.23457, 2, -0.000123457], "b": "x"}


# --- the bundler --------------------------------------------------------------------------------------------


def test_every_module_the_embed_imports_is_bundled() -> None:
    """Walk embed.js's imports independently of the bundler: each one is in the bundle, once, in order."""
    seen: list[str] = []

    def walk(name: str) -> None:
        for dependency in re.findall(r'^import .* from "\./([\w-]+\.js)";', (STATIC / name).read_text(), re.M):
            if dependency not in seen:
                walk(dependency)
        if name not in seen:
            seen.append(name)

    walk("embed.js")
    order = [module.name for module in module_order()]
    assert sorted(order) == sorted(seen)
    assert order[-1] == "embed.js"
    for module in module_order():
        for dependency, _ in module.imports:
            assert order.index(dependency) < order.index(module.name)
    script = bundle()
    for name in order:
        assert script.count(f"// --- {name}\n") == 1
    assert not re.search(r"^\s*(import|export)\b", script, re.M)


def test_parse_module_rewrites_imports_and_exports() -> None:
    module = parse_module(
        "x.js",
        'import { a, b as c } from "./y.js";\n'
        "export function f() { return a + c; }\n"
        "export async function g() {}\n"
        "export const K = 1;\n"
        "export class C {}\n"
        "const private_ = 2;\n",
    )
    assert module.imports == (("y.js", (("a", "a"), ("b", "c"))),)
    assert module.exports == ("f", "g", "K", "C")
    assert module.body.splitlines()[:5] == [
        "const { a, b: c } = __m_y;",
        "function f() { return a + c; }",
        "async function g() {}",
        "const K = 1;",
        "class C {}",
    ]


@pytest.mark.parametrize(
    "source",
    [
        'import x from "./y.js";',
        'import * as y from "./y.js";',
        'import { a } from "y";',
        'import { a } from "../y.js";',
        'import {\n  a,\n} from "./y.js";',
        "export default function f() {}",
        "export { a, b };",
        'export * from "./y.js";',
        "export const a = 1, b = 2;",
        "  export function f() {}",
        "const m = await import('./y.js');",
        "const u = import.meta.url;",
        "const s = '</script>';",
        "const s = '<!-- x';",
    ],
)
def test_the_bundler_refuses_syntax_it_does_not_handle(source: str) -> None:
    with pytest.raises(BundleError, match=r"x\.js:\d+"):
        parse_module("x.js", source)


def test_the_bundler_refuses_a_missing_export_a_missing_module_and_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text('import { f } from "./b.js";\nf();\n')
    (tmp_path / "b.js").write_text("export function g() {}\n")
    with pytest.raises(BundleError, match=re.escape("a.js imports f from b.js, which does not export it")):
        bundle("a.js", tmp_path)
    (tmp_path / "b.js").write_text('import { h } from "./c.js";\nexport function f() { h(); }\n')
    with pytest.raises(BundleError, match=r"no module c\.js .*imported by b\.js"):
        bundle("a.js", tmp_path)
    (tmp_path / "c.js").write_text('import { f } from "./b.js";\nexport function h() {}\n')
    with pytest.raises(BundleError, match=re.escape("import cycle: b.js → c.js → b.js")):
        bundle("a.js", tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_bundle_runs_modules_in_order_with_their_imports(tmp_path: Path) -> None:
    (tmp_path / "main.js").write_text(
        'import { double, NAME as name } from "./lib.js";\nimport { log } from "./log.js";\nlog(name, double(21));\n'
    )
    (tmp_path / "lib.js").write_text(
        'import { log } from "./log.js";\nexport const NAME = "lib";\nexport function double(x) { return 2 * x; }\n'
        'log("lib loaded");\n'
    )
    (tmp_path / "log.js").write_text("export function log(...args) { console.log(args.join(' ')); }\n")
    script = bundle("main.js", tmp_path)
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.splitlines() == ["lib loaded", "lib 42"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_real_bundle_is_valid_javascript(tmp_path: Path) -> None:
    path = tmp_path / "bundle.js"
    path.write_text(bundle())
    subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=30, check=True)
