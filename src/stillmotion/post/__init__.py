"""Finish: interpolation, upscaling, loops, merging, sound and output formats.

Each step reads a clip, writes ``-o OUT`` atomically and carries the input's
recipe forward with its own step appended (``recipe["finish"]``, see
:mod:`stillmotion.recipe`). Steps stream frame by frame (uint8 H×W×3 RGB)
unless they truly need the whole clip (merge with transitions, some loop
modes), and say so.

Layout
    ``interpolate.py``  higher frame rates by optical-flow interpolation
    ``upscale.py``      ×2 / ×4, classical or learned (spandrel)
    ``loop.py``         crossfade, pingpong or seamless loops
    ``merge.py``        join clips, with cuts, crossfades or fades
    ``audio.py``        lay a sound file under a clip
    ``formats.py``      export to mp4, h265, webm, webp, gif or PNG frames
    ``_io.py``          open a clip, read its recipe, write a step's clip (shared by all steps)
    ``_encode.py``      the video encoders (shared by formats and audio)

Imports run one way: the steps import ``_io`` and ``_encode``, ``formats``
imports ``audio``; nothing imports back.
"""
