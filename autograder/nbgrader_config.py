# nbgrader settings used by `python -m autograder release` (only what differs from the defaults).
# The course root (a temporary folder) is set by the release command itself.
c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your solution.")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# Keep the released notebooks free of execution counts and outputs.
c.ClearOutput.enabled = True
c.GenerateAssignment.create_assignment = True
