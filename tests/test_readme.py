"""The README's table of lessons lists every lesson notebook, with its number of exercises."""
import re

import nbformat

from notebook_files import ROOT, source_notebooks

ROW = re.compile(r"^\| (\d) \| (\d\d) [^|]+\| (\d+) \|$", re.MULTILINE)


def _lessons() -> dict[tuple[str, str], int]:
    """(week, number) -> graded exercises, for every lesson notebook (quizzes excluded)."""
    found = {}
    for path in source_notebooks():
        notebook = nbformat.read(path, as_version=4)
        lesson = notebook.metadata.get("course", {}).get("lesson", "")
        match = re.fullmatch(r"w(\d)-(\d\d)", lesson)
        if match and "questions" not in notebook.metadata["course"]:
            found[match.groups()] = sum(1 for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))
    return found


def test_readme_lists_every_lesson_with_its_exercise_count():
    listed = {(week, number): int(count) for week, number, count in ROW.findall((ROOT / "README.md").read_text())}
    lessons = _lessons()
    assert lessons, "no lesson notebooks found"
    assert listed == lessons, (f"README's lesson table differs from source/: missing {sorted(set(lessons) - set(listed))}, "
                               f"extra {sorted(set(listed) - set(lessons))}, counts "
                               f"{ {k: (listed[k], lessons[k]) for k in set(listed) & set(lessons) if listed[k] != lessons[k]} }")
