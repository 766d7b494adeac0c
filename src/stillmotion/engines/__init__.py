"""Render: engines turn a Scene and a MotionPlan into frames."""
