"""``optirace export``: a scene (URL, query string or JSON file) written as a GIF, PNG or SVG file."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from core.scene_url import scene_from_query
from server.cli import _serve, build_parser, main
from server.render import FORMATS

IMAGE_FORMATS = [name for name, fmt in FORMATS.items() if fmt.media_type.startswith("image/")]

QUERY = "landscape=bowl&steps=40&racer=sgd;lr=0.05&racer=adam;lr=0.1"
SMALL = ["--width", "320", "--height", "240"]


def decoded_size(path: Path) -> tuple[int, int]:
    """The pixel size of a GIF or PNG, the declared size of an SVG (which must parse as XML)."""
    if path.suffix == ".svg":
        root = ET.parse(path).getroot()
        return int(root.get("width", 0)), int(root.get("height", 0))
    return Image.open(path).size


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_export_writes_each_format_from_the_output_extension(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"race.{fmt}"
    extra = ["--frames", "8"] if fmt == "gif" else []
    assert main(["export", QUERY, "-o", str(out), *SMALL, *extra]) == 0
    assert decoded_size(out) == (320, 240)


def test_export_takes_a_page_url_and_ignores_what_is_not_scene(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "race.png"
    url = f"http://127.0.0.1:8000/embed?{QUERY}&autoplay=1&width=3"
    assert main(["export", url, "-o", str(out), "--width", "400", "--height", "300"]) == 0
    assert decoded_size(out) == (400, 300)  # the flags decide, not the URL's width=3
    assert "ignoring autoplay, width" in capsys.readouterr().err


def test_export_takes_a_json_scene_file(tmp_path: Path) -> None:
    scene_file = tmp_path / "scene.json"
    scene_file.write_text(json.dumps(scene_from_query(QUERY).model_dump(mode="json")))
    out = tmp_path / "race.svg"
    assert main(["export", str(scene_file), "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path[@class='racer']")) == 2


def test_export_format_flag_writes_any_file_name(tmp_path: Path) -> None:
    out = tmp_path / "slide-3"
    assert main(["export", QUERY, "-o", str(out), "--format", "png", *SMALL]) == 0
    assert Image.open(io.BytesIO(out.read_bytes())).format == "PNG"


def test_export_default_file_name_is_the_landscape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", QUERY, "--format", "svg"]) == 0
    assert (tmp_path / "optirace-bowl.svg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "race.png", "--width", "5000"], "--width: width must be an integer in [160, 1920]"),
        (["-o", "race.png", "--frames", "10"], "frames is not an option of png"),
        (["-o", "race.png", "--format", "gif"], "does not match"),
        (["-o", "race.jpg"], "cannot tell the format"),
    ],
)
def test_export_refuses_bad_options_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    args = [arg if not arg.startswith("race.") else str(tmp_path / arg) for arg in args]
    assert main(["export", QUERY, *args]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("scene", "message"),
    [
        ("landscape=bowl&racer=adam;lr=-1", "racers.0"),
        ("landscape=nowhere", "unknown landscape 'nowhere'"),
        ("missing-scene.json", "cannot read missing-scene.json"),
    ],
)
def test_export_refuses_a_bad_scene_naming_the_field(capsys: pytest.CaptureFixture, scene: str, message: str) -> None:
    assert main(["export", scene, "--format", "svg"]) == 2
    assert message in capsys.readouterr().err


def test_serve_is_still_the_serve_command() -> None:
    args = build_parser().parse_args(["serve", "--port", "9000"])
    assert args.handler is _serve
    assert args.port == 9000
