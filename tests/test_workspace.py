from course import workspace


def test_sync_copies_new_files_and_never_overwrites(tmp_path):
    release, mine = tmp_path / "release", tmp_path / "workspace"
    (release / "week1").mkdir(parents=True)
    (release / "week1" / "a.ipynb").write_text("course v1")
    (release / "week1" / "b.ipynb").write_text("course b")
    (release / ".ipynb_checkpoints").mkdir()
    (release / ".ipynb_checkpoints" / "junk.ipynb").write_text("x")

    first = workspace.sync(release, mine)
    assert sorted(str(p) for p in first.copied) == ["week1/a.ipynb", "week1/b.ipynb"]
    assert not (mine / ".ipynb_checkpoints").exists()

    (mine / "week1" / "a.ipynb").write_text("my answers")
    (release / "week1" / "a.ipynb").write_text("course v2")
    (release / "week1" / "c.ipynb").write_text("course c")
    second = workspace.sync(release, mine)
    assert [str(p) for p in second.copied] == ["week1/c.ipynb"]
    assert [str(p) for p in second.kept] == ["week1/a.ipynb"]
    assert (mine / "week1" / "a.ipynb").read_text() == "my answers"
    assert "left untouched" in second.summary()


def test_notebooks_of_a_renamed_lesson_are_kept_and_reported(tmp_path):
    """A lesson split in two: the learner's old notebook stays, the new ones arrive beside it."""
    release, mine = tmp_path / "release", tmp_path / "workspace"
    (release / "week1").mkdir(parents=True)
    (mine / "week1").mkdir(parents=True)
    (mine / "week1" / "02-old-lesson.ipynb").write_text("my answers")
    (release / "week1" / "02-new-part-one.ipynb").write_text("new")
    (release / "week1" / "03-new-part-two.ipynb").write_text("new")
    report = workspace.sync(release, mine)
    assert [str(p) for p in report.retired] == ["week1/02-old-lesson.ipynb"]
    assert (mine / "week1" / "02-old-lesson.ipynb").read_text() == "my answers"
    assert len(report.copied) == 2 and "an earlier version of the course" in report.summary()
