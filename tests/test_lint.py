"""Prompt coaching on the prompts the field writes: weak ones are caught, strong ones pass."""

from __future__ import annotations

import json

import pytest

from stillmotion.errors import InputError
from stillmotion.plan.lint import _MOVE_PHRASE, KINDS, VOCABULARY, lint_prompt
from stillmotion.plan.motion import Move
from stillmotion.plan.prompt import parse_prompt

FACE = (0.5, 0.4)

# (weak prompt, the warning it must get, its strong partner, the photo both are for)
PAIRS = [
    (
        "A beautiful woman at the beach",
        "scene-description",
        "hair gently blowing in a sea breeze, waves rolling softly in the background",
        {},
    ),
    ("make it move", "vague", "slow push-in", {}),
    (
        "a sunset over the ocean",
        "scene-description",
        "clouds drifting slowly from left to right, waves rolling in from the right",
        {},
    ),
    ("cinematic", "vague", "slow dolly-in, shallow depth of field", {}),
    (
        "pan left zoom in orbit right tilt up clouds waves grass hair blinking smile",
        "too-many-motions",
        "slow pan left, clouds drifting slowly from left to right",
        {},
    ),
    ("animate this", "vague", "waves rolling in from the right, slow push-in", {"kind": "landscape"}),
    ("bring it to life", "vague", "natural blinks, subtle breathing", {"faces": 1, "kind": "portrait"}),
    ("static camera, pan left", "contradiction", "static camera, only the background in motion", {}),
    ("zoom in then zoom out", "contradiction", "slow zoom in", {}),
    ("waves crashing", "missing-element", "clouds drifting slowly from left to right", {"elements": ["sky"]}),
    ("natural blinks, subtle breathing", "missing-element", "slow pan from left to right", {"faces": 0}),
    (
        "a cup of coffee on a wooden table",
        "scene-description",
        "steam rising from the cup",
        {"elements": ["steam"], "kind": "product"},
    ),
    ("epic", "vague", "slow orbit right around the product", {"kind": "product"}),
    ("snow falling", "unsupported", "grass swaying gently in the wind", {}),
]

# Prompts of every kind, for the properties every suggestion must have.
CORPUS = [p for pair in PAIRS for p in (pair[0], pair[2])] + [
    "",
    "pan left",
    "the camera pans left, waves",
    "A beautiful woman at the beach, slow push-in",
    "clouds drifting left, mist drifting right",
    "slow push-in toward the face, natural blinks",
    "orbit right, waves crashing, hair blowing, grass swaying, clouds racing",
    "make it move, epic, 4k",
    "a woman talking",
    "fire crackling, slow push-in",
    "waterfall in a forest",
    "a lake at dawn",
    "hair blowing from the left, grass swaying from the right",
    "only the background in motion",
]
PHOTOS = [
    {},
    {"elements": ["sky"]},
    {"elements": ["water", "sky"], "kind": "landscape"},
    {"faces": 0, "kind": "architecture"},
    {"faces": 1, "elements": ["hair"], "kind": "portrait"},
    {"elements": ["steam"], "faces": 0, "kind": "product"},
    {"kind": "text"},
    {"kind": "crowd"},
]


def warnings(report) -> list[str]:
    return [lint.code for lint in report.lints if lint.level == "warning"]


def fully_understood(text: str) -> bool:
    plan = parse_prompt(text, face=FACE, subject=(0.5, 0.5))
    return bool(text.strip()) and not plan.unused


@pytest.mark.parametrize("weak,code,strong,photo", PAIRS, ids=[p[0][:30] or "empty" for p in PAIRS])
def test_weak_prompt_is_caught_and_scores_below_its_strong_partner(weak, code, strong, photo):
    bad, good = lint_prompt(weak, **photo), lint_prompt(strong, **photo)
    assert code in warnings(bad), bad.summary()
    assert warnings(good) == [], good.summary()
    assert bad.score < good.score
    assert bad.score <= 80 <= good.score
    assert bad.rewrite is not None and fully_understood(bad.rewrite)


