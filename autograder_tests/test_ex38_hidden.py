"""Hidden tests for Aufgabe 38: the same simulation on generated mazes.

The mazes come from maze_generator.hidden_mazes() (fixed seed, secret).
Messages name each failed maze's family, length, the failed step and the
kind of failure, but never draw the maze or name the expected direction.
"""

import pytest

import maze_generator
from support.maze import DIRECTIONS, OPPOSITE, plural, prepare_batch, simulate_batch, validate_weights

#: Failed mazes listed in the message.
LISTED = 5

#: The hidden mazes, generated and prepared once when this module is imported (once per
#: batch, not per submission): a grading only simulates the student's weights on them.
HIDDEN = prepare_batch(maze_generator.hidden_mazes())


def _explain(maze, outcome) -> str:
    t = outcome.step
    if outcome.kind == "wrong move":
        back = t > 0 and outcome.taken == OPPOSITE[maze.moves()[t - 1]]
        kind = "went back where it came from" if back else "moved into a wall"
    elif outcome.kind == "tie":
        kind = "argmax(h) not unique (tie between " + " and ".join(DIRECTIONS[i] for i in outcome.tied) + ")"
    else:
        kind = "h contains NaN or inf"
    where = f"{maze.kind} ({plural(maze.steps, 'step')}): at step t = {t}"
    return f"{where} the agent {kind}" if outcome.kind == "wrong move" else f"{where}: {kind}"


@pytest.mark.part("mazes")
def test_hidden_mazes(student, credit):
    W, U, b = validate_weights(student.ex38_rnn_maze.rnn_weights())
    mazes = HIDDEN.mazes
    failed = [(maze, outcome) for maze, outcome in zip(mazes, simulate_batch(HIDDEN, W, U, b))
              if not outcome.solved]
    solved = len(mazes) - len(failed)
    credit.set(solved / len(mazes))
    lines = [f"Your agent solved {solved} of {len(mazes)} hidden mazes "
             "(random corridors of 2 to 80 cells, spirals, zig-zags)."]
    lines += ["  - " + _explain(maze, outcome) for maze, outcome in failed[:LISTED]]
    if len(failed) > LISTED:
        lines.append(f"  ... and {len(failed) - LISTED} more.")
    lines.append("The public mazes contain every kind of turn these mazes have: weights that work "
                 "for every corridor by construction (not just for the public examples) pass here too.")
    assert not failed, "\n".join(lines)
