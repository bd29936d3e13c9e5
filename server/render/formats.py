"""Export formats: one registry, name → ``Format``, that the HTTP route and the ``optirace export`` command share.

A format has a media type, its options (each an ``OptionSpec``: default, allowed values, help) and
a ``render(scene, options) -> bytes``. Adding a format (say an offline HTML player) is one entry in
``FORMATS``: ``GET /export/race.<name>`` and ``optirace export --format <name>`` follow from it.

A request names the scene with the page's query keys (``core.scene_url``) and the format's options
alongside (``?landscape=bowl&racer=adam;lr=0.1&width=1024&theme=dark``); ``split_query`` tells
them apart and refuses anything else, naming the key and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.contours import contour_data
from core.race import run, surface_of
from core.scene import Scene
from core.scene_url import SCENE_KEYS, parse_query, scene_json_from_query
from server.render import offline, raster, svg
from server.render.figure import THEMES, Figure, figure_from
from server.render.offline import offline_html
from server.render.vectors import internals_of

CONTOUR_LEVELS = 24  # as the page draws them
CONTOUR_RESOLUTION = 200
MAX_GIF_PIXEL_FRAMES = 800 * 600 * 160  # width × height × frames: bounds a GIF's time (a few s) and memory
MAX_PNG_PIXELS = 2560 * 1600  # (width × scale) × (height × scale): a 16:10 HiDPI screen; bounds a PNG's memory


@dataclass(frozen=True)
class Problem:
    field: str  # the query key or command-line option
    message: str  # what is wrong and what is allowed
    value: Any = None  # what was given


class ExportError(ValueError):
    """A bad export request: one or more problems, each naming its field, saying what is allowed."""

    def __init__(self, field: str, message: str, value: Any = None, more: Iterable[Problem] = ()):
        self.problems = [Problem(field, message, value), *more]
        super().__init__("; ".join(problem.message for problem in self.problems))


@dataclass(frozen=True)
class OptionSpec:
    """One export option: an integer in [minimum, maximum] or one of ``choices``."""

    name: str
    default: int | str
    help: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        return f"an integer in [{self.minimum}, {self.maximum}]"

    def parse(self, value: Any) -> int | str:
        """``value`` (text from a query or a command line) as this option's type; raises ExportError."""
        if self.choices:
            if value in self.choices:
                return str(value)
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                number = None
            if (
                number is not None
                and self.minimum is not None
                and self.maximum is not None
                and self.minimum <= number <= self.maximum
            ):
                return number
        raise ExportError(self.name, f"{self.name} must be {self.allowed()}, got {value!r}", value)


WIDTH = OptionSpec("width", 800, "width in pixels (1920 × 1080: a 16:9 slide at full HD)", 160, 1920)
HEIGHT = OptionSpec("height", 600, "height in pixels", 160, 1920)
THEME = OptionSpec(
    "theme", "light", "colours: light (print, bright rooms) or dark (dark slides)", choices=tuple(THEMES)
)
FRAMES = OptionSpec(
    "frames",
    120,
    "frames, at steps spread evenly from the start to the last step (a race of N steps has at most N + 1)",
    2,
    300,
)
FPS = OptionSpec("fps", 20, "frames per second; the last frame is held for 3 s before the loop restarts", 1, 50)
STEP = OptionSpec(
    "step",
    -1,
    "the step shown, 0 to the scene's steps: the paths up to it, each racer at its point there; -1 (the default) "
    "the last step, or with vectors=1 the last step an update leaves (steps - 1)",
    -1,
    1_000_000,
)
VECTORS = OptionSpec(
    "vectors",
    0,
    "1 draws, at the step, each racer's -∇f, momentum, step taken and per-coordinate learning rate (a box), "
    "with their scales in a key, as the page's Vectors do",
    0,
    1,
)
SCALE = OptionSpec(
    "scale",
    1,
    "pixel density: 2 doubles every dimension (HiDPI screens, print) and draws the same picture sharper",
    1,
    2,
)


