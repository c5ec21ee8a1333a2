"""Coverage of the syllabus by lessons, exercises and questions."""
import pytest

from course import coverage, syllabus

WEEK1 = [*(c for c in syllabus.concepts() if c.startswith("D1.")), "S1.02", "S3.01", "S3.03", "S3.04", "S3.15"]
COVERAGE = coverage.compute()


@pytest.mark.parametrize("ident", WEEK1)
def test_week1_ids_have_a_section_and_an_exercise(ident):
    assert COVERAGE.sections.get(ident), f"{ident}: no lesson section is tagged with it"
    assert COVERAGE.exercises.get(ident), f"{ident}: no auto-graded exercise is tagged with it"


def test_tags_are_real_syllabus_ids():
    known = syllabus.all_ids()
    unknown = {i for table in (COVERAGE.sections, COVERAGE.exercises) for i in table} - known
    assert not unknown, f"unknown syllabus ids in lessons or exercises: {sorted(unknown)}"


def test_report_lists_every_id():
    text = coverage.report()
    for ident in syllabus.all_ids():
        assert ident in text
