"""The study guide is generated from the lessons' tagged blocks, whole, and stays in sync."""
import re
import shutil
import sys
from types import SimpleNamespace
from urllib.parse import urlparse

import nbformat
import pytest

from course import coverage, study_guide, syllabus
from notebook_files import RELEASE, ROOT, SOURCE

LESSONS = coverage.lessons(SOURCE)
GUIDE = study_guide.build(SOURCE)
NOTEBOOK = study_guide.notebook(SOURCE)
MARKDOWN = [cell.source for cell in NOTEBOOK.cells if cell.cell_type == "markdown"]
ALLOWED_DOMAINS = ("databricks.com", "mlflow.org", "spark.apache.org")


def _markdown_cells(lesson):
    notebook = nbformat.read(SOURCE / lesson.path, as_version=4)
    return [c for c in notebook.cells if c.cell_type == "markdown"]


def _section(title: str, domain: str) -> str:
    """The notebook cell of one domain under the top-level section ``title``."""
    start = next(i for i, text in enumerate(MARKDOWN) if text.startswith(f"## {title}"))
    for text in MARKDOWN[start + 1:]:
        if text.startswith("## "):
            break
        if text.startswith(f"### {domain} "):
            return text
    raise AssertionError(f"no {domain} part under '{title}'")


def test_every_lesson_is_read():
    assert len(LESSONS) >= 20
    assert {lesson.id for lesson in GUIDE.lessons} == {lesson.id for lesson in LESSONS}
    assert not any(lesson.path.split("/")[-1].startswith("90-") for lesson in GUIDE.lessons)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_lesson_has_traps_comparisons_and_mistakes(lesson):
    cells = _markdown_cells(lesson)
    traps = [t for c in cells for t in study_guide.traps_of(c.source)]
    tables = [t for c in cells for t in study_guide.comparisons_of(c.source)]
    mistakes = [m for c in cells for m in study_guide.mistakes_of(c.source)]
    assert traps, f"{lesson.path}: no Exam traps box with bullets"
    assert tables, f"{lesson.path}: no table labelled **Compare: ...**"
    assert 3 <= len(mistakes) <= 5, f"{lesson.path}: {len(mistakes)} common mistakes, want 3 to 5"
    recap = cells[-1]
    assert study_guide.mistakes_of(recap.source) == mistakes, "the common mistakes belong in the recap cell"
    for cell in cells:
        if study_guide.MISTAKES_LABEL in cell.source or "**Compare:" in cell.source:
            assert "nbgrader" not in cell.metadata, f"{lesson.path}: a study-guide block in an nbgrader cell"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_every_trap_and_mistake_reaches_its_domain(lesson):
    cells = _markdown_cells(lesson)
    for kind, title, read in (("traps", "Exam traps", study_guide.traps_of),
                              ("mistakes", "Common mistakes", study_guide.mistakes_of)):
        wanted = [text for c in cells for text in read(c.source)]
        listed = getattr(GUIDE, kind)[lesson.domain]
        assert [p.text for p in listed if p.lesson.id == lesson.id] == wanted
        rendered = _section(title, lesson.domain)
        for text in wanted:
            assert f"* {text} ([{lesson.id} " in rendered, f"{lesson.id}: '{text[:40]}...' not under {lesson.domain}"
        for other in syllabus.domains():
            if other != lesson.domain and other in getattr(GUIDE, kind):
                assert f"[{lesson.id} " not in _section(title, other)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_every_comparison_appears_with_its_lesson(lesson):
    rendered = _section("Concepts compared", lesson.domain)
    for cell in _markdown_cells(lesson):
        for label, table in study_guide.comparisons_of(cell.source):
            block = f"#### {label}\n\nFrom [{lesson.id} {lesson.title}]({lesson.path})\n\n{table}"
            assert block in rendered, f"{lesson.id}: comparison '{label}' missing"