def test_strong_prompt_gets_a_single_ok_and_a_high_score():
    report = lint_prompt("slow push-in toward the face, natural blinks", faces=1, kind="portrait")
    assert [(lint.code, lint.level) for lint in report.lints] == [("ok", "ok")]
    assert report.score == 100 and report.rewrite is None
    assert "push-in" in report.lints[0].message and "blinks" in report.lints[0].message


def test_scene_description_suggests_motion_from_the_prompts_nouns():
    report = lint_prompt("A beautiful woman at the beach")
    lint = report.lints[0]
    assert (lint.code, lint.level) == ("scene-description", "warning")
    assert lint.suggestion == "hair gently blowing in a sea breeze, waves rolling softly in the background"
    plan = parse_prompt(lint.suggestion)
    assert {e.element for e in plan.elements} == {"hair", "water"} and not plan.unused
    assert report.summary().startswith("warning: describes the scene, not motion")
    assert f"— try: '{lint.suggestion}'" in report.summary()


def test_scene_suggestion_follows_the_photo_not_the_nouns():
    # The prompt says ocean, the photo has only sky: the coach suggests what the photo can move.
    suggestion = lint_prompt("a sunset over the ocean", elements=["sky"]).lints[0].suggestion
    assert {e.region for e in parse_prompt(suggestion).elements} == {"sky"}
    # A portrait without hair segmentation and no water: face motion, no hair.
    suggestion = lint_prompt("a man in an office", faces=1, elements=[]).lints[0].suggestion
    plan = parse_prompt(suggestion, face=FACE)
    assert plan.portrait is not None and not plan.elements


def test_a_scene_clause_next_to_motion_is_advice_and_is_dropped():
    report = lint_prompt("A beautiful woman at the beach, slow push-in")
    assert [(lint.code, lint.level) for lint in report.lints] == [("scene-description", "advice")]
    assert report.lints[0].suggestion == "slow push-in"
    assert 80 <= report.score < 100


def test_vague_suggestion_fits_the_kind_and_the_elements():
    landscape = lint_prompt("make it move", kind="landscape", elements=["sky", "water"]).lints[0].suggestion
    assert {e.region for e in parse_prompt(landscape).elements} == {"sky", "water"}
    product = lint_prompt("make it move", kind="product", elements=["steam"], faces=0).lints[0].suggestion
    assert "steam" in {e.element for e in parse_prompt(product).elements}
    architecture = lint_prompt("cinematic", kind="architecture", elements=[], faces=0).lints[0].suggestion
    assert [c.move for c in parse_prompt(architecture).camera] == [Move.tilt_up]


def test_too_many_motions_keeps_the_first_camera_move_and_the_first_element():
    report = lint_prompt("pan left zoom in orbit right tilt up clouds waves grass hair blinking smile")
    lint = next(lint for lint in report.lints if lint.code == "too-many-motions")
    assert "10 motions" in lint.message
    plan = parse_prompt(lint.suggestion)
    assert [c.move for c in plan.camera] == [Move.pan_left]
    assert len(plan.elements) == 1 and plan.portrait is None and not plan.unused
    assert report.score <= 50


def test_contradiction_static_camera_and_a_pan():
    report = lint_prompt("static camera, pan left")
    lint = report.lints[0]
    assert (lint.code, lint.level) == ("contradiction", "warning")
    assert "static camera" in lint.message and "pan left" in lint.message
    assert lint.suggestion == "static camera"


def test_contradiction_with_the_negative_prompt_and_between_elements():
    assert "contradiction" in warnings(lint_prompt("slow pan left", "panning"))
    assert "contradiction" not in warnings(lint_prompt("slow pan left", "zooming"))
    wind = lint_prompt("hair blowing from the left, grass swaying from the right")
    assert "contradiction" in warnings(wind)
    assert "contradiction" not in warnings(lint_prompt("hair blowing from the left, grass swaying from the left"))