@dataclass(frozen=True)
class Format:
    """An export format: what it is called, what it answers with, which options it takes, how it renders."""

    name: str
    media_type: str
    summary: str
    options: tuple[OptionSpec, ...]
    render: Callable[[Scene, Mapping[str, Any]], bytes]
    check: Callable[[Mapping[str, Any]], None] | None = None  # options that are fine alone but not together
    headers: Mapping[str, str] = field(default_factory=dict)  # extra reply headers, e.g. a CSP for documents

    def parse_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every option of this format, given ones parsed and checked, the rest at their defaults."""
        specs = {spec.name: spec for spec in self.options}
        problems = [
            Problem(name, f"{name} is not an option of {self.name}; its options are: {', '.join(specs)}", value)
            for name, value in given.items()
            if name not in specs
        ]
        options: dict[str, Any] = {}
        for name, spec in specs.items():
            try:
                options[name] = spec.parse(given[name]) if name in given else spec.default
            except ExportError as error:
                problems += error.problems
        if problems:
            first, *more = problems
            raise ExportError(first.field, first.message, first.value, more)
        if self.check:
            self.check(options)
        return options

    def filename(self, scene: Scene) -> str:
        return f"optirace-{scene.landscape.name}.{self.name}"


def figure_of(scene: Scene) -> Figure:
    """Run the race and compute the landscape's contours: everything a picture of it needs."""
    result = run(scene)
    contours = contour_data(surface_of(scene), levels=CONTOUR_LEVELS, resolution=CONTOUR_RESOLUTION)
    return figure_from(result, contours)


def _gif(scene: Scene, options: Mapping[str, Any]) -> bytes:
    return raster.gif(
        figure_of(scene),
        options["width"],
        options["height"],
        THEMES[options["theme"]],
        frames=options["frames"],
        fps=options["fps"],
    )


def shown_step(scene: Scene, options: Mapping[str, Any]) -> int:
    """The step a still picture shows: the ``step`` option, or by default the last (with vectors, steps − 1)."""
    if options.get("step", -1) >= 0:
        return int(options["step"])
    return max(0, scene.steps - 1) if options.get("vectors") else scene.steps


def _png(scene: Scene, options: Mapping[str, Any]) -> bytes:
    return raster.png(
        figure_of(scene),
        options["width"],
        options["height"],
        THEMES[options["theme"]],
        scale=options["scale"],
        step=shown_step(scene, options),
        inside=internals_of(scene) if options["vectors"] else None,
    )


def _svg(scene: Scene, options: Mapping[str, Any]) -> bytes:
    return svg.svg(
        figure_of(scene),
        options["width"],
        options["height"],
        THEMES[options["theme"]],
        step=shown_step(scene, options),
        inside=internals_of(scene) if options["vectors"] else None,
    )


def _check_gif_budget(options: Mapping[str, Any]) -> None:
    width, height, frames = options["width"], options["height"], options["frames"]
    if width * height * frames > MAX_GIF_PIXEL_FRAMES:
        most = MAX_GIF_PIXEL_FRAMES // (width * height)
        raise ExportError(
            "frames",
            f"width × height × frames must be at most {MAX_GIF_PIXEL_FRAMES:,}, got {width} × {height} × {frames} "
            f"= {width * height * frames:,}; at {width} × {height} use at most {most} frames, or a smaller size",
            frames,
        )


def _check_png_budget(options: Mapping[str, Any]) -> None:
    width, height, scale = options["width"], options["height"], options["scale"]
    pixels = width * height * scale * scale
    if pixels > MAX_PNG_PIXELS:
        raise ExportError(
            "scale",
            f"(width × scale) × (height × scale) must be at most {MAX_PNG_PIXELS:,} pixels, got "
            f"{width * scale} × {height * scale} = {pixels:,}; use scale=1 or a smaller size "
            "(or the SVG, which any size suits)",
            scale,
        )


