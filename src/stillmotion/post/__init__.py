"""Finish: interpolation, upscaling, loops, merging, sound and output formats.

Each step reads a clip, writes ``-o OUT`` atomically and carries the input's
recipe forward with its own step appended (``recipe["finish"]``). Steps
stream frame by frame unless they truly need the whole clip (merge with
transitions, some loop modes), and say so.
"""