def test_missing_element_waves_on_a_photo_without_water():
    report = lint_prompt("waves crashing", elements=["sky"])
    lint = report.lints[0]
    assert (lint.code, lint.level) == ("missing-element", "warning")
    assert "water" in lint.message
    assert all(e.region == "sky" for e in parse_prompt(lint.suggestion).elements)
    assert "missing-element" not in warnings(lint_prompt("waves crashing", elements=["water"]))
    assert "missing-element" not in warnings(lint_prompt("waves crashing"))  # photo unknown: no claim


def test_missing_element_portrait_motion_without_a_face():
    assert "missing-element" in warnings(lint_prompt("natural blinks, subtle breathing", faces=0))
    assert "missing-element" not in warnings(lint_prompt("natural blinks, subtle breathing", faces=1))
    report = lint_prompt("slow push-in toward the face, natural blinks", faces=0)
    lint = report.lints[0]
    assert lint.code == "missing-element" and "no face" in lint.message
    assert lint.suggestion == "slow push-in toward the subject"
    assert parse_prompt(lint.suggestion).portrait is None


def test_no_speed_and_no_direction_are_advice():
    pan = lint_prompt("pan left")
    assert [(lint.code, lint.level) for lint in pan.lints] == [("no-speed", "advice")]
    assert pan.rewrite == "slow pan left" and 90 <= pan.score < 100
    assert lint_prompt("slow pan left").lints[0].code == "ok"
    clouds = lint_prompt("clouds drifting slowly across the sky")
    assert [(lint.code, lint.level) for lint in clouds.lints] == [("no-direction", "advice")]
    (cloud,) = parse_prompt(clouds.rewrite).elements
    assert cloud.direction == (1.0, 0.0)  # the default made explicit: the render does not change
    assert lint_prompt(clouds.rewrite).lints[0].code == "ok"
    # "drifting left" is read as a direction: nothing to advise.
    assert lint_prompt("clouds drifting left").lints[0].code == "ok"
    assert parse_prompt("clouds drifting left").elements[0].direction == (-1.0, 0.0)


def test_unsupported_motion_is_named():
    assert warnings(lint_prompt("snow falling")) == ["unsupported"]
    mixed = lint_prompt("slow push-in, fire crackling")
    assert [(lint.code, lint.level) for lint in mixed.lints] == [("unsupported", "advice")]


@pytest.mark.parametrize("group", sorted(VOCABULARY))
def test_every_vocabulary_phrase_is_fully_understood(group):
    for phrase in VOCABULARY[group]:
        plan = parse_prompt(phrase, face=FACE)
        assert not plan.unused, (phrase, plan.unused)
        assert not plan.conflicts, (phrase, plan.conflicts)
        assert (plan.camera and not plan.defaulted) or plan.elements or plan.portrait or plan.static, phrase
        assert warnings(lint_prompt(phrase)) == [], (phrase, lint_prompt(phrase).summary())


def test_every_move_phrase_of_a_suggestion_parses_to_that_move():
    for move in Move:
        if move is Move.static:
            continue
        plan = parse_prompt(f"slow {_MOVE_PHRASE[move]}")
        assert [c.move for c in plan.camera] == [move] and not plan.unused, move


@pytest.mark.parametrize("photo", PHOTOS, ids=[json.dumps(p) for p in PHOTOS])
def test_every_suggestion_and_rewrite_is_fully_understood(photo):
    for prompt in CORPUS:
        report = lint_prompt(prompt, **photo)
        assert 0 <= report.score <= 100
        assert report.lints and all(lint.level in ("ok", "advice", "warning") for lint in report.lints)
        for text in [lint.suggestion for lint in report.lints] + [report.rewrite]:
            if text is not None:
                assert fully_understood(text), (prompt, photo, text)
        if report.rewrite is not None:
            # The rewrite fixes what it was written to fix, for the same photo.
            assert warnings(lint_prompt(report.rewrite, **photo)) == [], (prompt, photo, report.rewrite)
        json.dumps(report.to_dict())


