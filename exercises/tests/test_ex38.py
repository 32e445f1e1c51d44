"""Public tests for Aufgabe 38 (RNN weights for a maze agent).

Your weights are simulated here, outside your code, on the hand-drawn mazes
in ``support/maze.py`` (PUBLIC_MAZES). The hidden tests run the same
simulation on generated mazes: random corridors of 2 to 80 cells, spirals
and zig-zags. The score of each test is the share of mazes solved.
"""

import pytest

from support.maze import PUBLIC_MAZES, describe_failure, simulate, validate_weights

#: Failed mazes explained with a drawing; further failures get one line each.
DRAWN = 3


@pytest.mark.part("mazes")
def test_public_mazes(student, credit):
    W, U, b = validate_weights(student.ex38_rnn_maze.rnn_weights())
    failed = []
    for maze in PUBLIC_MAZES:
        outcome = simulate(maze, W, U, b)
        if not outcome.solved:
            failed.append((maze, outcome))
    solved = len(PUBLIC_MAZES) - len(failed)
    credit.set(solved / len(PUBLIC_MAZES))
    lines = [f"Your agent solved {solved} of {len(PUBLIC_MAZES)} public mazes."]
    for i, (maze, outcome) in enumerate(failed):
        lines.append(describe_failure(maze, outcome, draw=i < DRAWN))
    assert not failed, "\n\n".join(lines)