def test_lesson_links_point_at_notebooks_beside_the_guide():
    links = set(re.findall(r"\]\(([^)]+\.ipynb)\)", "\n".join(MARKDOWN)))
    assert links and all((SOURCE / link).exists() for link in links)


def test_block_parsers_need_the_exact_labels():
    box = '<div class="alert alert-warning">\n\n**Note**\n\n* not a trap\n</div>'
    assert study_guide.traps_of(box) == []
    traps = '<div class="alert alert-warning">\n\n**Exam traps**\n\n* one\n  continued\n* two\n</div>\n* after'
    assert study_guide.traps_of(traps) == ["one continued", "two"]
    assert study_guide.comparisons_of("**Compare: a vs b**\n\nSome words.\n\n| a | b |\n|---|---|") == []
    assert study_guide.comparisons_of("**Compare a vs b**\n\n| a | b |\n|---|---|") == []
    assert study_guide.comparisons_of("**Compare: a vs b**\n\n| a | b |\n|---|---|\n| 1 | 2 |\nafter") == \
        [("a vs b", "| a | b |\n|---|---|\n| 1 | 2 |")]
    recap = "## Recap\n\n* a recap point\n\n**Common mistakes**\n\n* first\n* second\n\nNext: lesson 2."
    assert study_guide.mistakes_of(recap) == ["first", "second"]


def test_a_lesson_without_its_blocks_is_a_clear_error(tmp_path):
    lesson = LESSONS[0]
    shutil.copytree(SOURCE / lesson.path.split("/")[0], tmp_path / lesson.path.split("/")[0])
    path = tmp_path / lesson.path
    notebook = nbformat.read(path, as_version=4)
    recap = [c for c in notebook.cells if c.cell_type == "markdown"][-1]
    recap.source = recap.source.replace(study_guide.MISTAKES_LABEL, "**Mistakes**")
    nbformat.write(notebook, path)
    with pytest.raises(study_guide.GuideError, match=re.escape(lesson.path) + ".*Common mistakes"):
        study_guide.build(tmp_path)


def test_objectives_list_the_lessons_that_teach_them():
    sections = coverage.sections(SOURCE)
    lesson_ids = {lesson.id for lesson in LESSONS}
    assert set(GUIDE.objective_lessons) == set(syllabus.objectives())
    for ident, taught in GUIDE.objective_lessons.items():
        assert [lesson.id for lesson in taught] == sorted({s.lesson for s in sections.get(ident, [])} & lesson_ids)
    resources = MARKDOWN[-1]
    assert all(f"| {ident} |" in resources for ident in syllabus.objectives())


def test_resources_are_https_vendor_pages_for_every_official_section():
    assert set(study_guide.RESOURCES) == set(syllabus.sections())
    every = [study_guide.EXAM_PAGE, *(r for listed in study_guide.RESOURCES.values() for r in listed)]
    for resource in every:
        url = urlparse(resource.url)
        assert url.scheme == "https", resource.url
        assert any(url.hostname == d or url.hostname.endswith("." + d) for d in ALLOWED_DOMAINS), resource.url
    assert all(study_guide.RESOURCES[s] for s in syllabus.sections())
    assert len({r.url for r in every}) == len(every), "a resource is listed twice"


def test_notebook_has_the_checklist_cell_and_the_exam_day_facts():
    code = [cell for cell in NOTEBOOK.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code] == [study_guide.CHECKLIST_CODE]
    assert not code[0].outputs and code[0].execution_count is None
    day = next(text for text in MARKDOWN if text.startswith("### On the day"))
    seed, official = syllabus.load()["seed_format"], syllabus.load()["official_format"]
    for fact in (f"{seed['minutes']} minutes", f"{seed['questions']} questions",
                 f"{official['questions']} scored questions", "No penalty"):
        assert fact in day
    nbformat.validate(NOTEBOOK)


