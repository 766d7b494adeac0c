"""Prompt → motion plan: the camera part of motion prompts as the field writes them.

The parser is rules, not a language model: the prompt is split into
clauses (at commas, semicolons, full stops, "and", "while", "then"); each
clause is matched against the camera vocabulary (push-in / dolly-in,
pull-back, zoom, pan, tilt, truck, orbit / arc, crane / boom, dolly zoom,
roll, static), speed words (slow, gentle, subtle … fast, dramatic) and a
target ("toward the face"). Every clause ends up somewhere the user can
see it: a camera move, a note (understood, nothing to do), or *unused*
with the reason. Conflicting moves are reported and the first one stated
wins. The negative prompt removes moves ("panning, zooming").

Each of those notes is a :class:`Notice` with a code from
:data:`NOTICE_CODES`, so a reader (the prompt coach) can act on the code
and never on the prose; ``explain()`` and the recipe show the text.

>>> plan = parse_prompt("gentle pan from left to right, subject stationary")
>>> [m.move.value for m in plan.camera]
['pan-right']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from .elements import BACKGROUND_PHRASE, ElementMotion, parse_elements
from .motion import CameraMove, Move, PortraitMotion

__all__ = [
    "CLAUSE_SPLIT",
    "MotionPlan",
    "NOTICE_CODES",
    "Notice",
    "moves_in",
    "normalise",
    "parse_prompt",
    "split_clauses",
]

MAX_MOVES = 3
"""More simultaneous camera moves than this read as chaos; extra ones are dropped (reported)."""

DEFAULT_MOVES = (Move.push_in, Move.orbit_right, Move.pan_right)
"""Used, in this order of preference, when the prompt names no camera move."""
DEFAULT_AMOUNT = 0.6

# (pattern, move). Order matters: longer, more specific phrases first.
_L, _R = r"(?:left|leftward|leftwards)", r"(?:right|rightward|rightwards)"
_CAMERA_PATTERNS: list[tuple[str, Move]] = [
    (r"\breverse\s+(?:dolly\s+zoom|vertigo)\b", Move.dolly_zoom_out),
    (r"\b(?:dolly|push)\s*zoom\b|\bvertigo\b|\bzolly\b|\bcontra\s*zoom\b", Move.dolly_zoom_in),
    (r"\b(?:pan(?:s|ning|ned)?)\b[^,]*?\bfrom\s+(?:the\s+)?left\s+to\s+(?:the\s+)?right\b", Move.pan_right),
    (r"\b(?:pan(?:s|ning|ned)?)\b[^,]*?\bfrom\s+(?:the\s+)?right\s+to\s+(?:the\s+)?left\b", Move.pan_left),
    (
        rf"\bpan(?:s|ning|ned)?\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:to\s+(?:the\s+)?)?{_L}",
        Move.pan_left,
    ),
    (
        rf"\bpan(?:s|ning|ned)?\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:to\s+(?:the\s+)?)?{_R}",
        Move.pan_right,
    ),
    (rf"\b{_L}\s+pan\b", Move.pan_left),
    (rf"\b{_R}\s+pan\b", Move.pan_right),
    (
        r"\btilt(?:s|ing|ed)?\b[^,]*?\bfrom\s+(?:the\s+)?(?:bottom|ground)\s+(?:up\s+)?to\s+(?:the\s+)?(?:top|sky)\b",
        Move.tilt_up,
    ),
    (
        r"\btilt(?:s|ing|ed)?\b[^,]*?\bfrom\s+(?:the\s+)?(?:top|sky)\s+to\s+(?:the\s+)?(?:bottom|ground)\b",
        Move.tilt_down,
    ),
    (r"\btilt(?:s|ing|ed)?\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:up|upward|upwards)\b", Move.tilt_up),
    (
        r"\btilt(?:s|ing|ed)?\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:down|downward|downwards)\b",
        Move.tilt_down,
    ),
    (r"\b(?:upward|up)\s+tilt\b", Move.tilt_up),
    (r"\b(?:downward|down)\s+tilt\b", Move.tilt_down),
    (
        rf"\b(?:truck|track|tracking|trucking|crab|crabbing|slide|sliding|dolly)(?:s|ing)?\s+(?:shot\s+)?(?:(?:slowly|gently)\s+)?(?:to\s+(?:the\s+)?)?{_L}",
        Move.truck_left,
    ),
    (
        rf"\b(?:truck|track|tracking|trucking|crab|crabbing|slide|sliding|dolly)(?:s|ing)?\s+(?:shot\s+)?(?:(?:slowly|gently)\s+)?(?:to\s+(?:the\s+)?)?{_R}",
        Move.truck_right,
    ),
    (rf"\b(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)\b[^,]*?\b{_L}\b", Move.orbit_left),
    (rf"\b(?:orbit|orbits|orbiting|arc|arcs|arcing|circle|circles|circling)\b[^,]*?\b{_R}\b", Move.orbit_right),
    (
        r"\b(?:orbit|orbits|orbiting|arc\s+shot|arcing|circling)\b|\bcircles?\s+around\b|\b360\b|\bparallax\s+(?:shot|effect|move)\b",
        Move.orbit_right,
    ),
    (
        r"\b(?:crane|boom|pedestal|jib)(?:s|ing)?\s+(?:shot\s+)?(?:(?:slowly|gently)\s+)?(?:up|upward|upwards|rising)\b|\b(?:camera|drone)\s+(?:slowly\s+)?(?:rises|rising|ascends|ascending)\b|\brising\s+(?:crane|camera|shot)\b",
        Move.crane_up,
    ),
    (
        r"\b(?:crane|boom|pedestal|jib)(?:s|ing)?\s+(?:shot\s+)?(?:(?:slowly|gently)\s+)?(?:down|downward|downwards|descending)\b|\b(?:camera|drone)\s+(?:slowly\s+)?(?:descends|descending|lowers|lowering)\b",
        Move.crane_down,
    ),
    (
        r"\b(?:zoom|zooms|zooming|zoomed)\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:in|into|toward|towards|closer)\b|\b(?:slow|gentle|subtle|fast|quick|crash|snap)?\s*zoom[\s-]?in\b",
        Move.zoom_in,
    ),
    (
        r"\b(?:zoom|zooms|zooming|zoomed)\s+(?:(?:slowly|gently|quickly|slightly|subtly)\s+)?(?:out|away|back)\b|\bzoom[\s-]?out\b",
        Move.zoom_out,
    ),
    (
        r"\b(?:push|pushes|pushing)\s*(?:-\s*)?(?:in|into|forward|toward|towards|closer)\b|\bpush[\s-]?in\b|\b(?:dolly|dollies|dollying)\s*(?:-\s*)?(?:in|into|forward|forwards|toward|towards|closer)\b|\bcamera\s+(?:slowly\s+|gently\s+)?(?:moves?|moving|glides?|gliding|drifts?|drifting|creeps?|creeping|travels?|travelling|traveling|approaches|approaching)\s+(?:slowly\s+|gently\s+)?(?:forward|forwards|in|closer|toward|towards)?\b|\bfly[\s-]?(?:in|through)\b|\bmove\s+(?:in\s+)?closer\b",
        Move.push_in,
    ),
    (
        r"\b(?:pull|pulls|pulling)\s*(?:-\s*)?(?:back|out|away)\b|\bpull[\s-]?back\b|\b(?:dolly|dollies|dollying)\s*(?:-\s*)?(?:out|back|backward|backwards|away)\b|\bcamera\s+(?:slowly\s+|gently\s+)?(?:moves?|moving|glides?|gliding|drifts?|drifting|retreats?|retreating)\s+(?:slowly\s+|gently\s+)?(?:back|backward|backwards|away)\b|\bfly[\s-]?(?:out|away)\b|\b(?:view|shot|frame)\s+widens\b|\bwide\s+reveal\b",
        Move.pull_back,
    ),
    (r"\b(?:dolly|dollying)\s+shot\b", Move.push_in),
    (
        rf"\b(?:camera\s+(?:roll|rolls|rolling|rotates|rotating|turns)|barrel\s+roll|dutch(?:\s+angle|\s+tilt)?|roll(?:s|ing)?\s+the\s+camera|rotat(?:e|es|ing)\s+the\s+(?:camera|frame))\b[^,]*?\b(?:counter[\s-]?clockwise|anti[\s-]?clockwise|{_L})\b",
        Move.roll_left,
    ),
    (
        rf"\b(?:camera\s+(?:roll|rolls|rolling|rotates|rotating|turns)|barrel\s+roll|dutch(?:\s+angle|\s+tilt)?|roll(?:s|ing)?\s+the\s+camera|rotat(?:e|es|ing)\s+the\s+(?:camera|frame))\b[^,]*?\b(?:clockwise|{_R})\b",
        Move.roll_right,
    ),
    (r"\bken\s+burns\b", Move.push_in),
]
_STATIC = re.compile(
    r"\bstatic\s+(?:camera|shot|frame|view)\b|\blocked[\s-]?off\b|\b(?:on\s+a\s+)?tripod\b|"
    r"\bcamera\s+(?:is\s+|stays\s+|remains\s+|holds\s+)?(?:still|static|fixed|steady|stationary|motionless)\b|"
    r"\bno\s+camera\s+(?:movement|motion|move)\b|\b(?:fixed|still|stationary)\s+camera\b|\bstill\s+shot\b"
)
_SPEED = [
    (
        re.compile(
            r"\b(?:very|extremely|super|ultra)\s+(?:slow|slowly|gentle|gently|subtle|subtly)\b|\bbarely\b|\bimperceptibl[ey]\b|\btiny\b"
        ),
        0.35,
        "very slow",
    ),
    (
        re.compile(r"\b(?:very|extremely|super)\s+(?:fast|quick|quickly|rapid|rapidly)\b|\bwhip\b|\bcrash\b|\bsnap\b"),
        2.2,
        "very fast",
    ),
    (
        re.compile(
            r"\b(?:slow|slowly|gentle|gently|subtle|subtly|soft|softly|slight|slightly|calm|calmly|leisurely|lazy|lazily|delicate|delicately|steady|steadily)\b"
        ),
        0.6,
        "slow",
    ),
    (
        re.compile(
            r"\b(?:fast|quick|quickly|rapid|rapidly|dramatic|dramatically|dynamic|swift|swiftly|energetic|aggressive|bold|sweeping|intense)\b"
        ),
        1.6,
        "fast",
    ),
]
_TARGET = re.compile(
    r"\b(?:toward|towards|into|onto|on|to|at|closer\s+to|focus(?:ing|ed)?\s+on|centered\s+on|centred\s+on)\s+"
    r"(?:the\s+|her\s+|his\s+|their\s+|its\s+|a\s+)?"
    r"(face|faces|eyes|eye|head|portrait|person|man|woman|girl|boy|child|kid|baby|subject|model|couple|people|"
    r"cat|dog|animal|bird|product|cup|mug|car|building|house|tower|flower|object|centre|center|horizon)\b"
)
_FACE_WORDS = {
    "face",
    "faces",
    "eyes",
    "eye",
    "head",
    "portrait",
    "person",
    "man",
    "woman",
    "girl",
    "boy",
    "child",
    "kid",
    "baby",
    "model",
    "couple",
    "people",
}
_LOOP = re.compile(r"\b(?:seamless(?:ly)?\s+loop(?:ing|ed|s)?|loop(?:ing|ed|able|s)?|cinemagraph|boomerang)\b")
_DOF = re.compile(
    r"\bshallow\s+depth\s+of\s+field\b|\bbokeh\b|\bblurr?(?:ed|y)?\s+background\b|\bsoft\s+background\b|\bbackground\s+(?:is\s+)?(?:blurred|soft|out\s+of\s+focus)\b"
)
# (pattern, notice code, words). "reveal" is understood even in a clause that moves the camera.
_UNDERSTOOD = [
    (
        re.compile(
            r"\bsubject\s+(?:is\s+|stays\s+|remains\s+|stands\s+)?(?:stationary|still|static|motionless|frozen|fixed)\b|\b(?:stationary|still|static|motionless)\s+subject\b"
        ),
        "subject-still",
        "subject stays still (the camera and any named elements move, not the subject)",
    ),
    (re.compile(r"\breveal(?:s|ing)?\b"), "reveal", "the move reveals more of the scene"),
    (
        re.compile(r"\bcinematic\b|\bsmooth(?:ly)?\b|\bfluid\b|\bstable\b|\bsteady\b|\bstabili[sz]ed\b"),
        "smooth-motion",
        "smooth, eased camera motion (always on)",
    ),
    (
        re.compile(r"\b(?:only|just)\s+(?:the\s+)?(?:foreground|elements?)\b"),
        "only-elements",
        "only the named elements move",
    ),
]
# Recognised but not planned (no engine that takes the plan renders them): elements such as
# particles and fire (_ELEMENTS) and portrait motion beyond blinks, breathing, head, gaze and a
# smile (_PORTRAIT). They are reported as unused, with their own codes.
_ELEMENTS = re.compile(
    r"\b(?:fire|flames?|candle\w*|snow\w*|rain\w*|raindrops|dust|particles|sparkl\w*|flicker\w*|embers|sparks)\b"
)
_PORTRAIT_ASKS = [
    ("blink", re.compile(r"\bblink\w*\b")),
    ("breathe", re.compile(r"\bbreath\w*\b|\bchest\s+(?:ris|mov)\w*|\binhal\w*|\bexhal\w*")),
    (
        "turn",
        re.compile(
            r"\bhead\s+turn\w*|\bturn\w*\s+(?:her|his|their|the)\s+head\b|\blooks?\s+(?:to|toward)\s+(?:the\s+)?side\b"
        ),
    ),
    (
        "tilt",
        re.compile(r"\bhead\s+tilt\w*|\btilt\w*\s+(?:her|his|their|the)\s+head\b|\bcock\w*\s+(?:her|his|the)\s+head\b"),
    ),
    ("nod", re.compile(r"\bnod\w*\b")),
    ("sway", re.compile(r"\bhead\s+(?:sway\w*|motion|movement|mov\w*)\b|\bsway\w*\s+(?:her|his|their|the)\s+head\b")),
    (
        "gaze",
        re.compile(
            r"\bgaze\b|\beyes?\s+(?:move\w*|moving|shift\w*|dart\w*|wander\w*)|\bglanc\w*|\blooks?\s+around\b|\bsaccad\w*"
        ),
    ),
    ("smile", re.compile(r"\bsmil\w*|\bexpression\s+(?:shift|change)\w*|\bsoft\s+expression\b|\bgrin\w*")),
    (
        "life",
        re.compile(
            r"\bportrait\b|\bcomes?\s+(?:to\s+)?(?:life|alive)\b|\bsubtle\s+(?:motion|movement|life)\b|\balive\b|\bmicro[\s-]?(?:motion|movement)s?\b|\bliving\s+photo\b"
        ),
    ),
]


def _portrait_asks(clause: str) -> set[str]:
    return {name for name, pattern in _PORTRAIT_ASKS if pattern.search(clause)}


_BACKGROUND = re.compile(
    r"\b(?:only|just)\s+(?:the\s+)?background\b|\bbackground\s+(?:elements?\s+)?(?:in\s+motion|moving|moves|alive|animated)\b|"
    r"\b(?:nature|scene|environment)\s+(?:comes?\s+)?(?:alive|in\s+motion|moving)\b|\bcinemagraph\b"
)
_PORTRAIT = re.compile(
    r"\b(?:talk\w*|speak\w*|wink\w*|laugh\w*|lips?\s+mov\w*|lip[\s-]?sync\w*|sing\w*|cry\w*|frown\w*)\b"
)
_NEGATIVE = [
    (re.compile(r"\bpan(?:s|ning|ned)?\b"), {Move.pan_left, Move.pan_right}, "pan"),
    (
        re.compile(r"\bzoom(?:s|ing|ed)?\b"),
        {Move.zoom_in, Move.zoom_out, Move.push_in, Move.pull_back, Move.dolly_zoom_in, Move.dolly_zoom_out},
        "zoom (and push/pull, which look alike)",
    ),
    (
        re.compile(r"\bdoll(?:y|ies|ying)\b|\bpush(?:ing)?\b|\bpull(?:ing)?\b"),
        {Move.push_in, Move.pull_back, Move.dolly_zoom_in, Move.dolly_zoom_out},
        "dolly",
    ),
    (re.compile(r"\btilt(?:s|ing|ed)?\b"), {Move.tilt_up, Move.tilt_down}, "tilt"),
    (
        re.compile(r"\borbit(?:s|ing)?\b|\barc(?:ing)?\b|\brotat\w*\b|\bspin\w*\b"),
        {Move.orbit_left, Move.orbit_right, Move.roll_left, Move.roll_right},
        "orbit/rotation",
    ),
    (re.compile(r"\broll(?:s|ing)?\b|\bdutch\b"), {Move.roll_left, Move.roll_right}, "roll"),
    (re.compile(r"\btruck\w*\b|\btracking\b|\bcrab\w*\b"), {Move.truck_left, Move.truck_right}, "truck"),
    (re.compile(r"\bcrane\w*\b|\bboom\w*\b"), {Move.crane_up, Move.crane_down}, "crane"),
    (
        re.compile(r"\bcamera\s+(?:movement|motion|moves?|moving)\b|\bmoving\s+camera\b|\bany\s+movement\b"),
        set(Move) - {Move.static},
        "camera movement",
    ),
]
_GROUPS = [
    {Move.push_in, Move.pull_back},
    {Move.zoom_in, Move.zoom_out},
    {Move.pan_left, Move.pan_right},
    {Move.tilt_up, Move.tilt_down},
    {Move.truck_left, Move.truck_right},
    {Move.orbit_left, Move.orbit_right},
    {Move.crane_up, Move.crane_down},
    {Move.dolly_zoom_in, Move.dolly_zoom_out, Move.push_in, Move.pull_back, Move.zoom_in, Move.zoom_out},
    {Move.roll_left, Move.roll_right},
]
CLAUSE_SPLIT = re.compile(r"[,;.!?\n]+|\s+(?:and|while|then|as|plus|whilst|&)\s+")
"""Where a prompt splits into clauses: punctuation, "and", "while", "then", "as", "plus"."""

NOTICE_CODES: dict[str, str] = {
    # understood: nothing to do, or done without a camera move
    "seamless-loop": "the clause asks for a seamless loop",
    "subject-still": "the subject stays still",
    "reveal": "the move reveals more of the scene",
    "smooth-motion": "smooth, eased motion (always on)",
    "only-elements": "only the named elements move",
    "sets-speed": "a bare speed word ('slowly')",
    "living-photo": "no camera move asked, elements or a portrait move: the camera holds still",
    "horizon": "'toward the horizon': framing keeps it where it is",
    "strength-zero": "motion strength 0: the camera holds still",
    # unused: the plan could not use the clause
    "no-camera-motion": "the clause describes the scene and moves nothing",
    "portrait-motion": "a portrait motion no plan renders (talking, laughing, winking)",
    "unsupported-element": "an element no plan animates (fire, snow, rain, particles)",
    "negative-unused": "a negative clause that names no motion the plan could add",
    # conflicts: how contradictions were resolved
    "move-conflict": "two camera moves on one axis: the first stated is kept",
    "static-conflict": "a static camera and a move: the first stated is kept",
    "element-conflict": "one element moved two ways: the first stated is kept",
    "too-many-moves": "more camera moves than MAX_MOVES: the extra ones are dropped",
    "no-face": "a move toward the face, but no face was found: it aims at the subject",
    # removed: what the negative prompt did
    "negative-drops-moves": "the negative prompt removes camera moves the prompt asked for",
    "negative-excludes-moves": "the negative prompt rules out moves none of which were planned",
    "negative-drops-elements": "the negative prompt freezes elements the prompt set in motion",
    "negative-freezes": "the negative prompt freezes elements none of which were moving",
    "never-added": "shake or flicker, which the plan never adds",
}
"""Every :attr:`Notice.code` the parser gives, with what it means (a closed set)."""


@dataclass(frozen=True)
class Notice:
    """One note of the parser about a clause: understood, unused, a conflict or a removal.

    Attributes:
        code: what happened, a key of :data:`NOTICE_CODES`; readers act on this.
        clause: the clause it is about (lower case, normalised), or ``""`` when it is
            about the whole prompt; a negative-prompt clause for removals.
        text: the note in plain words, as ``--explain`` and the recipe show it.
        other: for conflicts and removals, the clause it goes against (the prompt's
            clause a negative clause cancels), else ``""``.

    Raises:
        ValueError: ``code`` is not in :data:`NOTICE_CODES`.
    """

    code: str
    clause: str
    text: str
    other: str = ""

    def __post_init__(self) -> None:
        if self.code not in NOTICE_CODES:
            raise ValueError(f"unknown notice code {self.code!r}: use one of {', '.join(NOTICE_CODES)}")


@dataclass
class MotionPlan:
    """What the prompt asks for, decided from the prompt and the options.

    Engines that take the plan render it (the living engine renders all of
    it); engines that read the raw prompt ignore it.

    Attributes:
        camera: the camera moves, each with its amplitude and target
            (empty for a static camera).
        static: the prompt asked for a static camera.
        speed: the speed word that set the amplitude ("slow", "normal", …).
        loop: make a seamless loop.
        depth_of_field: apply a shallow depth of field around the subject.
        target_word: what "toward the …" named, if anything.
        understood: clauses understood that need no action, with how (:class:`Notice`).
        unused: clauses the plan could not use, with the reason (:class:`Notice`).
        conflicts: conflicting instructions and how they were resolved (:class:`Notice`).
        removed: what the negative prompt removed or froze (:class:`Notice`).
        defaulted: no camera move was asked for, the default was used.
        elements: element motions (water, clouds, foliage …), each with its
            style, direction, speed and region.
        background_elements: "only the background in motion": the engine
            animates every natural element it finds (sky, water, foliage).
        frozen_elements: elements the negative prompt keeps still.
        portrait: portrait micro-motion (blinks, breathing, head, gaze, smile), if asked.
    """

    camera: list[CameraMove] = field(default_factory=list)
    static: bool = False
    speed: str = "normal"
    loop: bool = False
    depth_of_field: bool = False
    target_word: str | None = None
    understood: list[Notice] = field(default_factory=list)
    unused: list[Notice] = field(default_factory=list)
    conflicts: list[Notice] = field(default_factory=list)
    removed: list[Notice] = field(default_factory=list)
    defaulted: bool = False
    elements: list[ElementMotion] = field(default_factory=list)
    background_elements: bool = False
    frozen_elements: set[str] = field(default_factory=set)
    portrait: PortraitMotion | None = None

    def explain(self) -> str:
        """The plan in plain words, one item per line (for ``--explain``)."""
        lines = []
        if not self.camera:
            lines.append("Camera: static (locked off)" + (" — asked for in the prompt" if self.static else ""))
        else:
            for cm in self.camera:
                target = f", aimed at the {self.target_word}" if self.target_word and cm.target else ""
                lines.append(f"Camera: {cm.move.words} — {self.speed} (amplitude ×{cm.amount:.2f}){target}")
            if self.defaulted:
                lines.append(
                    "  (no camera move in the prompt: a gentle default move; say 'static camera' to keep it still)"
                )
        for e in self.elements:
            lines.append(f"Element: {e.words()}")
        if self.background_elements:
            lines.append("Elements: every natural element found in the photo (sky, water, foliage) moves")
        if self.portrait is not None:
            lines.append(f"Portrait: {self.portrait.words()}")
        lines.append(
            "Timing: "
            + (
                "seamless loop, the last frame flows into the first"
                if self.loop
                else "eased start and stop, constant speed in between"
            )
        )
        if self.depth_of_field:
            lines.append("Lens: shallow depth of field, focus on the subject")
        for u in self.understood:
            lines.append(f"Understood: {u.text}")
        for r in self.removed:
            lines.append(f"Negative prompt: {r.text}")
        for c in self.conflicts:
            lines.append(f"Conflict: {c.text}")
        for u in self.unused:
            lines.append(f"Not used: {u.text}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-ready summary for the recipe."""
        return {
            "camera": [{"move": c.move.value, "amount": round(c.amount, 4), "target": c.target} for c in self.camera],
            "static": self.static,
            "speed": self.speed,
            "loop": self.loop,
            "depth_of_field": self.depth_of_field,
            "target_word": self.target_word,
            "understood": [n.text for n in self.understood],
            "unused": [n.text for n in self.unused],
            "conflicts": [n.text for n in self.conflicts],
            "removed": [n.text for n in self.removed],
            "defaulted": self.defaulted,
            "elements": [
                {
                    "element": e.element,
                    "style": e.style,
                    "direction": [round(e.direction[0], 4), round(e.direction[1], 4)],
                    "speed": round(e.speed, 4),
                    "region": e.region,
                    "phrase": e.phrase,
                }
                for e in self.elements
            ],
            "background_elements": self.background_elements,
            "frozen_elements": sorted(self.frozen_elements),
            "portrait": None
            if self.portrait is None
            else {
                "blink": self.portrait.blink,
                "breathe": self.portrait.breathe,
                "head": self.portrait.head,
                "gaze": self.portrait.gaze,
                "smile": self.portrait.smile,
                "strength": round(self.portrait.strength, 4),
            },
        }