def test_to_dict_and_summary():
    report = lint_prompt("make it move", kind="landscape")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["prompt"] == "make it move" and data["score"] == report.score
    assert data["lints"][0]["code"] == "vague" and data["lints"][0]["level"] == "warning"
    assert set(data["lints"][0]) == {"code", "level", "message", "suggestion"}
    lines = report.summary().splitlines()
    assert lines[0].startswith("warning: ") and lines[-1] == f"score: {report.score}/100"


def test_bad_arguments_are_named():
    with pytest.raises(InputError, match="kind"):
        lint_prompt("slow push-in", kind="selfie")
    with pytest.raises(InputError, match="faces"):
        lint_prompt("slow push-in", faces=-1)
    for kind in KINDS:
        assert lint_prompt("", kind=kind).rewrite


# Prompts whose coaching, for the living engine, speaks of what it renders, defaults or cannot render.
LIVING_ADVICE = [
    "snow falling",
    "slow push-in, fire crackling",
    "a woman talking",
    "pan left",
    "clouds drifting across the sky",
    "waves",
    "make it move",
    "A beautiful woman at the beach",
    "sparkles while the camera pans left",
    "she laughs, rain falling",
]


@pytest.mark.parametrize("photo", PHOTOS[:5], ids=[json.dumps(p) for p in PHOTOS[:5]])
def test_raw_prompt_engines_get_no_living_engine_advice(photo):
    for prompt in CORPUS + LIVING_ADVICE:
        report = lint_prompt(prompt, **photo, takes_plan=False)
        said = report.summary() + json.dumps(report.to_dict())
        assert "living engine" not in said and "default" not in said, (prompt, photo, report.summary())
        assert not {lint.code for lint in report.lints} & {"unsupported", "no-speed", "no-direction"}, prompt


def test_raw_prompt_engines_keep_the_engine_neutral_advice():
    assert lint_prompt("snow falling", takes_plan=False).lints[0].code == "ok"
    assert lint_prompt("snow falling").lints[0].code == "unsupported"  # the living engine's own coaching
    raw = lint_prompt("slow push-in, fire crackling", takes_plan=False)
    assert [lint.code for lint in raw.lints] == ["ok"] and "fire crackling" in raw.lints[0].message
    for prompt, code in [
        ("make it move", "vague"),
        ("A beautiful woman at the beach", "scene-description"),
        ("pan left zoom in orbit right tilt up clouds waves grass hair blinking smile", "too-many-motions"),
    ]:
        assert code in warnings(lint_prompt(prompt, takes_plan=False)), prompt
    static = lint_prompt("static camera, pan left", takes_plan=False)
    (lint,) = [x for x in static.lints if x.code == "contradiction"]
    assert "'static camera' against 'pan left'" in lint.message and "keeping" not in lint.message
    negative = lint_prompt("slow pan left", "panning", takes_plan=False)
    assert "the negative 'panning' against 'slow pan left'" in negative.lints[0].message
    missing = lint_prompt("waves crashing, snow falling", elements=["sky"], takes_plan=False)
    assert "missing-element" in warnings(missing)
    assert missing.rewrite is not None and "snow falling" in missing.rewrite  # the engine may render it: kept


def test_the_coach_reads_the_callers_plan_the_same_way():
    """Given the run's plan (any strength, duration, loop, subject), the coaching is the one it makes itself."""
    for prompt in CORPUS:
        for photo in PHOTOS:
            face = None if photo.get("faces") == 0 else (0.3, 0.6)
            plan = parse_prompt(prompt, motion_strength=0.9, duration=14, loop=True, subject=None, face=face)
            assert lint_prompt(prompt, **photo, plan=plan).to_dict() == lint_prompt(prompt, **photo).to_dict()
    with pytest.raises(TypeError, match="MotionPlan"):
        lint_prompt("slow pan left", plan={"camera": []})
