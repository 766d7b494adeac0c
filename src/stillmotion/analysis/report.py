"""The analysis report: :class:`Report`, its :class:`Check` lines, their vocabulary and the JSON Schema."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plan.lint import PromptReport

__all__ = ["CHECK_NAMES", "Check", "ELEMENTS", "ENGINE", "GRADES", "KINDS", "LEVELS", "REPORT_SCHEMA", "Report"]

LEVELS = ("ok", "advice", "warning", "unusable")
"""Check levels, from fine to fatal."""
CHECK_NAMES = ("resolution", "aspect", "sharpness", "exposure", "noise", "compression", "saturation", "depth")
"""The checks of a report, in report order."""
KINDS = ("portrait", "landscape", "product", "architecture", "crowd", "text", "general")
"""Kinds of photo the analysis tells apart."""
GRADES = ("Excellent", "Very good", "Good", "Difficult", "Poor")
"""Expected results, best first."""
ELEMENTS = ("sky", "water", "vegetation", "hair", "steam")
"""Natural elements a report lists (the element regions of :mod:`stillmotion.scene.regions` that can move)."""
ENGINE = "living"
"""The engine a report recommends: classical, offline, fast, and the one the prompts are written for."""


@dataclass
class Check:
    """One line of a report.

    Attributes:
        name: one of :data:`CHECK_NAMES`.
        level: one of :data:`LEVELS`.
        value: the measured value behind the line (a number, or text such as ``"4000×3000"``).
        unit: the value's unit (``"px"``, ``"%"``, ``"×"``, ``"/255"`` or ``""``).
        message: one plain line for a photographer: what was measured and what to do.
    """

    name: str
    level: str
    value: float | str
    unit: str
    message: str

    def __post_init__(self) -> None:
        if self.name not in CHECK_NAMES:
            raise ValueError(f"Check.name must be one of {', '.join(CHECK_NAMES)}, got {self.name!r}")
        if self.level not in LEVELS:
            raise ValueError(f"Check.level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if not isinstance(self.value, str):
            self.value = float(self.value)  # a plain float (not numpy's) for JSON


@dataclass
class Report:
    """What :func:`analyze_photo` found, and what it suggests.

    Attributes:
        path: the photo's path (``""`` for an array).
        width, height: the photo's size in pixels.
        checks: one :class:`Check` per name in :data:`CHECK_NAMES`, in that order.
        kind: one of :data:`KINDS`.
        kind_reason: why, in plain words.
        expected: one of :data:`GRADES`: how well the photo should animate.
        faces: number of faces found.
        elements: natural elements found, among sky, water, vegetation, hair, steam.
        recommendations: motion prompts suited to this photo, best first.
        engine: the engine to use ("living").
        duration_s: recommended clip length in seconds.
        timings_s: seconds spent per stage ("load", "scene", "kind", "checks", "recommend", "total").
        regions: share of the frame of every region kind the Scene looked for (the mean of
            its soft mask, in [0, 1]; see :func:`stillmotion.scene.overlay.region_shares`),
            in :data:`ELEMENTS` order; a kind is an element from ``THRESHOLDS.element_min_share``.
        regions_method: how the region masks were made, in words (``Scene.regions_method``:
            the classical cues or the learned scene parser).
    """

    path: str
    width: int
    height: int
    checks: list[Check]
    kind: str
    kind_reason: str
    expected: str
    faces: int
    elements: list[str]
    recommendations: list[str]
    engine: str = ENGINE
    duration_s: float = 5.0
    timings_s: dict[str, float] = field(default_factory=dict)
    regions: dict[str, float] = field(default_factory=dict)
    regions_method: str = ""
    prompt: PromptReport | None = None
    """Prompt coaching (:func:`stillmotion.plan.lint.lint_prompt`) when a prompt was given."""

    @property
    def usable(self) -> bool:
        """False when any check is "unusable"."""
        return all(c.level != "unusable" for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name`` (one of :data:`CHECK_NAMES`).

        Raises:
            KeyError: no check has that name.
        """
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; checks are {', '.join(CHECK_NAMES)}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that validates against :data:`REPORT_SCHEMA`."""
        d = asdict(self)
        d["prompt"] = None if self.prompt is None else self.prompt.to_dict()
        d["usable"] = self.usable
        d["timings_s"] = {k: round(float(v), 4) for k, v in self.timings_s.items()}
        d["regions"] = {k: round(float(v), 4) for k, v in self.regions.items()}
        return d

    def regions_line(self) -> str:
        """The regions found, with their share of the frame and the method, in one line
        (what ``analyze`` prints and ``animate --explain`` repeats), e.g.
        ``Elements that can move (classical colour and texture cues): sky 36%, vegetation 27%, water 8%;
        not found: hair, steam``.
        """
        found = sorted(self.elements, key=lambda k: -self.regions.get(k, 0.0))
        seen = ", ".join(f"{k} {self.regions[k]:.0%}" if k in self.regions else k for k in found) or "none found"
        missing = [k for k in ELEMENTS if k not in self.elements]
        method = f" ({self.regions_method})" if self.regions_method else ""
        return f"Elements that can move{method}: {seen}" + (f"; not found: {', '.join(missing)}" if missing else "")

    def summary(self) -> str:
        """The report in plain words, one item per line (what ``stillmotion analyze`` prints)."""
        name = Path(self.path).name if self.path else "photo"
        lines = [f"{name}: {self.width}×{self.height}, {self.kind}, expected result: {self.expected}"]
        lines.append(f"Why: {self.kind_reason}")
        if not self.usable:
            lines.append("Not usable as it is: fix the unusable items below first")
        for c in self.checks:
            lines.append(f"{c.level.upper() if c.level != 'ok' else 'ok':8s} {c.name}: {c.message}")
        lines.append(f"Faces: {self.faces}")
        lines.append(self.regions_line())
        lines.append(f"Recommended: engine {self.engine}, {self.duration_s:g} s")
        for p in self.recommendations:
            lines.append(f'Try: "{p}"')
        if self.prompt is not None:
            lines.append(f'Prompt: "{self.prompt.prompt}" ({self.prompt.score}/100)')
            lines.extend("  " + line for line in self.prompt.summary().splitlines())
        return "\n".join(lines)


_CHECK_SCHEMA = {
    "type": "object",
    "required": ["name", "level", "value", "unit", "message"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "enum": list(CHECK_NAMES)},
        "level": {"type": "string", "enum": list(LEVELS)},
        "value": {"type": ["number", "string"]},
        "unit": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
    },
}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://stillmotion.invalid/schemas/analysis-report.json",
    "title": "stillmotion photo analysis report",
    "description": "Report.to_dict(): checks of a source photo, its kind, the expected result and motion prompts.",
    "type": "object",
    "required": [
        "path",
        "width",
        "height",
        "checks",
        "kind",
        "kind_reason",
        "expected",
        "faces",
        "elements",
        "recommendations",
        "engine",
        "duration_s",
        "timings_s",
        "regions",
        "regions_method",
        "usable",
        "prompt",
    ],
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string"},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "checks": {"type": "array", "items": _CHECK_SCHEMA, "minItems": len(CHECK_NAMES), "maxItems": len(CHECK_NAMES)},
        "kind": {"type": "string", "enum": list(KINDS)},
        "kind_reason": {"type": "string", "minLength": 1},
        "expected": {"type": "string", "enum": list(GRADES)},
        "faces": {"type": "integer", "minimum": 0},
        "elements": {"type": "array", "items": {"type": "string", "enum": list(ELEMENTS)}},
        "recommendations": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "engine": {"type": "string"},
        "duration_s": {"type": "number", "minimum": 1, "maximum": 30},
        "timings_s": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "regions": {
            "type": "object",
            "properties": {k: {"type": "number", "minimum": 0, "maximum": 1} for k in ELEMENTS},
            "additionalProperties": False,
        },
        "regions_method": {"type": "string"},
        "usable": {"type": "boolean"},
        "prompt": {
            "type": ["object", "null"],
            "required": ["prompt", "lints", "rewrite", "score"],
            "properties": {
                "prompt": {"type": "string"},
                "lints": {"type": "array", "items": {"type": "object", "required": ["code", "level", "message"]}},
                "rewrite": {"type": ["string", "null"]},
                "score": {"type": "integer", "minimum": 0, "maximum": 100},
            },
        },
    },
}
"""JSON Schema (draft 2020-12) of :meth:`Report.to_dict`."""
