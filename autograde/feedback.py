"""Feedback for students that never shows the hidden tests: ``autograde feedback ASSIGNMENT``.

nbgrader's own ``generate_feedback`` renders the autograded notebooks as they are, and an
autograded notebook holds every graded cell's full source, hidden tests included (nbgrader issue
#917), plus IPython tracebacks that quote the failing lines. This module runs the same converter
(nbgrader's ``GenerateFeedback``, so the files land where ``nbgrader release_feedback`` and
``fetch_feedback`` expect them: ``feedback/<student>/<assignment>/<notebook>.html``, with the
submission's ``timestamp.txt``) with two changes:

* ``WithoutHiddenTests`` removes every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
  region, replaces each error's traceback by its one line ``ename: evalue``, and scrubs from
  every other output any line that repeats a line of a hidden test (a warning printed to stderr
  quotes its source line too);
* it writes under each graded cell its verdict: points, passed or failed, and why it failed
  (``AssertionError: <the test's message>``, ``KernelDied: ...``, ``HooksTampered: ...``,
  ``SandboxLimit: ...``, ``CellTimeoutError: ...``).

Scores come from the class gradebook (nbgrader's ``GetGrades``); a submission the gradebook does
not hold yet is scored from the executed notebook with ``nbgrader.utils.determine_grade``.

What it does NOT protect against: a hidden test's message (the ``evalue``) is shown, so a message
that spells out the key gives it away; what the tests print while passing (text that repeats no
line of the test) stays; files the notebook wrote next to itself are not copied.
"""
from __future__ import annotations

import glob
import html
import os
import re
import shutil
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.converters import GenerateFeedback, NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import List

from autograde.gradebook import class_db_url
from autograde.nbgrader_run import NbgraderError, course_config

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
# A scrubbed output line must be at least this long to count as "a line of a hidden test", so a
# hidden line such as `)` does not blank out the student's own outputs.
MIN_HIDDEN_LINE = 8
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
SCRUBBED = "[a line of a hidden test was removed]"


def hidden_regions_removed(source: str) -> tuple[str, list[str]]:
    """``source`` without its hidden-test regions (delimiter lines included), and the removed lines."""
    kept, hidden, inside = [], [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            inside = True
            hidden.append(line)
        elif END_HIDDEN in line:
            inside = False
            hidden.append(line)
        elif inside:
            hidden.append(line)
        else:
            kept.append(line)
    return "\n".join(kept), hidden


def error_line(output) -> str:
    """``ename: evalue`` of an error output: its first line, no ANSI colours, never a traceback."""
    ename = output.get("ename") or "Error"
    lines = _ANSI.sub("", output.get("evalue") or "").strip().splitlines()
    if not lines:
        return f"{ename}: a hidden test failed" if ename == "AssertionError" else ename
    first = lines[0].strip()
    return f"{ename}: {first[:297] + '...' if len(first) > 300 else first}"


def why_failed(cell) -> str:
    """Why a graded cell without full points lost them, in one line."""
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        return error_line(errors[0])
    if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs):
        return "the cell wrote to stderr, which nbgrader counts as a failure"
    if cell.get("execution_count") is None and not outputs:
        return "the cell did not run"
    return "no points for this cell"


class GradesFromGradebookOrNotebook(GetGrades):
    """nbgrader's GetGrades (score and max of each graded cell, from the class gradebook); for a
    submission the gradebook does not hold, the scores nbgrader would give the executed cells."""

    def preprocess(self, nb, resources):
        try:
            return super().preprocess(nb, resources)
        except MissingEntry:
            self.log.warning("%s/%s is not in the gradebook: scoring the executed notebook itself",
                             resources["nbgrader"]["student"], resources["nbgrader"]["notebook"])
        score = max_score = 0.0
        for cell in nb.cells:
            if utils.is_grade(cell):
                points, most = utils.determine_grade(cell, self.log)
                cell.metadata.nbgrader["score"] = points
                cell.metadata.nbgrader["points"] = most
                score += points or 0.0
                max_score += most
        resources["nbgrader"].update(score=score, max_score=max_score, late_penalty=0)
        return nb, resources