def test_writing_the_notebook_is_deterministic(tmp_path):
    first = study_guide.write_notebook(tmp_path)
    assert first == tmp_path / "release" / study_guide.NAME
    content = first.read_bytes()
    assert study_guide.write_notebook(tmp_path).read_bytes() == content
    assert content.decode() == study_guide.text(SOURCE)


def test_a_release_root_is_read_from_its_own_source(tmp_path):
    lesson = LESSONS[0]
    shutil.copytree(SOURCE, tmp_path / "source")
    path = tmp_path / "source" / lesson.path
    notebook = nbformat.read(path, as_version=4)
    box = next(c for c in notebook.cells if c.cell_type == "markdown" and study_guide.TRAPS_BOX in c.source)
    label = f"{study_guide.TRAPS_LABEL}\n\n"
    box.source = box.source.replace(label, f"{label}* A trap only this copy has.\n", 1)
    nbformat.write(notebook, path)
    written = study_guide.write_notebook(tmp_path).read_text(encoding="utf-8")
    assert "A trap only this copy has." in written


def test_committed_guide_is_in_sync_with_the_lessons():
    """release/00-study-guide.ipynb (written by `make release`) equals the guide generated now."""
    committed = RELEASE / study_guide.NAME
    assert committed.exists(), "release/00-study-guide.ipynb is missing: run `make release`"
    assert committed.read_text(encoding="utf-8") == study_guide.text(SOURCE), \
        "release/00-study-guide.ipynb is out of date: run `make release`"


def _items():
    return [SimpleNamespace(text="Every lesson exercise solved", done=True, detail="85 of 85"),
            SimpleNamespace(text="Two mock exams <at 80%>", done=False, detail="1 so far")]


def test_html_is_self_contained_and_ticks_the_given_items():
    page = study_guide.html(_items(), folder=SOURCE)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    for external in ("<script", "<link", "<img", "src=", "@import", "url("):
        assert external not in page, f"the page loads something: {external}"
    for href in re.findall(r'href="([^"]+)"', page):
        assert href.startswith("https://"), href
    assert '<li class="done"><span class="box">&#9745;</span> Every lesson exercise solved' in page
    assert '<li class="todo"><span class="box">&#9744;</span> Two mock exams &lt;at 80%&gt;' in page
    assert "(1 so far)" in page
    assert "<table>" in page and "<h2>Exam traps</h2>" in page
    trap = GUIDE.traps["D3"][0]
    assert f"{trap.lesson.id} {trap.lesson.title}" in page


def test_html_without_a_progress_reader_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "course.progress_report", None)   # the import fails
    page = study_guide.html(folder=SOURCE)
    assert "<h2>Exam-day checklist</h2>" in page and "once the course can read your progress" in page
    assert 'class="checklist"' not in page


def test_html_reads_the_checklist_from_progress_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    page = study_guide.html(folder=SOURCE)
    assert '<ul class="checklist">' in page and 'class="todo"' in page


def test_write_html_never_overwrites_a_file_it_did_not_write(tmp_path):
    target = study_guide.write_html(tmp_path / "guide.html", items=_items())
    assert "&#9745;" in target.read_text(encoding="utf-8")
    study_guide.write_html(target, items=[])                            # its own page: replaced
    assert "&#9745;" not in target.read_text(encoding="utf-8")
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my notes</p>", encoding="utf-8")
    with pytest.raises(study_guide.GuideError, match="not a study guide"):
        study_guide.write_html(mine, items=[])
    assert mine.read_text(encoding="utf-8") == "<p>my notes</p>"
    with pytest.raises(study_guide.GuideError, match="folder"):
        study_guide.write_html(tmp_path, items=[])
    with pytest.raises(study_guide.GuideError, match="no folder"):
        study_guide.write_html(tmp_path / "missing" / "guide.html", items=[])


def test_start_page_links_the_guide():
    from autograde import start_page

    assert f"]({study_guide.NAME})" in start_page.text(ROOT)
