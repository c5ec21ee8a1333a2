"""Classroom grading for the course with nbgrader: release, autograde, feedback, grades."""
