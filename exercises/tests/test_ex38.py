"""Public tests for Aufgabe 38 (RNN weights for a maze agent).

Your weights are simulated here, outside your code, on the hand-drawn mazes
in ``support/maze.py`` (PUBLIC_MAZES). The hidden tests run the same
simulation on generated mazes: random corridors of 2 to 80 cells, spirals
and zig-zags. The score of each test is the share of mazes solved.
"""

import pytest

from grader.trusted.checks import CheckFailed
from exercises.tests.support.maze import PUBLIC_MAZES, describe_failure, prepare_batch, simulate_batch, validate_weights

#: Failed mazes explained with a drawing; further failures get one line each.
DRAWN = 3

#: The public mazes prepared once, at import: simulate_batch gives the outcomes of simulate.
PUBLIC = prepare_batch(PUBLIC_MAZES)


@pytest.mark.part("mazes")
def test_public_mazes(student, credit):
    W, U, b = validate_weights(student.ex38_rnn_maze.rnn_weights())
    failed = [(maze, outcome) for maze, outcome in zip(PUBLIC_MAZES, simulate_batch(PUBLIC, W, U, b))
              if not outcome.solved]
    solved = len(PUBLIC_MAZES) - len(failed)
    credit.set(solved / len(PUBLIC_MAZES))
    lines = [f"Ihr Agent hat {solved} von {len(PUBLIC_MAZES)} öffentlichen Labyrinthen gelöst."]
    for i, (maze, outcome) in enumerate(failed):
        lines.append(describe_failure(maze, outcome, draw=i < DRAWN))
    if failed:
        raise CheckFailed("\n\n".join(lines), cause="mazes")
