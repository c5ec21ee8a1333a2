"""The README's table of lessons lists every lesson notebook, with its number of exercises; its
Databricks section names only functions, modules and environment variables the code has."""
import importlib
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


DATABRICKS_SECTION = "## Taking the course to Databricks"


def _resolve(dotted: str):
    """The object a dotted name such as ``course.spark.get_spark`` names: the longest importable
    module prefix, then attributes. Raises ImportError or AttributeError when it does not exist."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


def test_databricks_section_names_only_what_the_code_has():
    readme = (ROOT / "README.md").read_text()
    assert DATABRICKS_SECTION in readme, "README has no section on taking the course to Databricks"
    start = readme.index(DATABRICKS_SECTION)
    end = readme.find("\n## ", start + len(DATABRICKS_SECTION))
    section = readme[start:end if end != -1 else None]
    assert "| | on your machine | on Databricks |" in section, "the section lost its comparison table"
    spans = re.findall(r"`([^`]+)`", section)

    dotted = sorted({name for span in spans for name in re.findall(r"\bcourse(?:\.\w+)+", span)})
    bare = sorted({name for span in spans for name in re.findall(r"(?<![\w.])([a-z]\w*_\w*)(?:\(|$)", span)})
    variables = sorted({name for span in spans for name in re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", span)})
    assert dotted and bare and variables, "the section names no course function, bare name or variable"

    missing, modules = [], []
    for name in dotted:
        try:
            obj = _resolve(name)
        except (ImportError, AttributeError):
            missing.append(name)
            continue
        modules.append(obj if type(obj).__name__ == "module" else importlib.import_module(obj.__module__))
    missing += [name for name in bare if not any(hasattr(module, name) for module in modules)]
    source = "".join(path.read_text() for path in (ROOT / "course").rglob("*.py"))
    missing += [name for name in variables if name not in source]
    assert not missing, f"README's Databricks section names what the code does not have: {missing}"
