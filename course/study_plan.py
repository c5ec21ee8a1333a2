"""Study plans and the next step: ``course plan``.

Three plans, each a list of steps over the course's lessons, review quizzes and mock exams:

- ``three-week``: the study guide's path for a learner new to Spark ML and MLflow; week 1 is
  domain D1, week 2 domains D2 and D3, week 3 domains D4 and D5, each week closed by its review
  quiz, then two mock exams.
- ``fast-track``: for a learner who already uses Spark and MLflow: the lessons on what only
  Databricks and the exam add (the platform, AutoML, the feature store, the Unity Catalog
  registry, deployment, the MLOps workflow, monitoring) and the exam's counting and metric
  traps; the other lessons only where the week's review quiz shows a gap.
- ``last-week``: the seven days before the exam: mock exams, weak spots, the study guide.

``next_steps`` reads where the learner stands (``course.progress_report.summarize``) and says
what to do next: the plan's next unfinished lesson, the weakest concept when one lags behind, or
a mock exam when the lessons are done.
"""
from __future__ import annotations

from dataclasses import dataclass

from course import coverage, exam, progress_report, syllabus

PLANS = ("three-week", "fast-track", "last-week")

# Lessons a Spark and MLflow user still needs: Databricks products, the registry the Unity Catalog
# way, deployment and operations, and the exam's counting and metric traps.
FAST_TRACK = ("w1-01", "w2-03", "w2-04", "w2-05", "w2-07", "w3-02", "w3-03", "w3-04", "w3-05",
              "w3-06", "w3-07", "w3-08")


@dataclass(frozen=True)
class Step:
    when: str             # "Week 1", "Day 3", ...
    what: str             # what to do
    lesson: str | None = None   # lesson id, when the step is a lesson
    path: str | None = None     # the notebook, relative to the workspace


def _lesson_step(when: str, lesson: coverage.Lesson) -> Step:
    return Step(when, f"{lesson.id} {lesson.title}", lesson.id, lesson.path)


def _quiz_path(week: int) -> str:
    folder = {1: "week1-ml-fundamentals", 2: "week2-training-evaluation", 3: "week3-mlops"}[week]
    return f"{folder}/90-week{week}-review-quiz.ipynb"


def plan(name: str = "three-week") -> list[Step]:
    if name not in PLANS:
        raise ValueError(f"unknown plan {name!r}: choose one of {', '.join(PLANS)}")
    lessons = coverage.lessons()
    domains = syllabus.domains()
    steps: list[Step] = []
    if name == "three-week":
        for week in (1, 2, 3):
            week_lessons = [lesson for lesson in lessons if lesson.week == week]
            covered = sorted({lesson.domain for lesson in week_lessons})
            topic = " and ".join(f"{d} {domains[d]['name']}" for d in covered)
            when = f"Week {week} ({topic})"
            steps += [_lesson_step(when, lesson) for lesson in week_lessons]
            steps.append(Step(when, f"the week {week} review quiz", path=_quiz_path(week)))
        steps += [Step("End of week 3", "a timed mock exam (`course exam --seed 1`), then its review"),
                  Step("End of week 3", "`course quiz --weak`, then a second mock exam (`--seed 2`)")]
    elif name == "fast-track":
        for week in (1, 2, 3):
            steps.append(Step(f"Days {2 * week - 1}-{2 * week}",
                              f"the week {week} review quiz first: open a skipped lesson only where it shows a gap",
                              path=_quiz_path(week)))
            steps += [_lesson_step(f"Days {2 * week - 1}-{2 * week}", lesson)
                      for lesson in lessons if lesson.week == week and lesson.id in FAST_TRACK]
        steps += [Step("Day 7", "a timed mock exam (`course exam --seed 1`), its review and `course quiz --weak`")]
    else:
        steps = [
            Step("Day 1", "a timed mock exam, official blueprint (`course exam --seed 1`); read every explanation"),
            Step("Day 2", "your weak spots: `course progress`, then `course quiz --weak --count 20`"),
            Step("Day 3", "the study guide's exam traps and concept comparisons (00-study-guide.ipynb)"),
            Step("Day 4", "a second mock exam, study-guide blueprint (`course exam --blueprint seed --seed 2`)"),
            Step("Day 5", "the lessons behind your remaining weak spots (links in `course progress`)"),
            Step("Day 6", "a third mock exam (`course exam --seed 3`): aim for 80% or more"),
            Step("Day 7", "rest; the study guide's exam-day checklist"),
        ]
    return steps


def _unused_seed(summary: progress_report.Summary, blueprint: str = "official-2025") -> int:
    used = {m.seed for m in summary.mocks if m.blueprint == blueprint}
    return next(s for s in range(1, exam.disjoint_seeds(blueprint) + 10) if s not in used)


def next_steps(summary: progress_report.Summary | None = None, name: str = "three-week") -> list[str]:
    """What to do next, most important first (one to three lines)."""
    summary = summary or progress_report.summarize()
    steps = plan(name)
    by_id = {lesson.id: lesson for lesson in summary.lessons}
    todo = [s for s in steps if s.lesson and not summary.lesson_done(by_id[s.lesson])]
    advice = []
    weakest = next((w for w in summary.weak if "." in w.ident and not w.ident[0].isdigit()), None)
    if weakest and summary.answered >= 20:
        where = f" (then {weakest.section.lesson} \u00a7 {weakest.section.heading})" if weakest.section else ""
        flag = "--objective" if weakest.ident.startswith("S") else "--concept"
        advice.append(f"Your weakest spot is {weakest.ident}, {weakest.about} ({weakest.reason}): "
                      f"`course quiz {flag} {weakest.ident}`{where}.")
    if todo and name != "last-week":
        first = todo[0]
        started = summary.lesson_started(by_id[first.lesson])
        advice.insert(0 if not advice or started else 1,
                      f"{'Finish' if started else 'Next lesson'}: {first.what} ({first.path}).")
    else:
        official = summary.readiness["official-2025"]
        seed = _unused_seed(summary)
        if official.enough and official.low >= official.blueprint.pass_percent:
            advice.insert(0, f"You look ready: confirm with a mock exam you have not taken (`course exam --seed {seed}`); "
                             "the checklist in the study guide shows what is left.")
        else:
            advice.insert(0, f"Take a timed mock exam (`course exam --seed {seed}`) and read its review.")
    return advice[:3]


def text(summary: progress_report.Summary | None = None, name: str = "three-week") -> str:
    """The plan with its lessons ticked ([x] every exercise solved, [~] some), then the next steps."""
    summary = summary or progress_report.summarize()
    by_id = {lesson.id: lesson for lesson in summary.lessons}
    lines = [f"Study plan: {name}", ""]
    when = None
    for step in plan(name):
        if step.when != when:
            lines.append(step.when)
            when = step.when
        if not step.lesson:
            lines.append(f"      {step.what}" + (f"  ({step.path})" if step.path else ""))
            continue
        lesson = by_id[step.lesson]
        listed = summary.exercises_by_lesson.get(lesson.stem, [])
        solved = sum(e in summary.solved for e in listed)
        mark = "[x]" if summary.lesson_done(lesson) else ("[~]" if solved else "[ ]")
        lines.append(f"  {mark} {step.what}" + (f"  ({solved} of {len(listed)} exercises)" if 0 < solved < len(listed) else ""))
    lines += ["", "Next:"] + [f"  - {line}" for line in next_steps(summary, name)]
    return "\n".join(lines)
