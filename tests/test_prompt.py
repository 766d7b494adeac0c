"""Prompt → motion plan, on the phrases the field writes."""

from __future__ import annotations

import pytest

from stillmotion.engines.living.camera import Move
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
    assert moves("a quiet lake at dawn", "zooming") == ["orbit-right"]


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
    plan = parse_prompt("slow push-in, waves rolling in from the right, hair moving in a soft breeze")
    assert [c.move for c in plan.camera] == [Move.push_in]
    assert any("waves" in u and "element motion" in u for u in plan.unused)
    assert any("hair" in u and "portrait motion" in u for u in plan.unused)


def test_loop_words_set_the_loop():
    assert parse_prompt("seamless loop, slow orbit").loop
    assert not parse_prompt("slow orbit").loop


def test_explain_mentions_every_part():
    text = parse_prompt("slow push-in, shallow depth of field, waves", "zooming").explain()
    assert "Camera: static" in text and "Lens: shallow depth of field" in text
    assert "Negative prompt:" in text and "Not used:" in text
