"""The race as one self-contained HTML file (the ``html`` export), and the data the /embed page inlines.

Both are ``templates/embed.html``: the slide embed links ``/static/embed.js`` (an ES module) and its CSS;
the offline file carries everything inline — the CSS, the player's modules bundled into one classic
script by ``bundle`` below, and the race, contours and landscape as JSON — so it plays from file://
with no server and no network.

``bundle`` handles only the plain module syntax our own modules use, and refuses anything else
rather than emit broken JavaScript:

    import { a, b as c } from "./x.js";        (one line, relative, named imports only)
    export function f / export async function f / export const|let|class name

Each module becomes ``const __m_x = (function () { "use strict"; …body…; return { exports }; })();``,
in dependency order, its imports rewritten to ``const { a, b: c } = __m_x;``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.contours import contour_data
from core.landscape_notes import SADDLES, SUGGESTED_LR
from core.landscapes import get_landscape
from core.optimizers import get_optimizer
from core.race import race_frames, run, surface_of
from core.scene import Scene
from core.scene_url import scene_to_query
from core.schedules import SCHEDULES
from server.paths import STATIC, TEMPLATES
from server.render.figure import marker_of

ENTRY = "embed.js"
STYLESHEETS = ("player.css", "embed.css")
# As the page draws its map (server/routes/pages.py): a heat map under the paths needs no more.
CONTOUR_RESOLUTION = 96
CONTOUR_LEVELS = 16
DIGITS = 6  # significant digits of the inlined numbers: 1e-6 of the domain is far below a pixel
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), keep_trailing_newline=True
)


# --- the data ---------------------------------------------------------------------------------------------


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """``value`` (JSON-ready) with every float rounded to ``digits`` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}") if math.isfinite(value) else value
    if isinstance(value, list):
        return [rounded(item, digits) for item in value]
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    return value


def embed_payload(scene: Scene, defaults: Mapping[str, Any] | None = None, with_race: bool = True) -> dict[str, Any]:
    """What static/embed.js draws: the landscape's metadata, its contours and the race result.

    ``defaults`` are the embed options the file starts with (the export's; a query can still override them).
    Without the race (``with_race=False``, for a race to be streamed) it carries the race stream's own header
    frame instead (the filled scene, the racers' labels and colours, the minima), made without running a step.
    """
    scene = scene.filled()
    if with_race:
        result = run(scene)
    else:
        header = next(race_frames(scene))
        result = {"minima": header["minima"]}
    landscape = get_landscape(scene.landscape.name).resolve(scene.landscape.params)
    d = landscape.domain
    contours = contour_data(surface_of(scene), levels=CONTOUR_LEVELS, resolution=CONTOUR_RESOLUTION)
    return {
        "landscape": {
            "name": landscape.name,
            "title": landscape.title,
            "formula": landscape.formula,
            "domain": {"x": [d.xmin, d.xmax], "y": [d.ymin, d.ymax]},
            "minima": result["minima"],
            # the arrival test (as core.race judges it), for the legend's "✓ 185, left 202"
            "tolerance": landscape.tolerance,
            "radius": landscape.radius,
            "saddles": [list(point) for point in SADDLES.get(landscape.name, getattr(landscape, "saddles", ()))],
            "start": list(scene.start or landscape.start),
        },
        # for the legend's markers and the slide's live controls (controls=lr, lrscale, schedule)
        "optimizers": {
            racer.optimizer: {
                "marker": marker_of(racer.optimizer),
                "lr": _lr_spec(racer.optimizer),
                "suggested_lr": SUGGESTED_LR.get(landscape.name, {}).get(racer.optimizer),
            }
            for racer in scene.racers
        },
        "schedules": [
            {"name": s.name, "title": s.title, "params": [p.to_json() for p in s.params]} for s in SCHEDULES.values()
        ],
        "contours": rounded(contours),
        "race": rounded(result) if with_race else None,
        **({} if with_race else {"header": header}),
        "query": scene_to_query(scene),
        "defaults": dict(defaults or {}),
    }


