"""Prompt → motion plan, on the phrases the field writes."""

from __future__ import annotations

import pytest

from stillmotion.plan.motion import Move
from stillmotion.plan.prompt import parse_prompt

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
    assert any("no face" in c for c in plan.conflicts)


def test_negative_prompt_removes_moves_and_says_so():
    plan = parse_prompt("slow push-in and pan left", "camera shake, panning, zooming")
    assert plan.camera == []
    text = " ".join(plan.removed)
    assert "dropped push-in" in text and "dropped pan-left" in text and "never adds shake" in text


def test_negative_prompt_steers_the_default_move():
    assert moves("a quiet village at dawn", "zooming") == ["orbit-right"]


def test_conflicts_are_reported_first_stated_wins():
    plan = parse_prompt("static camera, pan left")
    assert plan.camera == [] and plan.conflicts
    plan = parse_prompt("zoom in then zoom out")
    assert [c.move for c in plan.camera] == [Move.zoom_in]
    assert "contradicts" in plan.conflicts[0]


def test_unused_words_are_reported_not_dropped():
    plan = parse_prompt("A beautiful woman at the beach")
    assert plan.defaulted and plan.camera[0].move is Move.push_in
    assert any("describe how things move" in u for u in plan.unused)
    plan = parse_prompt("slow push-in, candles flickering, she starts talking")
    assert [c.move for c in plan.camera] == [Move.push_in]
    assert any("candles" in u and "not animated" in u for u in plan.unused)
    assert any("talking" in u and "portrait motion" in u for u in plan.unused)


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
    assert "water" in plan.frozen_elements and any("freezes water" in r for r in plan.removed)


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
