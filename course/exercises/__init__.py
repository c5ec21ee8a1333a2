"""Exercise definitions, one module per lesson: the visible checks, hints and solutions."""