def _lr_spec(optimizer: str) -> dict[str, Any]:
    return next(p for p in get_optimizer(optimizer).params if p.name == "lr").to_json()


def json_block(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<`` escaped, so no ``</script>`` or ``<!--``."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c")


def render_page(**context: Any) -> str:
    """templates/embed.html with ``context`` (title, theme, data, page_href, modules, offline, css, script, error)."""
    defaults = {"theme": None, "page_href": None, "modules": (), "offline": False, "error": None, "data": "{}"}
    return _environment.get_template("embed.html").render({**defaults, **context})


def theme_attribute(theme: str) -> str | None:
    """The <html data-theme> the page starts with, before its script runs (auto: none, the media query decides)."""
    return theme if theme in ("light", "dark") else None


# --- the bundler ------------------------------------------------------------------------------------------


class BundleError(ValueError):
    """A module uses syntax ``bundle`` does not handle (or imports something it cannot find)."""


_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([A-Za-z0-9_-]+\.js)"\s*;?\s*$')
_EXPORT = re.compile(r"^export\s+(async\s+function\s*\*?|function\s*\*?|const|let|class)\s+([A-Za-z_$][\w$]*)")
_MODULE_SYNTAX = re.compile(r"^\s*(import|export)\b")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")
_FORBIDDEN = (
    (re.compile(r"\bimport\s*\("), "a dynamic import()"),
    (re.compile(r"\bimport\.meta\b"), "import.meta"),
    (re.compile(r"</script", re.IGNORECASE), "</script (it would end the inline <script>)"),
    (re.compile(r"<!--"), "<!-- (it changes how an inline <script> is parsed)"),
)


@dataclass(frozen=True)
class Module:
    name: str  # file name, e.g. "plot.js"
    imports: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (module, ((imported, local), ...))
    exports: tuple[str, ...]
    body: str  # the source with import lines rewritten and export keywords dropped


def variable(name: str) -> str:
    """The bundle's variable holding a module's exports: ``plot.js`` → ``__m_plot``."""
    return "__m_" + re.sub(r"\W", "_", name.removesuffix(".js"))


def _declares_more_than_one(line: str) -> bool:
    """Whether ``export const a = 1, b = 2`` (a comma outside brackets and strings) is on this line.

    A comma in a regular expression literal counts too: a false alarm fails loudly, which is the point."""
    depth = 0
    quote = ""
    escaped = False
    for index, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            return True
        elif line.startswith("//", index):
            break
    return False


def parse_module(name: str, source: str) -> Module:
    """One module's imports, exports and rewritten body; raises BundleError at the first line it cannot handle."""
    for pattern, what in _FORBIDDEN:
        match = pattern.search(source)
        if match:
            line = source.count("\n", 0, match.start()) + 1
            raise BundleError(f"{name}:{line}: the bundler does not handle {what}")
    imports: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    exports: list[str] = []
    lines = source.split("\n")
    for number, line in enumerate(lines, 1):
        if not _MODULE_SYNTAX.match(line):
            continue
        where = f"{name}:{number}"
        if line != line.lstrip():
            raise BundleError(f"{where}: an indented import/export line is not handled: {line.strip()!r}")
        if match := _IMPORT.match(line):
            names = []
            for part in (p.strip() for p in match.group(1).split(",")):
                if not part:
                    continue
                imported, _, local = (piece.strip() for piece in part.partition(" as "))
                local = local or imported
                if not (_IDENTIFIER.match(imported) and _IDENTIFIER.match(local)):
                    raise BundleError(f"{where}: cannot read the imported name {part!r}")
                names.append((imported, local))
            imports.append((match.group(2), tuple(names)))
            pairs = ", ".join(imported if imported == local else f"{imported}: {local}" for imported, local in names)
            lines[number - 1] = f"const {{ {pairs} }} = {variable(match.group(2))};"
        elif match := _EXPORT.match(line):
            if match.group(1) in ("const", "let") and _declares_more_than_one(line):
                raise BundleError(f"{where}: declare one name per export statement: {line.strip()!r}")
            exports.append(match.group(2))
            lines[number - 1] = line.removeprefix("export").lstrip()
        else:
            raise BundleError(
                f"{where}: the bundler handles only 'import {{ a, b as c }} from \"./x.js\";' and "
                f"'export function|async function|const|let|class name'; got {line.strip()!r}"
            )
    return Module(name, tuple(imports), tuple(exports), "\n".join(lines))


