"""nbgrader configuration for the course (instructors: `nbgrader --help`, or `autograde --help`)."""
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "ml-associate"
c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Grading output stays out of git (see .gitignore).
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Student versions carry no header and no outputs. Every answer cell opens with a scaffold outside
# its solution region (`by_room = ...  # what to define`), so the solution leaves no stub:
# an untouched `...` already counts as not attempted.
c.ClearSolutions.code_stub = {"python": ""}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Submissions are untrusted: each kernel runs in a sandbox (its own folder and the course runtime
# only; no network; CPU and memory caps), a guard keeps a notebook from switching its tests off,
# and a cell that kills the kernel costs that cell only (autograde/execute.py, autograde/sandbox.py).
from autograde.execute import autograde_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()

# A Spark kernel on a slow laptop: the first cell starts a JVM, a fit can take a minute.
c.Execute.timeout = 300
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"

# Spark's own log goes to a file (course.spark), but strip any JVM/log4j chatter that slips
# through to stderr so grades and feedback show only what the student's code printed.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(WARN|ERROR) [A-Za-z]+:|WARNING: Using incubator modules|Setting default log level"
    r"|NativeCodeLoader|\[Stage \d+:"
)

# Keep feedback and gradebook readable when a student prints a whole DataFrame.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40