class WithoutHiddenTests(NbGraderPreprocessor):
    """Removes hidden tests and tracebacks; adds each graded cell's verdict (see the module)."""

    display_data_priority = GetGrades.display_data_priority  # configurable there too: no warning

    def preprocess(self, nb, resources):
        hidden: set[str] = set()
        for cell in nb.cells:
            cell.source, removed = hidden_regions_removed(cell.source)
            hidden.update(line.strip() for line in removed if len(line.strip()) >= MIN_HIDDEN_LINE)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.outputs = [self._cleaned(output, hidden) for output in cell.outputs]
            if utils.is_grade(cell):
                cell.outputs.append(self._verdict(cell))
        return nb, resources

    @staticmethod
    def _cleaned(output, hidden: set[str]):
        if output.get("output_type") == "error":
            output["traceback"] = [error_line(output)]
            return output
        if output.get("output_type") == "stream":
            output["text"] = _scrubbed(output.get("text", ""), hidden)
        for mime, value in (output.get("data") or {}).items():
            if isinstance(value, str) and (mime.startswith("text/") or mime == "application/json"):
                output["data"][mime] = _scrubbed(value, hidden)
        return output

    @staticmethod
    def _verdict(cell):
        from nbformat.v4 import new_output

        meta = cell.metadata.nbgrader
        score, points = float(meta.get("score") or 0.0), float(meta.get("points") or 0.0)
        passed = score >= points
        text = (f"Passed: {score:g} / {points:g} points" if passed
                else f"Failed: {score:g} / {points:g} points. {why_failed(cell)}")
        colour = "#1e7b34" if passed else "#b3261e"
        box = (f'<div class="feedback-verdict {"passed" if passed else "failed"}" style="border-left: 4px solid '
               f'{colour}; padding: 0.3em 0.6em; margin: 0.3em 0; color: {colour};">{html.escape(text)}</div>')
        return new_output("display_data", data={"text/html": box, "text/plain": text})


def _scrubbed(text: str, hidden: set[str]) -> str:
    if not hidden:
        return text
    return "\n".join(SCRUBBED if _ANSI.sub("", line).strip() in hidden else line for line in text.split("\n"))


class SafeFeedback(GenerateFeedback):
    """nbgrader's GenerateFeedback with the preprocessors above; of the other files of the
    autograded folder it copies only ``timestamp.txt`` (what ``release_feedback`` reads)."""

    preprocessors = List([GradesFromGradebookOrNotebook, WithoutHiddenTests, CSSHTMLHeaderPreprocessor])

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        source = Path(self._format_source(assignment_id, student_id))
        dest = Path(self._format_dest(assignment_id, student_id))
        dest.mkdir(parents=True, exist_ok=True)
        if (source / "timestamp.txt").is_file():
            shutil.copyfile(source / "timestamp.txt", dest / "timestamp.txt")


def generate(course_root: Path, assignment: str, student: str = "*") -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for every autograded notebook of
    ``assignment`` (of one student, or all with ``"*"``); returns the files written. Raises
    NbgraderError when nothing is autograded yet or a notebook could not be converted."""
    course_root = Path(course_root).resolve()
    config = course_config(course_root)
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = student
    config.CourseDirectory.db_url = class_db_url(course_root)
    config.GenerateFeedback.force = True
    coursedir = CourseDirectory(config=config)
    converter = SafeFeedback(coursedir=coursedir, config=config)
    try:
        converter.start()
    except NbGraderException as failure:
        raise NbgraderError(f"feedback for {assignment} failed: {failure}") from None
    written = []
    autograded = coursedir.format_path(coursedir.autograded_directory, student, assignment)
    for notebook in sorted(map(Path, glob.glob(os.path.join(autograded, "*.ipynb")))):
        student_id = notebook.parent.parent.name
        html_file = Path(coursedir.format_path(coursedir.feedback_directory, student_id, assignment),
                         notebook.stem + ".html")
        if html_file.is_file():
            written.append(html_file)
    return written
