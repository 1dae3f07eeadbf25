"""The procedural toy world of toyworld.md v1: generator, judges, eval (and the training recipe)."""