AUTOPLAY = OptionSpec("autoplay", 0, "1 starts the race as soon as the file opens", 0, 1)
LOOP = OptionSpec("loop", 0, "1 plays the race again after its end, the last frame held 1.5 s", 0, 1)
CONTROLS = OptionSpec("controls", 1, "0 hides Play/Pause, Step and Reset (the keys still work)", 0, 1)


FORMATS: dict[str, Format] = {
    "gif": Format(
        "gif",
        "image/gif",
        "the race as a looping animation: paths growing step by step, the last frame held",
        (WIDTH, HEIGHT, FRAMES, FPS, THEME),
        _gif,
        check=_check_gif_budget,
    ),
    "png": Format(
        "png",
        "image/png",
        "the race at a step (the last by default) as a picture, exactly width × height pixels (× scale), "
        "with its vectors there if vectors=1",
        (WIDTH, HEIGHT, THEME, SCALE, STEP, VECTORS),
        _png,
        check=_check_png_budget,
    ),
    "svg": Format(
        "svg",
        "image/svg+xml",
        "the race's final frame as a vector figure for papers and crisp slides",
        (WIDTH, HEIGHT, THEME, STEP, VECTORS),
        _svg,
        # An SVG opened on its own is a document of this origin: it has no script and no style sheet, so none runs.
        headers={"Content-Security-Policy": "default-src 'none'"},
    ),
    "html": Format(
        "html",
        "text/html; charset=utf-8",
        "the race as one self-contained HTML file that plays offline (file://, no server, no network): "
        "for slides that cannot hold an iframe and lecture halls without a connection",
        (THEME, AUTOPLAY, LOOP, CONTROLS),
        offline_html,
        # Its script and style are inline; nothing may be fetched. Saved, not shown: it is a file to keep.
        headers={
            "Content-Security-Policy": offline.CSP,
            "Content-Disposition": "attachment",
        },
    ),
}
OPTION_NAMES = tuple(dict.fromkeys(spec.name for fmt in FORMATS.values() for spec in fmt.options))


def is_scene_key(key: str) -> bool:
    return key in SCENE_KEYS or key.startswith("landscape.")


def split_query(fmt: Format, query: str) -> tuple[Scene, dict[str, Any]]:
    """The scene and the format's options from an export's query string; raises ExportError or ValidationError.

    Scene keys are the page's; option keys are the format's; any other key, an option of another
    format or an option given twice is refused, naming it.
    """
    scene_pairs: list[tuple[str, str]] = []
    given: dict[str, str] = {}
    for key, value in parse_query(query):
        if is_scene_key(key):
            scene_pairs.append((key, value))
        elif key in given:
            raise ExportError(key, f"{key} is given twice ({given[key]!r} and {value!r}); give it once", value)
        elif key in OPTION_NAMES:
            given[key] = value
        else:
            raise ExportError(
                key,
                f"unknown query key {key!r}; expected a scene key ({', '.join(SCENE_KEYS)}, landscape.<param>) "
                f"or an option of {fmt.name} ({', '.join(spec.name for spec in fmt.options)})",
                value,
            )
    options = fmt.parse_options(given)
    scene = scene_from_pairs(scene_pairs)
    check_step(scene, options)
    return scene, options


def check_step(scene: Scene, options: Mapping[str, Any]) -> None:
    """The ``step`` option must lie within the scene's race; raises ExportError naming it."""
    if options.get("step", -1) > scene.steps:
        raise ExportError(
            "step",
            f"step must be -1 (the last) or in [0, {scene.steps}] (the scene's steps), got {options['step']}",
            options["step"],
        )


def scene_from_pairs(pairs: Iterable[tuple[str, str]]) -> Scene:
    """A validated scene from query pairs; a malformed value raises ExportError naming its key."""
    try:
        scene_json = scene_json_from_query(pairs)
    except ValueError as error:
        key = str(error).split(" ", 1)[0]
        raise ExportError(key if is_scene_key(key) else "scene", str(error)) from None
    return Scene.model_validate(scene_json)
