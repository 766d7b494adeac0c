"""Plan: the prompt, the negative prompt and the options become a MotionPlan.

- ``motion.py``: the vocabulary (camera moves, portrait micro-motion); engines import it.
- ``elements.py``: element motions (water, clouds, foliage …) of one clause.
- ``prompt.py``: the parser, :func:`~stillmotion.plan.prompt.parse_prompt` → ``MotionPlan``,
  with every clause accounted for by a coded ``Notice``.
- ``lint.py``: the coach, :func:`~stillmotion.plan.lint.lint_prompt`, which reads that plan.

Nothing here imports ``stillmotion.engines``.
"""
