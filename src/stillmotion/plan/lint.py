"""Prompt coaching: what a motion prompt lacks, said before the first render.

Users of image-to-video tools learn by wasting renders that a motion prompt
must describe *movement* (what moves, how fast, which way), not the scene;
that "make it move" says nothing; that one dominant motion beats ten. This
module tells them up front, honestly: rules and measurements on top of
:func:`~stillmotion.plan.prompt.parse_prompt` (no language model). It never
re-reads what the parser read: every finding is read off the
:class:`~stillmotion.plan.prompt.MotionPlan` of the whole prompt (the
caller's, when it has parsed the prompt already: ``plan=``) and of each
clause, by the codes of its :class:`~stillmotion.plan.prompt.Notice` records,
never by their prose.

Engines that read the raw prompt themselves (``takes_plan=False``: the
diffusion engines) get only the engine-neutral coaching: vague, scene
description, contradictions, too many motions, what the photo lacks. Nothing
is said about what the living engine renders, its default moves or speeds.

Codes, their level and their penalty (the score is 100 minus the penalty of
each lint, one lint per code, clamped to 0..100; see :data:`PENALTIES`):

==================  ========  =====================================================
code                level     penalty and meaning
==================  ========  =====================================================
vague               warning   55: "make it move", "cinematic", a single word
scene-description   warning   50: names things, moves nothing ("a woman at the beach")
scene-description   advice    10: some clauses describe the scene and do nothing
too-many-motions    warning   20 + 5 per motion beyond 3, at most 50
contradiction       warning   30: "static camera, pan left"; the negative cancels the prompt
missing-element     warning   30: moves water, sky, foliage, steam or hair the photo lacks
no-direction        advice    5: water, clouds or mist with the default direction
no-speed            advice    5: a camera move with no speed word ("pan left")
unsupported         warning   30: the only motion asked is one the living engine does not render
unsupported         advice    0: a motion the living engine does not render (fire, snow, talking)
(no-direction, no-speed and unsupported are for engines that take the plan only)
ok                  ok        0: nothing to fix
==================  ========  =====================================================

Every suggestion and rewrite is a prompt the parser understands in full (no
clause in ``plan.unused``), and the vague / scene suggestions are built from
:data:`VOCABULARY`, fitted to the photo (``elements``, ``faces``, ``kind``)
and to the nouns of the prompt.

>>> report = lint_prompt("A beautiful woman at the beach")
>>> report.lints[0].code, report.rewrite
('scene-description', 'hair gently blowing in a sea breeze, waves rolling softly in the background')
>>> lint_prompt("slow push-in toward the face, natural blinks").lints[0].code
'ok'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ..errors import InputError

# The parser's own clause split, camera matcher and direction rules, so coach and plan agree.
from .elements import BACKGROUND_PHRASE, TOWARD_VIEWER, ElementMotion, direction_of
from .motion import Move
from .prompt import MotionPlan, Notice, moves_in, normalise, parse_prompt, split_clauses

__all__ = ["KINDS", "Lint", "MAX_MOTIONS", "PENALTIES", "PromptReport", "VOCABULARY", "lint_prompt"]

KINDS = ("portrait", "landscape", "product", "architecture", "crowd", "text", "general")
"""The photo kinds ``kind`` accepts (from the photo analysis)."""

MAX_MOTIONS = 3
"""More simultaneous motions than this (camera moves + elements + portrait parts) read as chaos."""

PENALTIES: dict[tuple[str, str], int] = {
    ("vague", "warning"): 55,
    ("scene-description", "warning"): 50,
    ("scene-description", "advice"): 10,
    ("too-many-motions", "warning"): 20,  # + TOO_MANY_STEP per motion beyond MAX_MOTIONS, at most TOO_MANY_CAP
    ("contradiction", "warning"): 30,
    ("missing-element", "warning"): 30,
    ("no-direction", "advice"): 5,
    ("no-speed", "advice"): 5,
    ("unsupported", "warning"): 30,
    ("unsupported", "advice"): 0,
    ("ok", "ok"): 0,
}
"""Score penalty of each (code, level); the score is 100 minus their sum, clamped to 0..100."""
TOO_MANY_STEP = 5
TOO_MANY_CAP = 50

VOCABULARY: dict[str, list[str]] = {
    "camera": [
        "slow push-in",
        "very slow push-in",
        "gentle pan from left to right",
        "slow camera pull back revealing the full environment",
        "subtle zoom toward the face",
        "static camera, only the background in motion",
        "slow dolly-in, shallow depth of field",
        "slow orbit right around the subject",
        "slow tilt up from the bottom to the top",
        "slow truck left",
        "slow crane up over the scene",
    ],
    "subject": [
        "slow push-in toward the subject",
        "slow orbit right around the product",
        "subject stationary, gentle pan from left to right",
    ],
    "portrait": [
        "natural blinks, subtle breathing",
        "slow push-in toward the face, natural blinks",
        "slow push-in toward the face, natural blinks, subtle breathing",
        "gentle head turn, soft smile",
        "subtle breathing, slight head tilt",
        "eyes glancing to the side",
    ],
    "hair": [
        "hair gently blowing in a sea breeze",
        "hair gently blowing in the breeze",
        "hair swaying softly from the left",
    ],
    "water": [
        "waves rolling softly in the background",
        "waves rolling in from the right",
        "gentle ripples on the water",
        "river flowing slowly from left to right",
        "waterfall cascading down",
        "reflections shimmering softly on the lake",
    ],
    "sky": [
        "clouds drifting slowly across the sky",
        "clouds drifting slowly from left to right",
        "storm clouds rolling in from the left",
    ],
    "foliage": [
        "grass swaying gently in the wind",
        "leaves rustling softly in the breeze",
        "tree branches swaying gently in the wind",
        "flowers swaying softly in the breeze",
    ],
    "steam": [
        "steam rising from the cup",
        "steam rising slowly from the cup",
        "smoke curling slowly upward",
    ],
    "atmosphere": [
        "mist drifting over the water",
        "fog drifting slowly from left to right",
        "volumetric golden light shifting slowly",
        "dappled sunlight through gently moving leaves",
    ],
    "fabric": [
        "flag waving gently in the wind",
        "curtains swaying softly in the breeze",
    ],
}
"""Motion phrases of the field, by group; each one is understood in full by ``parse_prompt``."""


@dataclass
class Lint:
    """One finding about a motion prompt.

    Attributes:
        code: ``scene-description``, ``vague``, ``too-many-motions``,
            ``contradiction``, ``missing-element``, ``no-direction``,
            ``no-speed``, ``unsupported``, ``engine-control`` (the chosen engine's own
            controls: what it ignores or changes) or ``ok``.
        level: ``ok``, ``advice`` (the render works, could be better) or
            ``warning`` (the render will likely waste a try).
        message: one plain line: what is wrong and why it matters.
        suggestion: a rewritten prompt the user could paste, or None.
    """

    code: str
    level: str
    message: str
    suggestion: str | None = None


@dataclass
class PromptReport:
    """The coaching for one prompt.

    Attributes:
        prompt: the prompt as given.
        lints: the findings, warnings first; a single ``ok`` lint when there is nothing to fix.
        rewrite: the best full rewrite (all fixes applied), None when the prompt needs none.
        score: 0..100, how actionable the prompt is (100 minus :data:`PENALTIES`).
    """

    prompt: str
    lints: list[Lint] = field(default_factory=list)
    rewrite: str | None = None
    score: int = 100

    def to_dict(self) -> dict:
        """A JSON-ready dict (for the CLI's ``--json`` and the HTTP API)."""
        return {
            "prompt": self.prompt,
            "score": self.score,
            "rewrite": self.rewrite,
            "lints": [asdict(lint) for lint in self.lints],
        }

    def summary(self) -> str:
        """One line per lint, e.g. ``warning: describes the scene, not motion … — try: '…'``."""
        lines = []
        for lint in self.lints:
            line = f"{lint.level}: {lint.message}"
            if lint.suggestion:
                line += f" — try: '{lint.suggestion}'"
            lines.append(line)
        if self.rewrite and all(lint.suggestion != self.rewrite for lint in self.lints):
            lines.append(f"rewrite: '{self.rewrite}'")
        lines.append(f"score: {self.score}/100")
        return "\n".join(lines)


def lint_prompt(
    prompt: str,
    negative_prompt: str = "",
    *,
    elements: list[str] | None = None,
    faces: int | None = None,
    kind: str | None = None,
    plan: MotionPlan | None = None,
    takes_plan: bool = True,
) -> PromptReport:
    """Coach a motion prompt before the first render.

    Args:
        prompt: the motion prompt, free text.
        negative_prompt: motion to avoid; checked against the prompt.
        elements: natural elements the photo has, as the photo analysis names
            them (``sky``, ``water``, ``vegetation``, ``hair``, ``steam``);
            None = unknown (the prompt's own nouns stand in).
        faces: number of faces in the photo; None = unknown.
        kind: ``portrait``, ``landscape``, ``product``, ``architecture``,
            ``crowd``, ``text`` or ``general``; None = unknown.
        plan: the prompt's :class:`~stillmotion.plan.prompt.MotionPlan` when
            the caller has parsed it already (``api.run`` does, so a run parses
            its prompt once): ``parse_prompt(prompt, negative_prompt, ...)``
            with any motion strength, duration, loop and subject, and ``face``
            None exactly when the photo has no face. None = parsed here. The
            coaching is the same either way: it reads speed words, not amplitudes.
        takes_plan: the engine renders the parsed plan (the living engine).
            False for engines that read the raw prompt themselves (diffusion):
            only engine-neutral coaching, no word of what the living engine
            renders (no ``unsupported``, ``no-speed`` or ``no-direction``).

    Returns:
        A :class:`PromptReport`: lints (warnings first), a rewrite, a score.

    Raises:
        InputError: ``kind`` is not one of :data:`KINDS`, or ``faces`` is negative.
        TypeError: ``plan`` is not a MotionPlan.

    >>> lint_prompt("waves crashing", elements=["sky"]).lints[0].code
    'missing-element'
    """
    # 1. Validate.
    if not isinstance(prompt, str):
        raise InputError(f"prompt must be text, got {type(prompt).__name__}")
    if kind is not None and kind not in KINDS:
        raise InputError(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    if faces is not None and (isinstance(faces, bool) or int(faces) != faces or faces < 0):
        raise InputError(f"faces={faces!r} must be a whole number ≥ 0 (or None when unknown)")
    if plan is not None and not isinstance(plan, MotionPlan):
        raise TypeError(f"plan must be a MotionPlan (from parse_prompt) or None, got {type(plan).__name__}")
    photo = _Photo(None if elements is None else {str(e).strip().lower() for e in elements}, faces, kind, takes_plan)

    # 2. Parse: the whole prompt as the engine will (unless the caller has), and each clause on its own.
    if plan is None:
        plan = _parse(prompt, negative_prompt, photo)
    clauses = [_Clause(text, _parse(text, "", photo)) for text in _split(prompt)]
    stated_moves: list[Move] = []
    for c in clauses:
        stated_moves += [m for m in c.moves if m not in stated_moves]
    moving_elements = [e for e in plan.elements if e.phrase != BACKGROUND_PHRASE]
    scene_clauses = [c.text for c in clauses if c.scene]
    unsupported = [c.text for c in clauses if c.unsupported]
    # An engine that reads the raw prompt may render fire or talking: those clauses are motion there.
    raw_motion = bool(unsupported) and not takes_plan
    concrete = bool(
        stated_moves or plan.static or plan.portrait or plan.background_elements or moving_elements or raw_motion
    )
    explicit = bool(
        stated_moves
        or plan.static
        or plan.portrait
        or plan.background_elements
        or any(_MOTION_CUE.search(e.phrase) for e in moving_elements)
        or raw_motion
    )
    content = _content_suggestion(prompt, photo)

    # 3. Detect. Each finding is (lint, penalty).
    found: list[tuple[Lint, int]] = []
    vague = not concrete and _is_vague(prompt)
    scene = not vague and not explicit and bool(scene_clauses or moving_elements)
    if vague:
        guess = (
            f" (the engine would guess: {plan.camera[0].move.value})"
            if takes_plan and plan.defaulted and plan.camera
            else ""
        )
        what = "empty prompt" if not prompt.strip() else f"'{prompt.strip()}' is too vague"
        found.append(
            _lint("vague", "warning", f"{what}: it does not say what moves, how fast or which way{guess}", content)
        )
    elif scene:
        noun_only = (
            ""
            if not (moving_elements and takes_plan)
            else (f"; {', '.join(sorted({e.element for e in moving_elements}))} would only get a default drift")
        )
        found.append(
            _lint(
                "scene-description",
                "warning",
                "describes the scene, not motion: the model already sees the photo — say what moves, "
                f"how fast, which way{noun_only}",
                content,
            )
        )
    elif scene_clauses:
        found.append(
            _lint(
                "scene-description",
                "advice",
                f"{_quote(scene_clauses)} describe{'s' if len(scene_clauses) == 1 else ''} the scene: "
                "the photo already shows it, so it moves nothing",
                _suggest(_drop(clauses, scene_clauses, photo), content, photo),
            )
        )

    contradictions = _contradictions(plan, takes_plan)
    if contradictions:
        fixed = _drop_contradictions([c.text for c in clauses if photo.keeps(c)], negative_prompt, photo)
        what = "the render follows only part of it" if takes_plan else "the model gets mixed instructions"
        found.append(
            _lint(
                "contradiction",
                "warning",
                f"contradicts itself, so {what}: " + "; ".join(contradictions),
                _suggest(fixed, content, photo),
            )
        )

    missing, missing_clauses, unseen = _missing(plan, clauses, photo)
    if missing:
        keep = [c.text for c in clauses if c.text not in missing_clauses and photo.keeps(c)]
        if photo.faces == 0:
            keep = [_FACE_TARGET.sub(r"\1 the subject", t) for t in keep]
        found.append(
            _lint(
                "missing-element",
                "warning",
                "; ".join(missing) + ": that motion has nothing to act on" + (_SHOW_REGIONS if unseen else ""),
                _suggest(keep, content, photo),
            )
        )

    motions = _motions(plan, stated_moves, moving_elements)
    if len(motions) > MAX_MOTIONS:
        penalty = min(
            TOO_MANY_CAP, PENALTIES[("too-many-motions", "warning")] + TOO_MANY_STEP * (len(motions) - MAX_MOTIONS)
        )
        found.append(
            (
                Lint(
                    "too-many-motions",
                    "warning",
                    f"{len(motions)} motions at once ({', '.join(motions)}): they fight for attention and read "
                    "as chaos — pick one dominant motion and at most one secondary",
                    _suggest(_trim(plan, clauses, stated_moves, moving_elements), content, photo),
                ),
                penalty,
            )
        )

    # The living engine's own advice: speeds and directions it would default, motions it does not render.
    if takes_plan and not (vague or scene):
        no_speed = [cm.move.value for cm in plan.camera if not plan.defaulted and cm.speed == "normal"]
        if no_speed:
            found.append(
                _lint(
                    "no-speed",
                    "advice",
                    f"no speed word for {', '.join(no_speed)}: 'slow', 'gentle' or 'fast' sets how far "
                    "it travels and reads more filmed",
                    _suggest([_add_speed(c) for c in clauses if not c.unused], None, photo),
                )
            )
        lacking = [e for e in moving_elements if _default_direction(e) and e.region not in photo.lacks]
        if lacking:
            names = ", ".join(e.element for e in lacking)
            bare = next((m.group(0) for e in lacking if (m := _BARE_SIDE.search(e.phrase))), None)
            note = f" ('{bare}' alone is not read as a direction: say 'toward the {bare}')" if bare else ""
            directed = [_add_direction(c) for c in clauses if not c.unused]
            found.append(
                _lint(
                    "no-direction",
                    "advice",
                    f"no direction for {names}: {'it' if len(lacking) == 1 else 'they'} will flow toward "
                    f"the right (the default){note} — name one ('from the left', 'rolling in') to choose",
                    _suggest(_drop_contradictions(directed, "", photo), None, photo),
                )
            )
    if unsupported and takes_plan:
        alone = not concrete
        found.append(
            _lint(
                "unsupported",
                "warning" if alone else "advice",
                f"the living engine does not render {_quote(unsupported)} (fire, snow, rain, talking)"
                + ("; it would make a default move instead" if alone else "")
                + "; diffusion engines may",
                content if alone else None,
            )
        )

    # 4. Score, order, rewrite.
    if not found:
        if takes_plan:
            words = _describe(plan, moving_elements)
        else:
            named = _motions(plan, stated_moves, moving_elements) + unsupported
            words = f"{_quote(named) if named else 'a still shot'}, read by the engine itself as written"
        return PromptReport(prompt, [Lint("ok", "ok", "clear motion prompt: " + words, None)], None, 100)
    found.sort(key=lambda f: _LEVEL_ORDER[f[0].level])
    score = max(0, min(100, 100 - sum(p for _, p in found)))
    rewrite: str | None = (
        content if (vague or scene) else _rewrite(clauses, negative_prompt, photo, content, missing_clauses)
    )
    if rewrite is not None and _same(rewrite, prompt):
        rewrite = None
    return PromptReport(prompt, [f[0] for f in found], rewrite, score)


# --------------------------------------------------------------------------------------------------
# The photo and the clauses

_ANY_FACE = (0.5, 0.4)
_CENTRE = (0.5, 0.5)
_NATURAL = {"water": "water", "sky": "sky", "vegetation": "foliage", "hair": "hair", "steam": "steam or smoke"}
_LEVEL_ORDER = {"warning": 0, "advice": 1, "ok": 2}
# After a missing region: the detector may have missed it; show what it found, paint the rest.
_SHOW_REGIONS = " (if it is there: --show-regions OUT.png shows what was found; paint where it is with --mask PNG)"
# Notice codes the coach reads: conflicts that are contradictions (not "too many moves" or "no face"),
# removals where the negative cancels what the prompt asked, unused motions a raw-prompt engine may render.
_CLASHES = {"move-conflict", "static-conflict", "element-conflict"}
_CANCELS = {"negative-drops-moves", "negative-drops-elements"}
_RAW_MOTION = {"portrait-motion", "unsupported-element"}


@dataclass
class _Photo:
    """The photo, and whether the engine renders the plan (what a suggestion may keep)."""

    have: set[str] | None  # natural elements present; None = unknown
    faces: int | None
    kind: str | None
    takes_plan: bool = True

    def keeps(self, c: _Clause) -> bool:
        """A clause a suggestion keeps: one the plan uses, or (raw-prompt engines) a motion it does not render."""
        return not c.unused or (not self.takes_plan and c.unsupported)

    def understands(self, plan: MotionPlan) -> bool:
        """Nothing in the plan unused (for raw-prompt engines: nothing but motions the engine may render)."""
        return not any(self.takes_plan or n.code not in _RAW_MOTION for n in plan.unused)

    @property
    def lacks(self) -> set[str]:
        """Regions the photo is known not to have."""
        out = set() if self.have is None else {r for r in _NATURAL if r not in self.have}
        if self.faces == 0 and (self.have is None or "hair" not in self.have):
            out.add("hair")
        return out


def _parse(text: str, negative: str, photo: _Photo) -> MotionPlan:
    # A stand-in face unless the photo has none, so "toward the face" is judged on the photo, not on a guess.
    return parse_prompt(text, negative, face=None if photo.faces == 0 else _ANY_FACE, subject=_CENTRE)


@dataclass
class _Clause:
    text: str  # as written (lower case, hyphens kept)
    plan: MotionPlan  # the clause parsed alone

    @property
    def moves(self) -> list[Move]:
        return moves_in(normalise(self.text))

    @property
    def elements(self) -> list[ElementMotion]:
        return [e for e in self.plan.elements if e.phrase != BACKGROUND_PHRASE]

    @property
    def unused(self) -> bool:
        return bool(self.plan.unused)

    @property
    def scene(self) -> bool:
        """Names things, moves nothing (and the parser says so, or it names an unsupported thing without a verb)."""
        return _has(self.plan.unused, "no-camera-motion") or (
            self.unused and not _MOTION_CUE.search(self.text) and not _has(self.plan.unused, "portrait-motion")
        )

    @property
    def unsupported(self) -> bool:
        return self.unused and not self.scene


def _has(notices: list[Notice], *codes: str) -> bool:
    return any(n.code in codes for n in notices)


def _split(prompt: str) -> list[str]:
    """The prompt's clauses, split as the parser splits them, with the user's words (and hyphens) kept."""
    return split_clauses(normalise(prompt, keep_hyphens=True))


# --------------------------------------------------------------------------------------------------
# Detections

# Words that make a clause about motion rather than about the scene ("waves" is a thing; "rolling" moves it).
_MOTION_CUE = re.compile(
    r"\b(?:mov(?:e|es|ed|ing)|motion|drift\w*|flow\w*|roll\w*|sway\w*|blow\w*|blew|ris(?:e|es|ing)|rose|"
    r"fall(?:s|ing)?|fell|ripp\w*|shimmer\w*|crash\w*|splash\w*|flutter\w*|waving|stream(?:s|ing)|billow\w*|"
    r"swirl\w*|danc\w*|rustl\w*|shift\w*|flicker\w*|puls\w*|glid\w*|spin\w*|turn\w*|curl\w*|cascad\w*|pour\w*|"
    r"lap(?:s|ping)|break(?:s|ing)|churn\w*|sweep\w*|rac(?:e|es|ing)|rush\w*|float\w*|bobb\w*|undulat\w*|"
    r"twinkl\w*|sparkl\w*|glisten\w*|animat\w*|drip\w*|crackl\w*|burn\w*|melt\w*|fl(?:y|ies|ying|ew)|flap\w*|trickl\w*|surg\w*|whirl\w*|wav(?:e|es)\s+(?:gently|softly|slowly))\b|"
    r"\b(?:slowly|gently|softly|quickly|rapidly|lazily|steadily|subtly)\b|"
    r"\bin\s+(?:the|a)\s+(?:\w+\s+)?(?:wind|breeze)\b|"
    r"\b(?:from|toward|towards)\s+(?:the\s+)?(?:left|right|top|bottom)\b|\b(?:up|down|left|right)wards?\b"
)
_VAGUE = re.compile(
    r"\b(?:make|let|get)\s+(?:it|this|them|the\s+\w+)\s+(?:move|moving|come\s+alive|look\s+\w+|pop|dynamic|cinematic|cool)\b|"
    r"\banimat\w*\b|\bbring\s+(?:it|this|them|the\s+\w+)\s+to\s+life\b|\badd\s+(?:some\s+|more\s+)?(?:motion|movement|animation|life|action)\b|"
    r"\b(?:cinematic|epic|dynamic|dramatic|awesome|amazing|cool|beautiful|stunning|gorgeous|realistic|masterpiece|"
    r"hd|4k|8k|uhd|motion|movement|moving|move|action|video|clip|smooth|nice|good|great|best|quality|high|ultra)\b"
)
_FILLER = {
    "a",
    "an",
    "the",
    "it",
    "this",
    "that",
    "them",
    "photo",
    "image",
    "picture",
    "pic",
    "please",
    "make",
    "with",
    "and",
    "of",
    "some",
    "very",
    "really",
    "more",
    "shot",
    "style",
    "look",
    "in",
    "to",
    "me",
    "my",
    "effect",
    "at",
    "on",
    "for",
    "so",
    "just",
    "like",
    "life",
    "bring",
    "add",
    "be",
    "is",
    "lots",
    "lot",
}
_FACE_TARGET = re.compile(
    r"\b(toward|towards|into|onto|on|to|at)\s+(?:the\s+|her\s+|his\s+|their\s+)?(?:face|faces|eyes|eye|head)\b"
)


def _is_vague(prompt: str) -> bool:
    """Nothing left once the hype words and filler are gone, or a single word."""
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    if len(words) <= 1:
        return True
    rest = [w for w in re.findall(r"[a-z0-9]+", _VAGUE.sub(" ", prompt.lower())) if w not in _FILLER]
    return not rest


def _contradictions(plan: MotionPlan, takes_plan: bool = True) -> list[str]:
    """The plan's real contradictions: clashing moves, the negative cancelling the prompt, elements pulled both ways.

    In the plan's words (which one it keeps) for an engine that takes the plan, else as the clauses that clash.
    """
    clashes = [c for c in plan.conflicts if c.code in _CLASHES]
    cancels = [r for r in plan.removed if r.code in _CANCELS]
    if takes_plan:
        out = [c.text for c in clashes] + [f"negative {r.text}" for r in cancels]
    else:
        out = [f"'{c.clause}' against '{c.other}'" for c in clashes]
        out += [f"the negative '{r.clause}' against '{r.other}'" for r in cancels]
    moving = [e for e in plan.elements if e.style in ("flow", "sway") and e.phrase != BACKGROUND_PHRASE]
    for i, a in enumerate(moving):
        for b in moving[i + 1 :]:
            # Flows in one region share the same pixels; everything that sways shares one wind.
            shared = (a.style == b.style == "sway") or (a.style == b.style == "flow" and a.region == b.region)
            if shared and a.direction[0] * b.direction[0] + a.direction[1] * b.direction[1] < -0.5:
                what = "the wind" if a.style == "sway" else f"the {a.region}"
                out.append(f"'{b.phrase}' ({b.element}) pulls {what} against '{a.phrase}' ({a.element})")
    return out


def _drop_contradictions(texts: list[str], negative: str, photo: _Photo) -> list[str]:
    """Drop later clauses, one at a time, while that removes a contradiction (the first stated wins, as in the plan)."""
    kept = list(texts)
    for i in reversed(range(len(kept))):
        now = len(_contradictions(_parse(", ".join(kept), negative, photo)))
        if now == 0:
            break
        trial = kept[:i] + kept[i + 1 :]
        if len(_contradictions(_parse(", ".join(trial), negative, photo))) < now:
            kept = trial
    return kept


def _missing(plan: MotionPlan, clauses: list[_Clause], photo: _Photo) -> tuple[list[str], set[str], bool]:
    """What the prompt moves that the photo lacks, the clauses that ask for it, and whether
    a region the detector did not find is among it (the user may paint it with --mask)."""
    lacks = photo.lacks
    out: list[str] = []
    bad: set[str] = set()
    unseen = False
    for e in plan.elements:
        if e.phrase == BACKGROUND_PHRASE or e.style == "relight" or e.region not in lacks:
            continue
        no_face = e.region == "hair" and photo.faces == 0
        unseen |= not no_face
        why = "the photo has no face" if no_face else f"the photo has no {_NATURAL[e.region]}"
        msg = f"'{e.phrase}' moves {e.element} but {why}"
        if msg not in out:
            out.append(msg)
    for c in clauses:
        if any(e.region in lacks and e.style != "relight" for e in c.elements):
            bad.add(c.text)
    if photo.faces == 0:
        if plan.portrait is not None:
            out.append(f"asks for portrait motion ({_portrait_words(plan)}) but the photo has no face")
            bad |= {c.text for c in clauses if c.plan.portrait is not None}
        if _has(plan.conflicts, "no-face"):
            out.append(f"aims the camera at the {plan.target_word} but the photo has no face")
    if plan.background_elements and photo.have is not None and not photo.have & {"sky", "water", "vegetation"}:
        out.append("asks for the background in motion but the photo has no sky, water or foliage")
        bad |= {c.text for c in clauses if c.plan.background_elements}
        unseen = True
    return out, bad, unseen


def _motions(plan: MotionPlan, stated_moves: list[Move], moving: list[ElementMotion]) -> list[str]:
    """Every simultaneous motion, named: camera moves, elements, portrait parts (blinks and breathing count as one)."""
    out = [m.value for m in stated_moves] + [e.element for e in moving]
    if plan.background_elements:
        out.append("the whole background")
    p = plan.portrait
    if p is not None:
        if p.blink or p.breathe:
            out.append(" and ".join(w for w, on in (("blinks", p.blink), ("breathing", p.breathe)) if on))
        if p.head:
            out.append(f"head {p.head}")
        if p.gaze:
            out.append("gaze")
        if p.smile:
            out.append("smile")
    return out


def _default_direction(e: ElementMotion) -> bool:
    """A flowing element (water, clouds, mist) whose direction no word chose: it takes the default (toward the right)."""
    return (
        e.style == "flow"
        and e.element in ("water", "clouds", "mist")
        and e.direction == (1.0, 0.0)
        and direction_of(e.phrase) is None
        and not (e.element == "water" and TOWARD_VIEWER.search(e.phrase))
    )


# --------------------------------------------------------------------------------------------------
# Fixes and suggestions

_PERSON = re.compile(
    r"\b(?:woman|women|man|men|girl|boy|person|people|child|children|kid|kids|baby|face|portrait|model|"
    r"couple|bride|groom|lady|guy|mother|father|daughter|son|friend|friends|selfie|she|he|her|his)\b"
)
_NOUNS = [
    (
        "water",
        re.compile(
            r"\b(?:beach|sea|seaside|ocean|lake|river|stream|waves?|water|pond|shore|coast|waterfall|bay|harbou?r|surf|creek)\b"
        ),
    ),
    ("sky", re.compile(r"\b(?:sky|skies|sunset|sunrise|clouds?|cloudy|dusk|dawn|horizon|skyline)\b")),
    (
        "vegetation",
        re.compile(
            r"\b(?:forest|woods|trees?|field|meadow|garden|grass|leaves|leaf|flowers?|park|jungle|wheat|plants?|foliage)\b"
        ),
    ),
    ("steam", re.compile(r"\b(?:coffee|tea|cup|mug|soup|latte|cocoa|kettle|steam|smoke|espresso|ramen)\b")),
]
_MOVE_PHRASE = {
    Move.push_in: "push-in",
    Move.pull_back: "pull back",
    Move.zoom_in: "zoom in",
    Move.zoom_out: "zoom out",
    Move.pan_left: "pan left",
    Move.pan_right: "pan right",
    Move.tilt_up: "tilt up",
    Move.tilt_down: "tilt down",
    Move.truck_left: "truck left",
    Move.truck_right: "truck right",
    Move.orbit_left: "orbit left",
    Move.orbit_right: "orbit right",
    Move.crane_up: "crane up",
    Move.crane_down: "crane down",
    Move.dolly_zoom_in: "dolly zoom",
    Move.dolly_zoom_out: "reverse dolly zoom",
    Move.roll_left: "camera roll counterclockwise",
    Move.roll_right: "camera roll clockwise",
}
"""How each camera move is written in a suggestion (after a speed word: 'slow pan left')."""
_ELEMENT_PHRASE = {
    "water": "waves rolling softly",
    "clouds": "clouds drifting slowly",
    "mist": "mist drifting slowly",
    "steam": "steam rising slowly",
    "foliage": "leaves swaying gently",
    "fabric": "fabric swaying gently",
    "hair": "hair swaying softly",
    "light": "light shifting slowly",
}
"""How each element is written in a suggestion, before its direction words."""
_CAMERA_START = re.compile(r"^(?:pan|tilt|zoom|push|pull|dolly|truck|track|tracking|orbit|arc|crane|boom|crab|ken)\b")
_VERB = re.compile(
    r"\b(?:drift\w*|roll\w*|flow\w*|mov(?:e|es|ing)|blow\w*|stream(?:s|ing)|rush\w*|rac(?:e|es|ing)|"
    r"glid\w*|float\w*|swirl\w*|crash\w*|shimmer\w*|churn\w*|surg\w*|sweep\w*|lap(?:s|ping)|break(?:s|ing))"
    r"(?:\s+(?:slowly|gently|softly|quickly|rapidly|lazily|steadily|subtly))?\b"
)
# "drifting left": the parser reads a direction only with "from/to/toward the", so a bare one is spelled out.
_BARE_SIDE = re.compile(r"(?<!from )(?<!to )(?<!the )(?<!toward )(?<!towards )\b(left|right)\b")


def _lint(code: str, level: str, message: str, suggestion: str | None) -> tuple[Lint, int]:
    return Lint(code, level, message, suggestion), PENALTIES[(code, level)]


def _quote(texts: list[str]) -> str:
    return ", ".join(f"'{t}'" for t in texts)


def _drop(clauses: list[_Clause], texts: list[str], photo: _Photo) -> list[str]:
    return [c.text for c in clauses if c.text not in texts and photo.keeps(c)]


def _clean(text: str, photo: _Photo) -> bool:
    """A prompt the parser understands in full: something to do, nothing unused, no contradiction."""
    plan = parse_prompt(text, face=_ANY_FACE, subject=_CENTRE)
    return bool(text.strip()) and photo.understands(plan) and not _contradictions(plan)


def _suggest(texts: list[str], fallback: str | None, photo: _Photo) -> str | None:
    """The clauses joined into one prompt, or the fallback when that would be empty or not fully understood."""
    text = ", ".join(t for t in texts if t)
    return text if text and _clean(text, photo) else fallback


def _same(a: str, b: str) -> bool:
    return _split(a) == _split(b)


def _add_speed(c: _Clause) -> str:
    """'pan left' → 'slow pan left'; 'the camera pans left' → 'the camera pans left slowly'."""
    if not c.moves or not any(cm.speed == "normal" for cm in c.plan.camera):
        return c.text
    return f"slow {c.text}" if _CAMERA_START.search(c.text) else f"{c.text} slowly"


def _add_direction(c: _Clause) -> str:
    """'waves rolling softly in the background' → 'waves rolling softly from the left in the background'.

    'From the left' is the default made explicit: the render does not change, the user sees what to change.
    """
    if c.moves or not any(_default_direction(e) for e in c.elements):
        return c.text  # a direction word next to a pan or orbit could be read as the camera's
    bare = _BARE_SIDE.search(c.text)
    if bare is not None:
        return f"{c.text[: bare.start()]}toward the {bare.group(1)}{c.text[bare.end() :]}"
    m = _VERB.search(c.text)
    if m is None:
        return f"{c.text} from the left"
    return f"{c.text[: m.end()]} from the left{c.text[m.end() :]}"


def _speed_word(plan: MotionPlan, move: Move) -> str:
    """How a suggestion says the move's speed: the prompt's own word, else 'slow' (gentle and normal read as slow)."""
    said = next((cm.speed for cm in plan.camera if cm.move == move), "slow")
    return said if said in ("very slow", "fast", "very fast") else "slow"


def _direction_words(e: ElementMotion) -> str:
    dx, dy = e.direction
    if e.style not in ("flow", "sway") or (dx, dy) == (0.0, 0.0):
        return ""
    if abs(dx) >= abs(dy):
        return " from the left" if dx > 0 else " from the right"
    if e.element == "steam" and dy < 0:
        return ""  # rising already says up
    return " upward" if dy < 0 else " downward"


def _trim(plan: MotionPlan, clauses: list[_Clause], stated_moves: list[Move], moving: list[ElementMotion]) -> list[str]:
    """One dominant motion and one secondary: the first camera move and the first element, as the user wrote them
    when a clause holds exactly that, else in the vocabulary's words."""
    parts: list[str] = []
    if stated_moves:
        first = stated_moves[0]
        own = next(
            (c for c in clauses if c.moves == [first] and not c.elements and c.plan.portrait is None and not c.unused),
            None,
        )
        parts.append(_add_speed(own) if own else f"{_speed_word(plan, first)} {_MOVE_PHRASE[first]}")
    if moving:
        e = moving[0]
        own = next(
            (
                c
                for c in clauses
                if [x.element for x in c.elements] == [e.element]
                and not c.moves
                and c.plan.portrait is None
                and not c.unused
            ),
            None,
        )
        if own is not None:
            parts.append(own.text)
        elif e.style == "ripple":
            parts.append("gentle ripples on the water")
        elif moves_in(e.phrase):
            # A clause shared with camera moves lends its "up" or "left" to the element: use the default instead.
            parts.append(_ELEMENT_PHRASE[e.element] + ("" if e.element == "steam" else " from the left"))
        else:
            parts.append(_ELEMENT_PHRASE[e.element] + _direction_words(e))
    if len(parts) < 2 and plan.portrait is not None:
        parts.append(_BLINKS)
    return parts


def _rewrite(
    clauses: list[_Clause], negative: str, photo: _Photo, content: str, missing_clauses: set[str]
) -> str | None:
    """Every fix in turn: drop what does nothing or contradicts, what the photo lacks, trim to two motions,
    then add a speed and a direction."""
    texts = [c.text for c in clauses if photo.keeps(c)]
    texts = _drop_contradictions(texts, negative, photo)
    texts = [t for t in texts if t not in missing_clauses]
    if photo.faces == 0:
        texts = [_FACE_TARGET.sub(r"\1 the subject", t) for t in texts]
    if not texts:
        return content
    sub = [_Clause(t, _parse(t, "", photo)) for t in texts]
    sub_plan = _parse(", ".join(texts), negative, photo)
    sub_moves: list[Move] = []
    for c in sub:
        sub_moves += [m for m in c.moves if m not in sub_moves]
    sub_moving = [e for e in sub_plan.elements if e.phrase != BACKGROUND_PHRASE]
    if len(_motions(sub_plan, sub_moves, sub_moving)) > MAX_MOTIONS:
        texts = _trim(sub_plan, sub, sub_moves, sub_moving)
        sub = [_Clause(t, _parse(t, "", photo)) for t in texts]
    if not photo.takes_plan:  # speeds and directions spelled out are the living engine's defaults made explicit
        return _suggest(texts, content, photo)
    texts = [_add_direction(_Clause(_add_speed(c), _parse(_add_speed(c), "", photo))) for c in sub]
    # A direction spelled out can reveal a contradiction the user meant ("clouds drifting left, mist drifting right").
    return _suggest(_drop_contradictions(texts, negative, photo), content, photo)


def _v(group: str, phrase: str) -> str:
    """A phrase of :data:`VOCABULARY` (checked, so suggestions only ever use the vocabulary)."""
    if phrase not in VOCABULARY[group]:
        raise KeyError(f"{phrase!r} is not in VOCABULARY[{group!r}]")
    return phrase


_PUSH = _v("camera", "slow push-in")
_HAIR_SEA = _v("hair", "hair gently blowing in a sea breeze")
_HAIR = _v("hair", "hair gently blowing in the breeze")
_WAVES_SOFT = _v("water", "waves rolling softly in the background")
_BLINKS = _v("portrait", "natural blinks, subtle breathing")
_FACE_PUSH = _v("portrait", "slow push-in toward the face, natural blinks, subtle breathing")
_BY_KIND = {
    "product": _v("subject", "slow orbit right around the product"),
    "architecture": _v("camera", "slow tilt up from the bottom to the top"),
    "crowd": _v("camera", "gentle pan from left to right"),
    "text": _v("camera", "very slow push-in"),  # motion costs legibility: the least of it
    "landscape": _v("camera", "slow camera pull back revealing the full environment"),
}
"""The suggestion when the photo offers nothing to set in motion: a camera move that suits its kind."""


def _content_suggestion(prompt: str, photo: _Photo) -> str:
    """A concrete prompt from the vocabulary, fitted to what the photo holds (or, unknown, what the prompt names).

    One dominant motion and at most one secondary, as the prompt-writing guides of the field advise.
    """
    text = prompt.lower()
    person = (photo.faces > 0) if photo.faces is not None else bool(_PERSON.search(text) or photo.kind == "portrait")
    mentioned = sorted(((m.start(), region) for region, pattern in _NOUNS if (m := pattern.search(text))))
    mentioned_regions = [r for _, r in mentioned]
    if photo.have is not None:
        available = [r for r in mentioned_regions if r in photo.have]
        available += [r for r in ("water", "sky", "vegetation", "steam") if r in photo.have and r not in available]
        hair = person and "hair" in photo.have
    else:
        available = mentioned_regions
        hair = person
    if person:
        if hair and "water" in available:
            return f"{_HAIR_SEA}, {_WAVES_SOFT}"
        if hair:
            return f"{_HAIR}, {_BLINKS}"
        if "water" in available:
            return f"{_BLINKS}, {_WAVES_SOFT}"
        return _FACE_PUSH
    phrases = [_element_phrase(region, text) for region in available[:2]]
    if len(phrases) == 1:
        phrases.append(_PUSH)
    if phrases:
        return ", ".join(phrases)
    return _BY_KIND.get(photo.kind or "general", _PUSH)


def _element_phrase(region: str, text: str) -> str:
    """The vocabulary phrase for one region, picked by the prompt's nouns (a river flows, a lake ripples)."""
    if region == "water":
        if re.search(r"\b(?:river|stream|creek)\b", text):
            return _v("water", "river flowing slowly from left to right")
        if re.search(r"\bwaterfall\b", text):
            return _v("water", "waterfall cascading down")
        if re.search(r"\b(?:lake|pond)\b", text):
            return _v("water", "gentle ripples on the water")
        return _v("water", "waves rolling in from the right")
    if region == "sky":
        return _v("sky", "clouds drifting slowly from left to right")
    if region == "vegetation":
        if re.search(r"\b(?:forest|woods|trees?)\b", text):
            return _v("foliage", "tree branches swaying gently in the wind")
        if re.search(r"\b(?:leaves|leaf)\b", text):
            return _v("foliage", "leaves rustling softly in the breeze")
        if re.search(r"\bflowers?\b", text):
            return _v("foliage", "flowers swaying softly in the breeze")
        return _v("foliage", "grass swaying gently in the wind")
    return _v("steam", "steam rising slowly from the cup")


def _portrait_words(plan: MotionPlan) -> str:
    return ", ".join(_motions(MotionPlan(portrait=plan.portrait), [], []))


def _describe(plan: MotionPlan, moving: list[ElementMotion]) -> str:
    """'2 motions: slow push-in, blinks'."""
    words = [
        f"{_speed_word(plan, cm.move) if cm.speed != 'normal' else ''} {cm.move.value}".strip() for cm in plan.camera
    ]
    words += _motions(plan, [], moving)
    if not words:
        return "a locked-off camera, nothing moves"
    still = "" if plan.camera else " (the camera holds still)"
    return f"{len(words)} motion{'s' if len(words) != 1 else ''}: {', '.join(words)}{still}"
