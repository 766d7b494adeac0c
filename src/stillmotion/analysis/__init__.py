"""Analyze: judge a photo before generating, in words a photographer uses.

:func:`analyze_photo` loads the photo (or takes a loaded
:class:`~stillmotion.image.Still`), builds a :class:`~stillmotion.scene.Scene`
(or reuses the caller's, so faces, depth and regions are computed once and
shared with a following animate) and returns a :class:`Report`:

1. **Checks**, each a :class:`Check` with a level (``ok``, ``advice``,
   ``warning``, ``unusable``), the measured value and one plain line:
   resolution, aspect, sharpness of the subject, exposure, noise, JPEG
   compression, saturation / heavy filters, depth cues.
2. **Kind** of photo from the Scene's layers and classical image rules
   (portrait, crowd, landscape, product, architecture, text, general), with
   the reason, and the **expected result** of animating it (the seeds'
   table: landscape with sky or water → Excellent, portrait with a clear
   face → Very good, product → Very good, architecture → Good, crowd →
   Difficult, text-heavy graphic → Poor, anything else → Good), one step
   lower for each warning (at most two), Poor when a check is unusable.
3. **Recommendations**: motion prompts built from what was found ("clouds
   drifting slowly to the left, gentle waves on the water, slow push-in"),
   each one the prompt parser (:func:`stillmotion.plan.prompt.parse_prompt`)
   understands in full, with the engine and a clip length.

Pixel checks run on the Scene's working copy (long side at most
:data:`~stillmotion.scene.DEPTH_SIDE`, 1024 px: the size of the video, where
softness and grain show), except JPEG blockiness, which is measured at full
resolution on a few crops (downscaling erases the 8×8 grid). Every
threshold is a field of :data:`THRESHOLDS` (a frozen :class:`Thresholds`,
each field with its unit).

The package: :mod:`.report` (:class:`Report`, :class:`Check`, their
vocabulary and :data:`REPORT_SCHEMA`), :mod:`.checks` (the eight checks),
:mod:`.kind` (kind and expected result), :mod:`.recommend` (prompts and clip
length), :mod:`.thresholds`, and :mod:`.photo` (:func:`analyze_photo`, the
pipeline that calls them in order).

>>> report = analyze_photo("photo.jpg")  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
photo.jpg: 4000×3000, landscape, expected result: Excellent
...

Limits: rules, not a learned aesthetic model. The subject of a photo
without a face is taken to be the salient, near area (spectral-residual
saliency and the Scene's depth); the kind rules rely on the Scene's region
masks and Haar faces, with their limits (a studio backdrop can read as sky,
a dark night sky as water).
"""

from __future__ import annotations

from .photo import analyze_photo
from .report import CHECK_NAMES, GRADES, KINDS, LEVELS, REPORT_SCHEMA, Check, Report
from .thresholds import THRESHOLDS, Thresholds

__all__ = [
    "CHECK_NAMES",
    "Check",
    "GRADES",
    "KINDS",
    "LEVELS",
    "REPORT_SCHEMA",
    "Report",
    "THRESHOLDS",
    "Thresholds",
    "analyze_photo",
]
