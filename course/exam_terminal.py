"""``course exam`` and ``course quiz``: the exam engine in a terminal."""
from __future__ import annotations

import re
import signal
import sys
import textwrap

from course import exam, syllabus

HELP = ("Type a letter (or letters, e.g. 'AC') to answer · Enter or n: next · p: previous · "
        "g 12: go to question 12 · f: flag/unflag · l: list · s: submit · ?: this help")


def _highlight(code: str) -> str:
    if not sys.stdout.isatty():
        return code
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return code
    return highlight(code, PythonLexer(), TerminalFormatter()).rstrip("\n")


def render_stem(stem: str) -> str:
    """Markdown stem -> terminal text: code fences indented (and highlighted on a terminal)."""
    parts = re.split(r"```(?:python|py|sql)?\n(.*?)```", stem, flags=re.DOTALL)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(textwrap.indent(_highlight(part.rstrip("\n")), "    "))
        elif part.strip():
            for paragraph in re.split(r"\n\s*\n", part.strip()):
                lines = paragraph.split("\n")
                if any(re.match(r"\s*([-*]|\d+[.)])\s", line) for line in lines):
                    out.append("\n".join(textwrap.fill(line, 96) for line in lines))
                else:
                    out.append(textwrap.fill(" ".join(paragraph.split()), 96))
    return "\n\n".join(out)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "untimed"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d} left"


def show_question(session: exam.ExamSession, write=print) -> None:
    q = session.current
    flag = "  [flagged]" if q["id"] in session.flagged else ""
    topic = f" · {q['domain']}" if session.mode == "practice" else ""   # a mock exam names it in the review only
    write(f"\n── Question {session.position + 1} of {len(session.questions)}{topic} · "
          f"{clock(session.remaining())}{flag} " + "─" * 10)
    write(render_stem(q["stem"]))
    chosen = session.answers.get(q["id"], set())
    for index, (letter, option) in enumerate(zip(exam.letters(len(q["options"])), q["options"])):
        write(f"  {'●' if index in chosen else '○'} {letter}) {option}")
    if q["type"] == "multi":
        write(f"  (choose {q['choose']})")


def show_list(session: exam.ExamSession, write=print) -> None:
    cells = []
    for i, q in enumerate(session.questions):
        state = "✓" if q["id"] in session.answers else "·"
        state += "⚑" if q["id"] in session.flagged else " "
        cells.append(f"{i + 1:>2}{state}")
    for row in range(0, len(cells), 10):
        write("  ".join(cells[row:row + 10]))
    write(f"{len(session.answers)} answered, {len(session.unanswered())} unanswered, {len(session.flagged)} flagged")


def explain(q: dict, chosen: set[int], write=print) -> None:
    valid = exam.letters(len(q["options"]))
    key = ", ".join(valid[i] for i in sorted(q["answer"]))
    mine = ", ".join(valid[i] for i in sorted(chosen)) or "no answer"
    verdict = "correct" if exam.is_correct(q, chosen) else f"wrong (you chose {mine}; the key is {key})"
    write(f"{q['id']}: {verdict}")
    write(textwrap.fill(str(q["explanation"]["why"]).strip(), 96, initial_indent="  ", subsequent_indent="  "))
    for letter, line in zip(valid, q["explanation"]["options"]):
        write(textwrap.fill(f"{letter}) {line}", 96, initial_indent="    ", subsequent_indent="       "))
    write(f"  Reference: {q['reference']}")


def show_results(session: exam.ExamSession, review: str = "wrong", write=print) -> None:
    outcome = session.outcome
    names = {d: v["name"] for d, v in syllabus.domains().items()}
    names.update({s: v["name"] for s, v in syllabus.sections().items()})
    write("\n" + "═" * 60)
    if outcome.timed_out:
        write("Time is up: your answers were submitted.")
    write(f"Score: {outcome.score} / {len(outcome.questions)} ({outcome.percent:.0f}%) in "
          f"{int(outcome.seconds // 60)} min {int(outcome.seconds % 60)} s")
    if outcome.blueprint is not None:
        verdict = "PASS" if outcome.passed else "NOT YET"
        write(f"{verdict} against the {outcome.blueprint.pass_label}")
    for group_by in ("domain", "section"):
        write(f"\nBy {'seed domain' if group_by == 'domain' else 'official section'}:")
        for group, (right, asked) in outcome.by_group(group_by).items():
            share = right / asked
            write(f"  {group} {names.get(group, group)[:38]:<38} {right:>2}/{asked:<2} {'█' * round(share * 20):<20} {share:.0%}")
    if review != "none":
        shown = [(q, ok) for q, ok in zip(outcome.questions, outcome.correct) if review == "all" or not ok]
        if shown:
            write(f"\nReview ({'every question' if review == 'all' else 'questions to revisit'}):")
        for q, _ in shown:
            write("")
            explain(q, outcome.answers.get(q["id"], set()), write)


class _TimeUp(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeUp()


def run_exam(session: exam.ExamSession, read=input, write=print, review: str = "wrong") -> exam.Outcome:
    """Drive a session with text commands until it is submitted or the time runs out."""
    use_alarm = hasattr(signal, "SIGALRM") and session.minutes is not None and read is input
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
    write(f"{session.blueprint.title if session.blueprint else 'Practice'}: {len(session.questions)} questions, "
          f"{clock(session.remaining())}.")
    write(HELP)
    show_question(session, write)
    try:
        while session.outcome is None:
            if use_alarm:
                signal.alarm(max(1, int(session.remaining() or 1)))
            try:
                command = read("> ").strip()
            except EOFError:
                command = "s!"
            if session.expired():
                raise _TimeUp()
            if command in ("", "n"):
                session.go(session.position + 1)
            elif command == "p":
                session.go(session.position - 1)
            elif command.startswith("g") and command[1:].strip().isdigit():
                session.go(int(command[1:]) - 1)
            elif command == "f":
                write("flagged" if session.toggle_flag() else "unflagged")
                continue
            elif command == "l":
                show_list(session, write)
                continue
            elif command == "?":
                write(HELP)
                continue
            elif command in ("s", "s!"):
                missing = session.unanswered()
                if missing and command == "s":
                    write(f"{len(missing)} question(s) unanswered ({', '.join(str(i + 1) for i in missing[:10])}"
                          f"{'...' if len(missing) > 10 else ''}). Type s again to submit anyway.")
                    if read("> ").strip() != "s":
                        continue
                session.submit()
                break
            else:
                try:
                    chosen = exam.parse_choice(command, session.current)
                except ValueError as problem:
                    write(f"  {problem}")
                    continue
                session.answer(chosen)
                if session.mode == "practice":
                    exam.record_answer(session.current, chosen, session.mode)
                    explain(session.current, chosen, write)
                if session.position == len(session.questions) - 1:
                    write("That was the last question: s to submit, l to list, g N to revisit.")
                    continue
                session.go(session.position + 1)
            show_question(session, write)
    except (_TimeUp, TimeoutError):
        session.submit(timed_out=True)
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    show_results(session, review=review if session.mode == "exam" else "none", write=write)
    return session.outcome
