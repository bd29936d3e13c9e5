"""optirace for scripts and notebooks: run races and sweeps without a server, get NumPy arrays, save pictures,
and watch a race in a notebook with the page's own player.

    >>> import optirace
    >>> race = optirace.race(landscape="beale", racers=["sgd", ("adam", {"lr": 0.1})], steps=500)
    >>> race.status, race.arrived_at            # arrays, one entry per racer
    >>> race.save("race.gif"); race.url         # the server's renderers; the page link of the same scene
    >>> race.show()                             # in Jupyter, VS Code or Colab: map, paths, charts, sliders

The scene is the API's (see /docs): the same names, defaults, checks and error messages.
"""

from __future__ import annotations

from typing import Any

from optirace.races import Race, SceneError, Sweep, base_url, landscapes, optimizers, race, scene, schedules, sweep

__all__ = [
    "Race",
    "SceneError",
    "Sweep",
    "base_url",
    "landscapes",
    "optimizers",
    "race",
    "scene",
    "schedules",
    "sweep",
    "widget",
]


def widget(source: Any = None, /, **kwargs: Any) -> Any:
    """The page's player for a scene (given as to ``race``), live in a notebook: move a slider and the kernel
    races again; ``widget.scene`` is the scene, synced both ways."""
    from optirace.notebook import RaceWidget

    return RaceWidget(scene(source, **kwargs))
