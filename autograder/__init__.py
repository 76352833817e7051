"""Release and grade the "Attention, from the inside" course.

Pipeline stages, one module each:
  contract  -> what a source notebook promises (answer, test and setup cells)
  release   -> solutions/ to book/ (nbgrader) and solutions/reference/
  collect   -> find the submitted notebooks (folder or .zip)
  sandbox   -> run untrusted student code in a separate, limited process
  runner    -> run one notebook's tests in the trusted process, against the sandbox
  grade     -> grade a whole class, in parallel, resumably
  report    -> scores.csv, grades.csv and per-student feedback pages
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
BOOK = REPO / "book"
