"""One parameter language: the CLI, the HTTP form and GET /v1/options all say what AnimateRequest says.

The CLI's ``animate`` options are generated from the model; these tests fail
when an option and a field disagree in flag, default, range, choices or help,
when the HTTP form's OpenAPI schema loses a type or a range, or when the
options document the studio builds its form from drifts from the model.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from stillmotion.cli import app
from stillmotion.request import OPTIONS, PRESETS, AnimateRequest, Preset

ANIMATE = typer.main.get_command(app).commands["animate"]  # type: ignore[attr-defined]
PARAMS = {p.name: p for p in ANIMATE.params}
FIELD_OPTIONS = [o for o in OPTIONS if o.name != "image"]  # the photo is the PHOTO argument


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def test_options_cover_every_field_in_order():
    assert [o.name for o in OPTIONS] == list(AnimateRequest.model_fields)
    flags = {o.name: (o.flag, o.short) for o in OPTIONS}
    assert flags["arrows"] == ("--arrow", None) and flags["prompt"] == ("--prompt", "-p")
    assert flags["negative_prompt"] == ("--negative-prompt", "-n") and flags["output"] == ("--output", "-o")
    assert flags["motion_strength"] == ("--motion-strength", None)


@pytest.mark.parametrize("option", FIELD_OPTIONS, ids=lambda o: o.name)
def test_each_field_is_an_animate_option_that_agrees(option):
    param = PARAMS.get(option.name)
    assert param is not None, f"field {option.name} has no `stillmotion animate` option"
    assert option.flag in param.opts and (option.short is None or option.short in param.opts), param.opts
    shown = " ".join(filter(None, [param.metavar, param.help]))
    assert param.help.startswith(option.description), (param.help, option.description)
    if option.kind == "boolean":
        assert param.secondary_opts == [f"--no-{option.flag[2:]}"] and param.default == option.default
        return
    assert param.metavar == option.metavar
    for choice in option.choices:  # every enum value is in the help's metavar
        assert choice in param.metavar, (choice, param.metavar)
    if option.minimum is not None and option.maximum is not None:  # the range is in the metavar or the help
        assert _num(option.minimum) in shown and _num(option.maximum) in shown, shown
    if option.kind == "list":
        assert param.multiple and param.default is None
    elif option.default in (None, ""):
        assert param.default is None and not param.show_default
    else:  # the help's default is the model's
        assert param.show_default
        parsed = float(param.default) if option.kind in ("number", "integer") else param.default
        assert parsed == option.default, (param.default, option.default)


def test_animate_has_no_option_the_model_lacks():
    cli_only = {"photo", "explain", "quiet", "engines", "recipe", "same_seed", "ctx"}
    assert set(PARAMS) - cli_only == {o.name for o in FIELD_OPTIONS}


def test_a_preset_fills_only_what_was_not_given():
    r = AnimateRequest.build(image="p.png", preset="shorts", duration=2)
    assert (r.duration, r.aspect.value, r.loop) == (2.0, PRESETS["shorts"]["aspect"], PRESETS["shorts"]["loop"])
    assert {p.value for p in Preset} == set(PRESETS) and all(p.label for p in Preset)


@pytest.mark.parametrize(
    "args,line",
    [
        (["--resolution", "4k"], "error: --resolution '4k' is not valid: use one of 480p, 720p, 1080p"),
        (["--aspect", "3:2"], "error: --aspect '3:2' is not valid: use one of 16:9, 9:16, 1:1, 4:5, source"),
        (["--duration", "abc"], "error: --duration 'abc' is not a number: use a value in 1..30"),
        (["--duration", "31"], "error: --duration '31' is out of range: use a value in 1..30"),
        (["--seed", "1.5"], "error: --seed '1.5' is not a whole number: use one in 0..4294967295"),
        (
            ["--memory", "lots"],
            "error: --memory 'lots' is not valid: use one of auto, full, model-offload, group-offload, sequential",
        ),
    ],
)
def test_bad_values_give_the_flag_the_value_and_the_fix(tmp_path, photos, args, line):
    proc = subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", "animate", str(photos["coffee"]), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, line + "\n", "")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- HTTP: the typed form and GET /v1/options


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    pytest.importorskip("httpx")
    testclient = pytest.importorskip("fastapi.testclient")
    TestClient = testclient.TestClient

    from stillmotion.server.app import create_app

    api = create_app(tmp_path_factory.mktemp("opts") / "data", workers=0)
    with TestClient(api, base_url="http://127.0.0.1") as c:
        yield c


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _form_fields(spec: dict) -> dict:
    """The multipart form's properties, the form model's (``allOf``) included."""
    body = spec["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    body = _resolve(spec, body)
    props = dict(body.get("properties", {}))
    for part in body.get("allOf", []):
        props |= _resolve(spec, part).get("properties", {})
    return props


def test_openapi_types_the_job_form(client):
    spec = client.get("/openapi.json").json()
    fields = _form_fields(spec)
    duration = fields["duration"]
    assert (duration["type"], duration["minimum"], duration["maximum"], duration["default"]) == ("number", 1, 30, 5)
    assert fields["variations"]["type"] == "integer"
    assert fields["loop"]["type"] == "boolean"
    aspect = _resolve(spec, fields["aspect"])
    assert aspect["enum"] == ["16:9", "9:16", "1:1", "4:5", "source"]
    seed = next(s for s in fields["seed"]["anyOf"] if s.get("type") == "integer")
    assert (seed["minimum"], seed["maximum"]) == (0, 2**32 - 1)
    assert "image" in fields and "mask" not in fields and "output" not in fields  # no server paths


def test_options_document_serves_fields_presets_and_engines(client):
    doc = client.get("/v1/options").json()
    fields = {f["name"]: f for f in doc["fields"]}
    api = [o for o in OPTIONS if o.api]
    assert list(fields) == [o.name for o in api]
    d = fields["duration"]
    assert (d["type"], d["default"], d["minimum"], d["maximum"], d["unit"], d["group"]) == (
        "number",
        5.0,
        1.0,
        30.0,
        "s",
        "clip",
    )
    assert d["description"] == AnimateRequest.model_fields["duration"].description
    assert fields["resolution"]["enum"] == ["480p", "720p", "1080p"] and fields["resolution"]["default"] == "720p"
    assert fields["aspect"]["labels"]["source"] and fields["seed"]["nullable"] is True
    assert {name: {k: v for k, v in p.items() if k != "label"} for name, p in doc["presets"].items()} == PRESETS
    assert doc["presets"]["reels"]["label"] == "Instagram Reels"
    engines = {e["name"]: e for e in doc["engines"]}
    assert engines["living"]["ready"] is True and {"reason", "family", "summary"} <= set(engines["living"])


def test_http_and_cli_word_a_bad_value_the_same(client, photos, tmp_path):
    r = client.post(
        "/v1/jobs", files={"image": ("c.png", photos["coffee"].read_bytes(), "image/png")}, data={"aspect": "3:2"}
    )
    proc = subprocess.run(
        [sys.executable, "-m", "stillmotion.cli", "animate", str(photos["coffee"]), "--aspect", "3:2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.status_code == 400 and proc.returncode == 2
    assert "error: " + r.json()["error"] == proc.stderr.strip()


def test_http_preset_fills_what_the_form_did_not_send(client, photos):
    r = client.post(
        "/v1/jobs",
        files={"image": ("c.png", photos["coffee"].read_bytes(), "image/png")},
        data={"preset": "x", "loop": "true", "seed": "5"},
    )
    assert r.status_code == 201, r.text
    req = r.json()["request"]
    assert (req["aspect"], req["duration"], req["loop"], req["seed"]) == ("16:9", 6.0, True, 5)
