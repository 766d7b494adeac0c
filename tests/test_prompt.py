"""Prompt → motion plan, on the phrases the field writes."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import stillmotion
import stillmotion.api
from stillmotion.plan.motion import SPEED_WORDS, Move
from stillmotion.plan.prompt import NOTICE_CODES, Notice, parse_prompt

FACE = (0.4, 0.3)
SUBJECT = (0.55, 0.5)


def moves(prompt: str, negative: str = "", **kw) -> list[str]:
    return [c.move.value for c in parse_prompt(prompt, negative, face=FACE, subject=SUBJECT, **kw).camera]


@pytest.mark.parametrize(
    "prompt,expected",
    [
        ("slow camera pull back revealing the full environment", ["pull-back"]),
        ("gentle pan from left to right, subject stationary", ["pan-right"]),
        ("pan from right to left", ["pan-left"]),
        ("subtle zoom toward the face", ["zoom-in"]),
        ("static camera, only the background in motion", []),
        ("slow dolly-in, shallow depth of field", ["push-in"]),
        ("Slow push-in", ["push-in"]),
        ("dolly out", ["pull-back"]),
        ("zoom out slowly", ["zoom-out"]),
        ("tilt up to reveal the sky", ["tilt-up"]),
        ("camera tilts down", ["tilt-down"]),
        ("tracking shot to the left", ["truck-left"]),
        ("truck right", ["truck-right"]),
        ("orbit left around the subject", ["orbit-left"]),
        ("slow arc shot", ["orbit-right"]),
        ("crane up over the scene", ["crane-up"]),
        ("boom down", ["crane-down"]),
        ("dolly zoom", ["dolly-zoom-in"]),
        ("vertigo effect", ["dolly-zoom-in"]),
        ("slow push-in while panning left", ["push-in", "pan-left"]),
        ("locked-off shot", []),
    ],
)
def test_camera_phrases(prompt, expected):
    assert moves(prompt) == expected


def test_speed_words_scale_the_amplitude():
    slow = parse_prompt("slow pan left").camera[0].amount
    normal = parse_prompt("pan left").camera[0].amount
    fast = parse_prompt("fast dramatic pan left").camera[0].amount
    assert slow < normal < fast
    assert parse_prompt("slow pan left").speed == "slow"


def test_motion_strength_and_duration_scale_the_amplitude():
    a = parse_prompt("pan left", motion_strength=0.25).camera[0].amount
    b = parse_prompt("pan left", motion_strength=1.0).camera[0].amount
    c = parse_prompt("pan left", motion_strength=1.0, duration=10).camera[0].amount
    assert a < b < c
    assert parse_prompt("pan left", motion_strength=0).camera[0].amount == 0


def test_toward_the_face_targets_the_face_else_the_subject():
    plan = parse_prompt("slow push-in toward the face", face=FACE, subject=SUBJECT)
    assert plan.camera[0].target == FACE and plan.target_word == "face"
    plan = parse_prompt("slow push-in toward the face", face=None, subject=SUBJECT)
    assert plan.camera[0].target == SUBJECT
    assert any("no face" in c.text for c in plan.conflicts)
    assert [c.code for c in plan.conflicts] == ["no-face"]


def test_negative_prompt_removes_moves_and_says_so():
    plan = parse_prompt("slow push-in and pan left", "camera shake, panning, zooming")
    assert plan.camera == []
    text = " ".join(r.text for r in plan.removed)
    assert "dropped push-in" in text and "dropped pan-left" in text and "never adds shake" in text
    assert [(r.code, r.clause) for r in plan.removed] == [
        ("never-added", "camera shake"),
        ("negative-drops-moves", "panning"),
        ("negative-drops-moves", "zooming"),
    ]
    assert {r.other for r in plan.removed} == {"", "slow push in", "pan left"}


def test_negative_prompt_steers_the_default_move():
    assert moves("a quiet village at dawn", "zooming") == ["orbit-right"]


def test_conflicts_are_reported_first_stated_wins():
    plan = parse_prompt("static camera, pan left")
    assert plan.camera == [] and plan.conflicts
    assert [(c.code, c.clause, c.other) for c in plan.conflicts] == [("static-conflict", "static camera", "pan left")]
    plan = parse_prompt("zoom in then zoom out")
    assert [c.move for c in plan.camera] == [Move.zoom_in]
    assert "contradicts" in plan.conflicts[0].text
    assert [(c.code, c.clause, c.other) for c in plan.conflicts] == [("move-conflict", "zoom out", "zoom in")]


def test_unused_words_are_reported_not_dropped():
    plan = parse_prompt("A beautiful woman at the beach")
    assert plan.defaulted and plan.camera[0].move is Move.push_in
    assert any("describe how things move" in u.text for u in plan.unused)
    plan = parse_prompt("slow push-in, candles flickering, she starts talking")
    assert [c.move for c in plan.camera] == [Move.push_in]
    assert any("candles" in u.text and "not animated" in u.text for u in plan.unused)
    assert any("talking" in u.text and "portrait motion" in u.text for u in plan.unused)


def test_loop_words_set_the_loop():
    assert parse_prompt("seamless loop, slow orbit").loop
    assert not parse_prompt("slow orbit").loop


def test_explain_mentions_every_part():
    text = parse_prompt("slow push-in, shallow depth of field, waves, fire", "zooming").explain()
    assert "Camera: static" in text and "Lens: shallow depth of field" in text
    assert "Element: water flowing" in text
    assert "Negative prompt:" in text and "Not used:" in text


@pytest.mark.parametrize(
    "prompt,element,style,direction",
    [
        ("waves rolling in from the right", "water", "flow", (-0.857, 0.514)),
        ("clouds drifting to the left", "clouds", "flow", (-1.0, 0.0)),
        ("storm clouds moving from left to right", "clouds", "flow", (1.0, 0.0)),
        ("steam rising from the mug", "steam", "flow", (0.0, -1.0)),
        ("mist drifting", "mist", "flow", (1.0, 0.0)),
        ("grass swaying in the wind from the left", "foliage", "sway", (1.0, 0.0)),
        ("a flag rippling to the left", "fabric", "sway", (-1.0, 0.0)),
        ("hair moving in a soft breeze", "hair", "sway", (1.0, 0.0)),
        ("ripples spreading across the water", "water", "ripple", (0.0, 0.0)),
        ("a waterfall pouring", "water", "flow", (0.0, 1.0)),
        ("volumetric golden light shifting slowly", "light", "relight", (1.0, 0.0)),
    ],
)
def test_element_phrases(prompt, element, style, direction):
    plan = parse_prompt(prompt)
    e = next(x for x in plan.elements if x.element == element)
    assert e.style == style
    assert e.direction == pytest.approx(direction, abs=1e-3)
    assert plan.camera == []  # element prompts alone keep the camera still


def test_element_speed_words_and_strength():
    slow = parse_prompt("gentle waves").elements[0].speed
    fast = parse_prompt("crashing waves").elements[0].speed
    assert slow < 1.0 < fast
    assert parse_prompt("waves", motion_strength=0.25).elements[0].speed < parse_prompt("waves").elements[0].speed


def test_dappled_light_lives_in_the_foliage():
    plan = parse_prompt("dappled sunlight through gently moving leaves")
    light = next(e for e in plan.elements if e.element == "light")
    assert light.region == "vegetation"
    assert any(e.element == "foliage" for e in plan.elements)


def test_negative_prompt_freezes_elements():
    plan = parse_prompt("waves rolling in, clouds drifting", "no water motion")
    assert [e.element for e in plan.elements] == ["clouds"]
    assert "water" in plan.frozen_elements and any("freezes water" in r.text for r in plan.removed)
    assert [(r.code, r.other) for r in plan.removed] == [("negative-drops-elements", "waves rolling in")]


def test_only_the_background_moves():
    plan = parse_prompt("static camera, only the background elements in motion")
    assert plan.camera == [] and plan.background_elements
    assert {e.element for e in plan.elements} == {"clouds", "water", "foliage"}


@pytest.mark.parametrize(
    "prompt,blink,breathe,head,gaze,smile",
    [
        ("a slight head turn, a natural blink, a soft expression shift", True, False, "turn", False, True),
        ("natural breathing visible", False, True, None, False, False),
        ("portrait comes to life", True, True, "sway", False, False),
        ("gentle head tilt, eyes glancing around", False, False, "tilt", True, False),
        ("she nods slowly", False, False, "nod", False, False),
    ],
)
def test_portrait_phrases(prompt, blink, breathe, head, gaze, smile):
    p = parse_prompt(prompt).portrait
    assert p is not None
    assert (p.blink, p.breathe, p.head, p.gaze, p.smile) == (blink, breathe, head, gaze, smile)
    assert parse_prompt(prompt).camera == []  # portrait prompts alone keep the camera still


@pytest.mark.parametrize(
    "prompt,negative,unused",
    [
        ("A beautiful woman at the beach", "", [("no-camera-motion", "a beautiful woman at the beach")]),
        (
            "slow push-in, candles flickering, she starts talking",
            "",
            [("unsupported-element", "candles flickering"), ("portrait-motion", "she starts talking")],
        ),
        ("slow pan left", "fire", [("negative-unused", "fire")]),
        ("slow pan left, waves rolling in", "", []),
    ],
)
def test_unused_clauses_carry_codes(prompt, negative, unused):
    plan = parse_prompt(prompt, negative)
    assert [(u.code, u.clause) for u in plan.unused] == unused
    notices = plan.understood + plan.unused + plan.conflicts + plan.removed
    assert all(isinstance(n, Notice) and n.code in NOTICE_CODES for n in notices)
    # The recipe and --explain keep the plain text, unchanged.
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["unused"] == [u.text for u in plan.unused]
    assert all(f"Not used: {u.text}" in plan.explain().splitlines() for u in plan.unused)


def test_notice_text_is_what_the_recipe_always_said():
    plan = parse_prompt("A beautiful woman at the beach, seamless loop", "camera shake")
    assert plan.to_dict()["unused"] == [
        "'a beautiful woman at the beach': no camera motion in it (describe how things move, not the scene)"
    ]
    assert plan.to_dict()["understood"] == ["'seamless loop': seamless loop"]
    assert plan.to_dict()["removed"] == ["'camera shake': the living engine never adds shake or flicker"]
    assert [n.code for n in plan.understood + plan.removed] == ["seamless-loop", "never-added"]


def test_a_notice_code_outside_the_closed_set_is_refused():
    with pytest.raises(ValueError, match="unknown notice code"):
        Notice("no camera motion in it", "a cat", "'a cat': no camera motion in it")


def test_camera_moves_record_the_speed_word_not_only_the_amplitude():
    plan = parse_prompt("slow pan left, very fast tilt up", motion_strength=0.9, duration=12)
    assert [(c.move, c.speed) for c in plan.camera] == [(Move.pan_left, "slow"), (Move.tilt_up, "very fast")]
    assert parse_prompt("pan left", motion_strength=0).camera[0].speed == "normal"
    assert parse_prompt("a quiet village").camera[0].speed == "gentle"  # the default move
    assert all(c.speed in SPEED_WORDS for c in plan.camera)


def _imported_modules(path: Path, package: str) -> list[str]:
    """Every module a file imports, lazy imports included, as absolute dotted names."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out += [module] + [f"{module}.{a.name}" for a in node.names]
    return out


