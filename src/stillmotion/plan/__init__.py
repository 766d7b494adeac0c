"""Plan: the prompt, the negative prompt and the options become a MotionPlan."""
