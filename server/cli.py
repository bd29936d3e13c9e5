"""The ``optirace`` command: ``optirace serve`` starts the web app with uvicorn; ``optirace export`` writes a race
as a file (GIF, PNG, SVG, ...: every format of ``server.render.FORMATS``) for slides and handouts.

    optirace export 'http://127.0.0.1:8000/?landscape=bowl&racer=sgd;lr=0.01&racer=adam;lr=0.1' -o bowl.gif
    optirace export 'landscape=saddle&steps=200' -o saddle.svg --theme dark
    optirace export scene.json --format png --width 1600 --height 1200
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from server.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optirace", description="Optimizer race: SGD, Momentum, Adam & co. on 2D loss landscapes."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the page, the embed, the exports and the JSON API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.epilog = (
        "Limits per worker (races at once, exports, connections, timeouts, header sizes, trusted hosts) come from "
        "OPTIRACE_* environment variables: see the README's 'Running it for a class'."
    )
    serve.set_defaults(handler=_serve)
    _add_export(commands)
    return parser


def _add_export(commands: Any) -> None:
    from server.render import FORMATS

    names = ", ".join(FORMATS)
    export = commands.add_parser(
        "export",
        help=f"write a race as a file ({names})",
        description=f"Write the race of a scene as a file ({names}), as GET /export/race.<format> would serve it.",
        epilog="The scene's own export options in a URL (width=, theme=, ...) are ignored: options come from flags.",
    )
    export.add_argument(
        "scene",
        help="the scene: a page or /embed URL, a query string such as 'landscape=bowl&racer=adam;lr=0.1', "
        "or a JSON file holding a Scene ('-' reads standard input)",
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the file to write (default: optirace-<landscape>.<format>; '-' writes standard output)",
    )
    export.add_argument(
        "-f", "--format", choices=list(FORMATS), help="the format (default: from the output's extension, else gif)"
    )
    seen: dict[str, list[str]] = {}
    specs = {}
    for fmt in FORMATS.values():
        for spec in fmt.options:
            specs.setdefault(spec.name, spec)
            seen.setdefault(spec.name, []).append(fmt.name)
    for name, spec in specs.items():
        only = "" if len(seen[name]) == len(FORMATS) else f" [{', '.join(seen[name])}]"
        export.add_argument(
            f"--{name}",
            metavar="N" if not spec.choices else "{" + ",".join(spec.choices) + "}",
            help=f"{spec.help}: {spec.allowed()}, default {spec.default}{only}",
        )
    export.set_defaults(handler=_export, option_names=list(specs))


def _prepare_link_store(settings: Settings) -> None:
    """Create and migrate the link database once, before the workers start, so that they find it ready (a new
    SQLite file that several workers open at once is locked to all but one). One that cannot be opened now is
    reported; the workers try again on their first link, and the links API answers 503 until then."""
    from server.links import StoreUnavailable, close_stores, database_url, open_store

    try:
        open_store(database_url(settings.database_url, settings.data_dir), settings.links_max_storage_bytes)
    except StoreUnavailable as error:
        print(f"optirace serve: short links are unavailable for now: {error}", file=sys.stderr)
    finally:
        close_stores()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from core.race import warm_up
    from server.settings import get_settings

    if args.workers < 1:
        raise SystemExit("optirace serve: --workers must be at least 1")
    try:
        settings = get_settings()  # OPTIRACE_* now, so that a bad value stops the start, not every request
    except ValueError as error:
        raise SystemExit(f"optirace serve: {error}") from None
    tune_malloc()
    warm_up()  # compile (or load from the on-disk cache) before the port opens, so /healthz never waits
    _prepare_link_store(settings)
    uvicorn.run(
        "server.app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        http="server.protocol:NoDelayHTTPProtocol",  # Nagle off, a bounded head, a read timeout: server/protocol.py
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections or None,
        h11_max_incomplete_event_size=settings.max_header_bytes,  # should h11 ever serve instead of httptools
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


GRACEFUL_SHUTDOWN_SECONDS = 10  # then open streams are cut, so a restart never waits on a slow client
# glibc's malloc, as every worker runs it (the variable, then its mallopt parameter):
MALLOC_SETTINGS = {
    "MALLOC_ARENA_MAX": ("2", -8),  # M_ARENA_MAX: two arenas, not one per busy thread (up to 8 per core)
    "MALLOC_MMAP_THRESHOLD_": ("262144", -3),  # M_MMAP_THRESHOLD: a block of 256 KiB or more is mapped on its own
}


def tune_malloc() -> None:
    """glibc's malloc set so that a worker's memory levels off, in this process and in every worker it starts.

    Left alone, glibc gives threads arenas of their own, up to 8 per core, and hands little of their memory back:
    a worker whose thread pool ran many races grows by arenas and stays grown. And after a large block (a 21 MB
    reply) is freed, it raises its threshold for mapping blocks on their own to that size, so later large
    blocks come from the heap, which fragments and is not given back. Measured, one worker, six rounds of the
    largest race, stream and sweep side by side: 74 MB before, 181-197 MB after each round by default, 113-157 MB
    with both settings. Workers are started afresh (uvicorn spawns them) and read these variables when their
    allocator starts; this process has started already, and takes the same values from mallopt. A variable
    already set is left as it is.
    """
    libc = ctypes.CDLL(None) if platform.libc_ver()[0] == "glibc" else None
    for name, (default, parameter) in MALLOC_SETTINGS.items():
        value = os.environ.setdefault(name, default)
        if libc is not None and value.isdigit():
            libc.mallopt(parameter, int(value))


def _export(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from server.render import FORMATS, ExportError
    from server.render.formats import check_step

    def fail(message: str) -> int:
        print(f"optirace export: error: {message}", file=sys.stderr)
        return 2

    output = args.output
    suffix = Path(output).suffix.lower().lstrip(".") if output and output != "-" else ""
    if args.format:
        name = args.format
        if suffix in FORMATS and suffix != name:
            return fail(f"--format {name} does not match the extension of {output}")
    elif suffix in FORMATS:
        name = suffix
    elif suffix:
        return fail(f"cannot tell the format from {output!r}; give --format ({', '.join(FORMATS)})")
    else:
        name = "gif"
    fmt = FORMATS[name]
    given = {key: getattr(args, key) for key in args.option_names if getattr(args, key) is not None}
    try:
        options = fmt.parse_options(given)
        scene, ignored = read_scene(args.scene)
        check_step(scene, options)
    except ExportError as error:
        return fail("; ".join(f"--{p.field}: {p.message}" if p.field in given else p.message for p in error.problems))
    except ValidationError as error:
        return fail(
            "the scene is not valid: "
            + "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'scene'}: {problem['msg']}"
                for problem in error.errors(include_url=False)
            )
        )
    except OSError as error:
        return fail(f"cannot read {args.scene}: {error.strerror or error}")
    if ignored:
        print(f"optirace export: ignoring {', '.join(ignored)} (not scene keys)", file=sys.stderr)

    began = time.perf_counter()
    body = fmt.render(scene, options)
    seconds = time.perf_counter() - began
    if output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return 0
    path = Path(output or fmt.filename(scene))
    try:
        path.write_bytes(body)
    except OSError as error:
        print(f"optirace export: error: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({len(body) / 1000:.0f} kB, {fmt.name}) in {seconds:.1f} s", file=sys.stderr)
    return 0


def read_scene(source: str) -> tuple[Any, list[str]]:
    """The scene from a URL, a query string, or a JSON file ('-': standard input); and the keys ignored.

    A page or /embed URL may carry keys that are not the scene's (an export's width, an embed's
    autoplay): they are ignored and listed, so a link copied from anywhere works.
    """
    from core.scene import Scene
    from core.scene_url import parse_query
    from server.render.formats import is_scene_key, scene_from_pairs

    if source == "-":
        text = sys.stdin.read()
    elif Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
    elif source.lower().endswith(".json"):
        raise FileNotFoundError(2, "no such file", source)
    else:
        text = source
    text = text.strip()
    if text.startswith("{"):
        return Scene.model_validate_json(text), []
    query = urlsplit(text).query if "://" in text or text.startswith("/") else text.lstrip("?")
    pairs = parse_query(query)
    ignored = list(dict.fromkeys(key for key, _ in pairs if not is_scene_key(key)))
    return scene_from_pairs((key, value) for key, value in pairs if is_scene_key(key)), ignored


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