def module_order(entry: str = ENTRY, root: Path | Sequence[Path] = STATIC) -> list[Module]:
    """``entry`` and every module it imports, parsed, each after the ones it imports; refuses cycles.

    ``root`` may be several folders, searched in order for each module (the notebook widget's entry lives
    in the optirace package, the modules it imports in static/)."""
    roots = [root] if isinstance(root, Path) else list(root)
    parsed: dict[str, Module] = {}
    order: list[Module] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in visiting:
            raise BundleError(f"import cycle: {' → '.join([*visiting[visiting.index(name) :], name])}")
        if name in parsed:
            return
        path = next((folder / name for folder in roots if (folder / name).is_file()), None)
        if path is None:
            importer = f" (imported by {visiting[-1]})" if visiting else ""
            raise BundleError(f"no module {name} in {', '.join(map(str, roots))}{importer}")
        module = parse_module(name, path.read_text(encoding="utf-8"))
        visiting.append(name)
        for dependency, _ in module.imports:
            visit(dependency)
        visiting.pop()
        parsed[name] = module
        order.append(module)

    visit(entry)
    for module in order:
        for dependency, names in module.imports:
            missing = [imported for imported, _ in names if imported not in parsed[dependency].exports]
            if missing:
                raise BundleError(
                    f"{module.name} imports {', '.join(missing)} from {dependency}, which does not export it"
                )
    return order


def _module_blocks(entry: str, root: Path | Sequence[Path]) -> list[str]:
    """Each module as ``const __m_x = (function () { …; return { exports }; })();``, in dependency order."""
    parts = []
    for module in module_order(entry, root):
        parts.append(f"// --- {module.name}")
        parts.append(f"const {variable(module.name)} = (function () {{")
        parts.append(module.body.rstrip("\n"))
        parts.append(f"return {{ {', '.join(module.exports)} }};")
        parts.append("})();")
    return parts


def bundle(entry: str = ENTRY, root: Path | Sequence[Path] = STATIC) -> str:
    """``entry`` and its imports as one classic script (see the module docstring)."""
    return "\n".join(["(function () {", '"use strict";', *_module_blocks(entry, root), "})();"]) + "\n"


def bundle_module(entry: str, root: Path | Sequence[Path] = STATIC) -> str:
    """``entry`` and its imports as one ES module that imports nothing: its default export is the object of
    ``entry``'s exports (what anywidget loads: ``export default { render }``)."""
    return "\n".join([*_module_blocks(entry, root), f"export default {variable(entry)};"]) + "\n"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    """The bundled script and the stylesheets, read once per process (they change only with a deploy)."""
    css = "\n".join((STATIC / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    if re.search(r"</style", css, re.IGNORECASE):
        raise BundleError("a stylesheet contains </style, which would end the inline <style>")
    return bundle(), css


def offline_html(scene: Scene, options: Mapping[str, Any]) -> bytes:
    """The self-contained HTML file: the embed's markup, CSS, bundled script and the race's data inline."""
    script, css = _assets()
    theme = str(options.get("theme", "light"))
    defaults = {"theme": theme, **{k: bool(options[k]) for k in ("autoplay", "loop", "controls") if k in options}}
    payload = embed_payload(scene, defaults)
    html = render_page(
        title=payload["landscape"]["title"],
        theme=theme_attribute(theme),
        data=json_block(payload),
        offline=True,
        css=css,
        script=script,
    )
    return html.encode("utf-8")
