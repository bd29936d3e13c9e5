"""Benchmark typed formulas: compile time, races on them beside the built-ins, and how fast hostile ones are refused.

Run from the repository root:  python bench/bench_formula.py [--repeats 9]

1. parse + differentiate + lower (core.formula.compile_formula) of typical formulas, cold: each run
   changes a coefficient, so neither this module's cache nor sympy's own caches answer; beside it a
   cache hit, and the rest of the custom entry (finiteness check, minima and saddles; domain ±4.5);
2. the default race (SGD, Momentum, RMSProp, Adam × 500 steps, core.race.run) on typed Rosenbrock and
   Beale beside the built-ins, and the program's size;
3. every formula of tests/server/test_formula_api.py's hostile set through POST /api/landscapes/custom/check
   (in-process, httpx's ASGI transport): the slowest refusal and the median.
Medians over --repeats runs; the first call (numba's compile or cache load) is left out.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from core import formula
from core import landscapes as landscapes_module
from core.race import run
from core.scene import Scene

TYPICAL = {
    "bowl": "x^2 + {k}*y^2",
    "rosenbrock": "(1 - x)^2 + {k}*(y - x^2)^2",
    "beale": "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.62{k} - x + x*y^3)^2",
    "ring": "(x^2 + y^2 - 4)^2 + 0.{k}*(x^3 - 3*x*y^2)",
    "cheese wheel": "0.1*(x^2 + y^2) + {k}*exp(-((x - 1)^2 + y^2)^4)",
    # not typical: near the largest accepted (core.formula.MAX_SECOND_DERIVATIVE), many minima and saddles
    "7 sines": "sin({k}x + y)*" + "*".join(f"sin({k}x + y)" for k in range(2, 8)),
}
TYPED = {
    "rosenbrock": ("(1 - x)^2 + 100*(y - x^2)^2", {"x": [-2, 2], "y": [-1, 3]}),
    "beale": ("(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", {"x": [-4.5, 4.5], "y": [-4.5, 4.5]}),
}


def median_ms(action: Callable[[int], object], repeats: int) -> float:
    action(-1)
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        action(k)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def compile_times(repeats: int) -> None:
    print("1. compile (parse + differentiate + lower), cold, median ms   | cache hit ms | entry ms")
    for name, template in TYPICAL.items():
        texts = [template.format(k=3 + k) for k in range(repeats + 1)]
        cold = median_ms(lambda k, texts=texts: formula.compile_formula(texts[k]), repeats)
        hit = median_ms(lambda k, texts=texts: formula.compile_formula(texts[0]), repeats)
        entry = median_ms(
            lambda k, texts=texts: landscapes_module._derive_custom_entry(texts[k], (-4.5, 4.5), (-4.5, 4.5)), repeats
        )
        size = formula.compile_formula(texts[0]).program.size
        print(f"   {name:13s} {cold:8.1f}  ({size:3d} instructions)             | {hit:8.3f}     | {entry:8.1f}")


def race_times(repeats: int) -> None:
    print("2. default race (4 racers × 500 steps), median ms: typed formula | built-in | ratio")
    for name, (text, domain) in TYPED.items():
        start = list(landscapes_module.LANDSCAPES[name].start)
        typed = Scene.model_validate(
            {"landscape": {"name": "custom", "params": {"f": text, **domain}}, "start": start, "steps": 500}
        )
        builtin = Scene.model_validate({"landscape": {"name": name}, "start": start, "steps": 500})
        t_typed = median_ms(lambda k, s=typed: run(s), repeats)
        t_builtin = median_ms(lambda k, s=builtin: run(s), repeats)
        print(f"   {name:11s} {t_typed:8.1f} | {t_builtin:8.1f} | {t_typed / t_builtin:5.2f}×")


def hostile_times() -> None:
    import httpx

    from server.app import app
    from tests.server.test_formula_api import HOSTILE

    async def go() -> list[tuple[float, int, str]]:
        transport = httpx.ASGITransport(app=app)
        results = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.post("/api/landscapes/custom/check", json={"f": "x^2 + y^2"})
            for text, _ in HOSTILE:
                formula._CACHE.clear()  # a fresh refusal, not a cached one
                landscapes_module._custom_entry_or_refusal.cache_clear()
                start = time.perf_counter()
                reply = await client.post("/api/landscapes/custom/check", json={"f": text})
                results.append((time.perf_counter() - start, reply.status_code, text))
        return results

    import asyncio

    results = asyncio.run(go())
    slowest = max(results)
    statuses = sorted({status for _, status, _ in results})
    print(f"3. hostile set ({len(results)} formulas, uncached): statuses {statuses}; ", end="")
    print(
        f"median {1000 * statistics.median(t for t, _, _ in results):.1f} ms, slowest {1000 * slowest[0]:.0f} ms",
        end="",
    )
    print(f" ({slowest[2][:40]!r})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    compile_times(args.repeats)
    race_times(args.repeats)
    hostile_times()


if __name__ == "__main__":
    main()
