"""Hidden tests for Aufgabe 38: the same simulation on generated mazes.

Every grading draws its own maze set from the `rng` fixture (per student and
course secret): 300 mazes from a pool generated once per process at import
(maze_generator.pool), each under a random grid symmetry. Drawing costs only
indexing, so a grading costs what it did with one fixed set. Messages name
each failed maze's family, length, the failed step and the kind of failure,
but never draw the maze or name the expected direction.
"""

import pytest

from autograder_tests import maze_generator
from grader.trusted.checks import CheckFailed
from exercises.tests.support.maze import (DIRECTIONS, KIND_NAMES, OPPOSITE, plural, prepare_batch, simulate_batch,
                                          validate_weights)

#: Failed mazes listed in the message.
LISTED = 5

#: The pool of hidden mazes, generated and prepared once when this module is imported (once
#: per batch, not per submission); each grading draws its set from it (maze_generator.sample).
POOL = prepare_batch(maze_generator.pool())


def _explain(maze, outcome) -> str:
    t = outcome.step
    if outcome.kind == "wrong move":
        back = t > 0 and outcome.taken == OPPOSITE[maze.moves()[t - 1]]
        kind = "ging der Agent zurück, woher er kam" if back else "lief der Agent in eine Wand"
    elif outcome.kind == "tie":
        kind = "argmax(h) ist nicht eindeutig (Gleichstand zwischen " + \
            " und ".join(DIRECTIONS[i] for i in outcome.tied) + ")"
    else:
        kind = "h enthält NaN oder inf"
    where = f"{KIND_NAMES.get(maze.kind, maze.kind)} ({plural(maze.steps, 'Schritt', 'Schritte')}): bei Schritt t = {t}"
    return f"{where} {kind}" if outcome.kind == "wrong move" else f"{where}: {kind}"


@pytest.mark.part("mazes")
def test_hidden_mazes(student, credit, rng):
    batch = maze_generator.sample(POOL, rng)
    W, U, b = validate_weights(student.ex38_rnn_maze.rnn_weights())
    mazes = batch.mazes
    failed = [(maze, outcome) for maze, outcome in zip(mazes, simulate_batch(batch, W, U, b))
              if not outcome.solved]
    solved = len(mazes) - len(failed)
    credit.set(solved / len(mazes))
    lines = [f"Ihr Agent hat {solved} von {len(mazes)} verdeckten Labyrinthen gelöst "
             "(zufällige Gänge mit 2 bis 80 Zellen, Spiralen, Zickzack-Gänge)."]
    lines += ["  - " + _explain(maze, outcome) for maze, outcome in failed[:LISTED]]
    if len(failed) > LISTED:
        lines.append(f"  ... und {len(failed) - LISTED} weitere.")
    lines.append("Die öffentlichen Labyrinthe enthalten jede Art von Abbiegung, die in diesen Labyrinthen vorkommt: "
                 "Gewichte, die jeden Gang nach Konstruktion schaffen (nicht nur die öffentlichen Beispiele), "
                 "bestehen auch hier.")
    if failed:
        raise CheckFailed("\n".join(lines), cause="mazes")