def parse_prompt(
    prompt: str,
    negative_prompt: str = "",
    *,
    motion_strength: float = 0.5,
    duration: float = 5.0,
    loop: bool = False,
    subject: tuple[float, float] | None = None,
    face: tuple[float, float] | None = None,
) -> MotionPlan:
    """Turn a motion prompt into a :class:`MotionPlan` (camera part).

    Args:
        prompt: the motion prompt, free text.
        negative_prompt: motion to avoid ("camera shake, panning, zooming").
        motion_strength: 0..1; scales every amplitude (0.5 = normal, 0 = still).
        duration: clip length in seconds; longer clips travel a little farther
            (amplitude ∝ √(duration / 5 s)) so the speed stays plausible.
        loop: the ``--loop`` option (a "loop" in the prompt also sets it).
        subject: the salient subject as (x, y) fractions of the photo, for targets.
        face: the largest face as (x, y) fractions, for "toward the face".

    Returns:
        The plan; nothing in the prompt is dropped silently (see
        ``understood``, ``unused``, ``conflicts``, ``removed``).
    """
    plan = MotionPlan(loop=loop)
    text = normalise(prompt)
    found: list[tuple[Move, str, float, str]] = []  # move, clause, speed factor, speed word
    clauses = split_clauses(text)
    global_speed = _speed_of(text)
    portrait_asks: set[str] = set()
    portrait_gentle = False
    static_clause = ""
    for clause in clauses:
        used = False
        if _STATIC.search(clause):
            plan.static = True
            static_clause = static_clause or clause
            used = True
        moves_here = moves_in(clause)
        speed = _speed_of(clause) or global_speed or (1.0, "normal")
        for mv in moves_here:
            found.append((mv, clause, speed[0], speed[1]))
            used = True
        if _LOOP.search(clause):
            if not plan.loop:
                plan.understood.append(Notice("seamless-loop", clause, f"'{clause}': seamless loop"))
            plan.loop = True
            used = True
        if _DOF.search(clause):
            plan.depth_of_field = True
            used = True
        m = _TARGET.search(clause)
        if m and moves_here:
            plan.target_word = m.group(1)
        for e in parse_elements(clause, motion_strength=motion_strength):
            same = next((x for x in plan.elements if x.element == e.element), None)
            if same is None:
                plan.elements.append(e)
            elif same.direction != e.direction or same.style != e.style:
                plan.conflicts.append(
                    Notice(
                        "element-conflict",
                        clause,
                        f"'{clause}' moves {e.element} again: keeping '{same.phrase}', the first stated",
                        same.phrase,
                    )
                )
            used = True
        if _BACKGROUND.search(clause):
            plan.background_elements = True
            used = True
        asks = _portrait_asks(clause)
        if asks:
            portrait_asks |= asks
            said = _speed_of(clause)
            if said is not None and said[0] < 1.0:
                portrait_gentle = True
            used = True
        for pattern, code, words in _UNDERSTOOD:
            if pattern.search(clause) and (not used or code == "reveal"):
                plan.understood.append(Notice(code, clause, f"'{clause}': {words}"))
                used = True
                break
        if not used:
            if _PORTRAIT.search(clause):
                plan.unused.append(
                    Notice(
                        "portrait-motion",
                        clause,
                        f"'{clause}': this portrait motion "
                        "(talking, laughing, winking) is not rendered by this version",
                    )
                )
            elif _ELEMENTS.search(clause):
                plan.unused.append(
                    Notice(
                        "unsupported-element",
                        clause,
                        f"'{clause}': this element (fire, snow, rain, particles) is not animated by this version",
                    )
                )
            elif _speed_of(clause) and len(clause.split()) <= 2:
                plan.understood.append(Notice("sets-speed", clause, f"'{clause}': sets the speed"))
            else:
                plan.unused.append(
                    Notice(
                        "no-camera-motion",
                        clause,
                        f"'{clause}': no camera motion in it (describe how things move, not the scene)",
                    )
                )

    if portrait_asks:
        generic = "life" in portrait_asks
        head = next((h for h in ("turn", "tilt", "nod", "sway") if h in portrait_asks), "sway" if generic else None)
        plan.portrait = PortraitMotion(
            blink=generic or "blink" in portrait_asks,
            breathe=generic or "breathe" in portrait_asks,
            head=head,
            gaze="gaze" in portrait_asks,
            smile="smile" in portrait_asks,
            strength=min(2.0, 2.0 * float(motion_strength) * (0.7 if portrait_gentle else 1.0)),
        )

    if plan.background_elements:
        # "Only the background in motion": every natural element the photo has
        # (the engine skips those it does not find).
        for element, style, region in (
            ("clouds", "flow", "sky"),
            ("water", "flow", "water"),
            ("foliage", "sway", "vegetation"),
        ):
            if not any(e.element == element for e in plan.elements):
                plan.elements.append(
                    ElementMotion(
                        element, style, (1.0, 0.0), 0.6 * 2.0 * float(motion_strength), BACKGROUND_PHRASE, region
                    )
                )

    # Conflicts: a static camera and a move; opposite moves on one axis.
    chosen: list[tuple[Move, str, float, str]] = []
    for item in found:
        mv, clause = item[0], item[1]
        clash = next((c for c in chosen if _clash(c[0], mv)), None)
        if clash is not None:
            if clash[0] != mv:
                plan.conflicts.append(
                    Notice(
                        "move-conflict",
                        clause,
                        f"'{clause}' ({mv.value}) contradicts '{clash[1]}' ({clash[0].value}): "
                        f"keeping {clash[0].value}, the first stated",
                        clash[1],
                    )
                )
            continue
        chosen.append(item)
    if plan.static and chosen:
        first_move, first_clause = chosen[0][0], chosen[0][1]
        static_first = _first_index(text, _STATIC) < text.find(first_clause)
        kept = "the static camera" if static_first else first_move.value
        plan.conflicts.append(
            Notice(
                "static-conflict",
                static_clause,
                f"'static camera' contradicts '{first_clause}' ({first_move.value}): keeping {kept}, the first stated",
                first_clause,
            )
        )
        if static_first:
            chosen = []
        else:
            plan.static = False
    if len(chosen) > MAX_MOVES:
        dropped = ", ".join(c[0].value for c in chosen[MAX_MOVES:])
        plan.conflicts.append(
            Notice(
                "too-many-moves", "", f"more than {MAX_MOVES} camera moves at once reads as chaos: dropped {dropped}"
            )
        )
        chosen = chosen[:MAX_MOVES]

    # Negative prompt removes moves.
    excluded: set[Move] = set()
    for clause in split_clauses(normalise(negative_prompt)):
        hit = False
        for pattern, moves, name in _NEGATIVE:
            if pattern.search(clause):
                hit = True
                excluded |= moves
                gone = [c for c in chosen if c[0] in moves]
                chosen = [c for c in chosen if c[0] not in moves]
                if gone:
                    plan.removed.append(
                        Notice(
                            "negative-drops-moves",
                            clause,
                            f"'{clause}' removes {name}: dropped {', '.join(g[0].value for g in gone)}",
                            ", ".join(dict.fromkeys(g[1] for g in gone)),
                        )
                    )
                else:
                    plan.removed.append(
                        Notice("negative-excludes-moves", clause, f"'{clause}' removes {name} (none planned)")
                    )
                if name == "camera movement":
                    plan.static = True
        negated = {e.element for e in parse_elements(clause)}
        if negated:
            hit = True
            stilled = [e for e in plan.elements if e.element in negated]
            plan.elements = [e for e in plan.elements if e.element not in negated]
            plan.frozen_elements |= negated
            plan.removed.append(
                Notice(
                    "negative-drops-elements" if stilled else "negative-freezes",
                    clause,
                    f"'{clause}' freezes {', '.join(sorted(negated))}"
                    + (f": dropped {', '.join(e.element for e in stilled)} motion" if stilled else ""),
                    ", ".join(dict.fromkeys(e.phrase for e in stilled)),
                )
            )
        if not hit:
            if re.search(r"\bshak\w*|\bjitter\w*|\bwobbl\w*|\bjerk\w*|\bhandheld\b|\bflicker\w*|\bshimmer\w*", clause):
                plan.removed.append(
                    Notice("never-added", clause, f"'{clause}': the living engine never adds shake or flicker")
                )
            else:
                plan.unused.append(
                    Notice(
                        "negative-unused",
                        clause,
                        f"negative '{clause}': not a camera motion the living engine could add",
                    )
                )

    # Speed word for the explanation: that of the first move.
    strength = 2.0 * float(motion_strength)
    duration_factor = math.sqrt(max(1.0, min(30.0, duration)) / 5.0)
    if not chosen and not found and not plan.static and (plan.elements or plan.background_elements or plan.portrait):
        plan.understood.append(
            Notice(
                "living-photo",
                "",
                "no camera move asked: the camera holds still, so the elements read as a living photo",
            )
        )
    elif not chosen and not found and not plan.static:
        # Nothing asked: a gentle move the negative prompt allows, else none.
        default = next((m for m in DEFAULT_MOVES if m not in excluded), None)
        if default is not None:
            chosen = [(default, "", DEFAULT_AMOUNT, "gentle")]
            plan.defaulted = True
    if chosen:
        plan.speed = chosen[0][3]
    target = None
    if plan.target_word:
        if plan.target_word in _FACE_WORDS and face is not None:
            target = face
        elif plan.target_word in ("centre", "center"):
            target = (0.5, 0.5)
        elif plan.target_word == "horizon":
            target = None
            plan.understood.append(Notice("horizon", "horizon", "'horizon': framing keeps the horizon where it is"))
        else:
            target = subject
            if plan.target_word in _FACE_WORDS:
                plan.conflicts.append(
                    Notice(
                        "no-face",
                        "",
                        f"asked to move toward the {plan.target_word}, "
                        "but no face was found: aiming at the main subject",
                    )
                )
    elif plan.defaulted:
        target = face or subject
    for mv, _clause, factor, word in chosen:
        amount = min(3.0, factor * strength * duration_factor)
        aims = mv in (Move.push_in, Move.zoom_in, Move.dolly_zoom_in, Move.dolly_zoom_out)
        plan.camera.append(CameraMove(mv, amount, target if aims else None, speed=word))
    if motion_strength == 0 and plan.camera:
        plan.understood.append(Notice("strength-zero", "", "motion strength 0: the camera holds still"))
        plan.camera = [replace(c, amount=0.0) for c in plan.camera]
    return plan


