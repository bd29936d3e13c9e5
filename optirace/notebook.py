"""The notebook widget: the page's player, charts and sliders for one scene, live in Jupyter, VS Code and Colab.

An anywidget whose front end is ``optirace/widget.js`` bundled with the page's own ES modules from static/
(``server.render.offline.bundle_module``: the same bundler as the offline HTML export), inline: no server,
no CDN, no network. ``scene`` is synced both ways: a slider in the cell writes it, the kernel validates it
(as the API does), races it and sends back ``race_data`` (the embed's payload: landscape, contours and
the race, as POST /api/race answers it), or an ``error`` naming the field; setting ``widget.scene`` from
Python does the same.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from core.optimizers import OPTIMIZERS
from core.scene import Scene
from server.paths import STATIC
from server.render.offline import bundle_module, embed_payload

HERE = Path(__file__).parent
WIDGET_CSS = """
.optirace-widget { background: var(--paper); color: var(--ink); font: 14px/1.4 system-ui, sans-serif;
  padding: .6rem; border-radius: 6px; }
.optirace-widget .ow-title { font-weight: 600; margin-bottom: .4rem; }
.optirace-widget .ow-main { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.optirace-widget .ow-stage { flex: 3 1 420px; min-width: 280px; }
.optirace-widget .ow-side { flex: 2 1 260px; min-width: 240px; display: flex; flex-direction: column; gap: .6rem; }
.optirace-widget .ow-chart { display: block; width: 100%; height: 150px; }
.optirace-widget .ow-chart-short { height: 110px; }
.optirace-widget .ow-chart-title { color: var(--muted); font-size: 12px; }
.optirace-widget .ow-slider { display: grid; grid-template-columns: 8.5em 1fr 4.5em; align-items: center; gap: .5em; }
.optirace-widget .ow-slider span { border-left: 4px solid var(--racer, transparent); padding-left: .35em; }
.optirace-widget .ow-slider output { font-variant-numeric: tabular-nums; text-align: right; }
.optirace-widget .ow-error { color: var(--bad); margin-top: .4rem; white-space: pre-wrap; }
.optirace-widget .ow-error[hidden] { display: none; }
.optirace-widget button, .optirace-widget select { font: inherit; }
"""


@cache
def esm() -> str:
    """The widget's front end: widget.js and the page's modules it imports, as one self-contained ES module."""
    return bundle_module("widget.js", (HERE, STATIC))


@cache
def css() -> str:
    """The player's stylesheet with its colours scoped to the widget (``:root`` would restyle the notebook)."""
    player = (STATIC / "player.css").read_text(encoding="utf-8").replace(":root", ".optirace-widget")
    return player + WIDGET_CSS


class RaceWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """A live race in a notebook cell. ``scene``: the scene's JSON form (every default filled in), synced both
    ways; ``race``: the last race as an ``optirace.Race``; ``error``: why the last scene was refused, if it was."""

    _esm = traitlets.Unicode().tag(sync=True)
    _css = traitlets.Unicode().tag(sync=True)
    scene = traitlets.Dict().tag(sync=True)
    race_data = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    lr_specs = traitlets.Dict().tag(sync=True)
    autoplay = traitlets.Bool(True).tag(sync=True)

    def __init__(self, scene: Scene | dict[str, Any] | str | None = None, **kwargs: Any):
        from optirace.races import scene as make_scene

        first = make_scene(scene)
        lr_specs = {name: next(p.to_json() for p in spec.params if p.name == "lr") for name, spec in OPTIMIZERS.items()}
        self._race: Any = None
        super().__init__(_esm=esm(), _css=css(), lr_specs=lr_specs, **kwargs)
        self.scene = first.model_dump(mode="json")

    @property
    def race(self) -> Any:
        """The race on show, as an ``optirace.Race`` (NumPy arrays, ``.save``, ``.url``)."""
        from optirace.races import race

        if self._race is None or self._race.scene.model_dump(mode="json") != self.scene:
            self._race = race(self.scene)
        return self._race

    @traitlets.observe("scene")
    def _race_again(self, change: dict[str, Any]) -> None:
        from optirace.races import SceneError, scene

        try:
            filled = scene(change["new"])
        except (SceneError, TypeError, ValueError) as error:
            self.error = str(error)
            return
        written = filled.model_dump(mode="json")
        if written != change["new"]:
            self.scene = written  # every default written out, as the page does; that change races
            return
        self.error = ""
        self.race_data = embed_payload(filled)