def test_plan_imports_nothing_from_the_engines():
    """The Plan stage owns its vocabulary: engines import plan/, never the reverse."""
    plan_dir = Path(stillmotion.__file__).parent / "plan"
    files = sorted(plan_dir.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "motion.py", "prompt.py", "lint.py", "elements.py"}
    # The resolver reads relative imports: the living engine's camera takes its moves from plan/.
    camera = Path(stillmotion.__file__).parent / "engines" / "living" / "camera.py"
    assert "stillmotion.plan.motion.Move" in _imported_modules(camera, "stillmotion.engines.living")
    assert "stillmotion.plan.motion" in _imported_modules(plan_dir / "prompt.py", "stillmotion.plan")
    for f in files:
        imported = _imported_modules(f, "stillmotion.plan")
        upward = [m for m in imported if m.startswith(("stillmotion.engines", "engines"))]
        assert upward == [], f"{f.name} imports {upward}"


def test_the_prompt_is_parsed_once_per_run(photos, tmp_path, monkeypatch):
    """api.run parses the prompt once; the coach reads that plan instead of parsing it again
    (it still parses single clauses and its own suggestions, never the whole prompt)."""
    import stillmotion.plan.lint

    prompt = "slow push-in, steam rising from the cup"
    calls: dict[str, list[str]] = {"api": [], "lint": []}
    for name, module in (("api", stillmotion.api), ("lint", stillmotion.plan.lint)):
        real = module.parse_prompt

        def counting(*args, _real=real, _calls=calls[name], **kwargs):
            _calls.append(args[0])
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, "parse_prompt", counting)
    clip = stillmotion.animate(
        photos["coffee"], prompt, size="256x170", duration=1, fps=8, seed=1, output=tmp_path / "c.mp4"
    )
    assert calls["api"] == [prompt]
    assert calls["lint"] and prompt not in calls["lint"]  # the clauses, alone
    assert clip.recipe["plan"]["camera"][0]["move"] == "push-in"