def normalise(text: str, *, keep_hyphens: bool = False) -> str:
    """A prompt as the parser reads it: lower case, plain quotes and dashes, single spaces.

    ``keep_hyphens=False`` (the parser's reading) turns ``push-in`` into ``push in``;
    ``True`` keeps the user's words as written (for quoting them back).

    >>> normalise("Slow  Push-in — Black and White")
    'slow push in - monochrome'
    """
    text = text.lower().replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\bblack[\s-]+and[\s-]+white\b", "monochrome", text)  # not two clauses
    if not keep_hyphens:
        text = re.sub(r"(?<=\w)-(?=\w)", " ", text)  # push-in → push in, dolly-out → dolly out
    return re.sub(r"\s+", " ", text).strip()


def split_clauses(text: str) -> list[str]:
    """The clauses of a normalised prompt (see :data:`CLAUSE_SPLIT`), stripped, none empty.

    >>> split_clauses("slow pan left and waves rolling, subject still")
    ['slow pan left', 'waves rolling', 'subject still']
    """
    return [c.strip() for c in CLAUSE_SPLIT.split(text) if c and c.strip()]


def moves_in(clause: str) -> list[Move]:
    """The camera moves named in a normalised clause, in the order they appear (a phrase counts once).

    >>> [m.value for m in moves_in("slow pan left then tilt up")]
    ['pan-left', 'tilt-up']
    """
    hits: list[tuple[int, Move]] = []
    taken: list[tuple[int, int]] = []
    for pattern, move in _CAMERA_PATTERNS:
        for m in re.finditer(pattern, clause):
            start, end = m.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            hits.append((start, move))
    out: list[Move] = []
    for _, mv in sorted(hits, key=lambda h: h[0]):
        if mv not in out:
            out.append(mv)
    return out


def _speed_of(text: str) -> tuple[float, str] | None:
    for pattern, factor, word in _SPEED:
        if pattern.search(text):
            return factor, word
    return None


def _clash(a: Move, b: Move) -> bool:
    if a == b:
        return True
    return any(a in g and b in g for g in _GROUPS)


def _first_index(text: str, pattern: re.Pattern) -> int:
    m = pattern.search(text)
    return m.start() if m else -1
