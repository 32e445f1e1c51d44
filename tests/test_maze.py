"""Unit tests of the ex38 maze simulator (exercises/tests/support/maze.py)
and of the hidden maze generator (autograder_tests/maze_generator.py).

They check the trusted side directly, without the sandbox: that the
simulator follows the exercise contract, that the public mazes expose every
failure class, and that every generated maze is a valid corridor that the
reference weights solve.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the course's test packages (exercises.tests, autograder_tests)
    sys.path.insert(0, str(ROOT))

from autograder_tests import maze_generator  # noqa: E402
from exercises.tests.support import maze as mz  # noqa: E402

P = np.eye(4)[[3, 2, 1, 0]]
NAIVE = (np.eye(4), -P, np.zeros(4))


def _reference_weights():
    spec = importlib.util.spec_from_file_location("ex38_reference", ROOT / "solutions" / "ex38_rnn_maze.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rnn_weights()


REFERENCE = _reference_weights()


# --- corridor validation ---------------------------------------------------------------------

@pytest.mark.parametrize("cells, problem", [
    ([(0, 0)], "mindestens zwei Zellen"),
    ([(0, 0), (-1, 0), (0, 0)], "doppelt"),
    ([(0, 0), (-1, 1)], "keine Nachbarn"),
    ([(0, 0), (1, 0), (2, 0)], "unterhalb"),
    ([(0, 0), (-1, 0), (-1, 1), (0, 1)], "benachbart, folgen aber nicht"),
])
def test_check_corridor_rejects(cells, problem):
    with pytest.raises(ValueError, match=problem):
        mz.check_corridor(cells)


def test_check_corridor_accepts_staircase_and_u_turn_with_wall():
    mz.check_corridor([(0, 0), (-1, 0), (-1, 1), (-2, 1), (-2, 2)])
    mz.check_corridor([(0, 0), (0, 1), (0, 2), (-1, 2), (-2, 2), (-2, 1), (-2, 0)])


def test_parse_maze_uses_drawing_coordinates():
    maze = mz.parse_maze("""
        #####
        ###E#
        #...#
        #S###
        #####
    """, "corner")
    assert maze.cells == ((3, 1), (2, 1), (2, 2), (2, 3), (1, 3))
    assert maze.moves() == [mz.UP, mz.RIGHT, mz.RIGHT, mz.UP]


def test_parse_maze_rejects_branches():
    with pytest.raises(ValueError, match="Gang"):
        mz.parse_maze("""
            #####
            #.E.#
            #.###
            #S###
        """, "branch")


# --- simulation semantics --------------------------------------------------------------------

def test_neighbours_follow_direction_order():
    path = {(0, 0), (-1, 0), (0, 1), (0, -1), (1, 0)}
    assert mz.neighbours(path, (0, 0)).tolist() == [1, 1, 1, 1]
    assert mz.neighbours({(-1, 0)}, (0, 0)).tolist() == [1, 0, 0, 0]
    assert mz.neighbours({(0, -1)}, (0, 0)).tolist() == [0, 0, 1, 0]
    assert mz.neighbours({(1, 0)}, (0, 0)).tolist() == [0, 0, 0, 1]


def test_simulate_matches_hand_computed_update():
    """h_{t+1} = W x_t + U h_t + b from h_0 = e_up, checked step by step on a tiny maze."""
    rng = np.random.default_rng(1)
    W, U, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    maze = mz.Maze("line", ((0, 0), (-1, 0), (-2, 0)))
    h1 = W @ np.array([1.0, 0, 0, 0]) + U @ np.array([1.0, 0, 0, 0]) + b
    outcome = mz.simulate(maze, W, U, b)
    if int(np.argmax(h1)) != mz.UP:
        assert outcome.step == 0 and np.allclose(outcome.h, h1)
    else:
        h2 = W @ np.array([1.0, 0, 0, 1]) + U @ h1 + b
        assert outcome.solved == (int(np.argmax(h2)) == mz.UP)


def test_reference_solves_public_mazes():
    for maze in mz.PUBLIC_MAZES:
        assert mz.simulate(maze, *REFERENCE).solved, maze.name


def test_naive_answer_ties_at_second_step_of_a_public_maze():
    ties = [m for m in mz.PUBLIC_MAZES
            if (o := mz.simulate(m, *NAIVE)).kind == "tie" and o.step == 1]
    assert ties, "no public maze makes W = I, U = -P, b = 0 tie at its second step"
    outcome = mz.simulate(ties[0], *NAIVE)
    assert len(outcome.tied) == 2 and outcome.expected in outcome.tied


def test_failure_classes_are_public():
    """Every failure kind the hidden test reports occurs on some public maze for some weights."""
    kinds = set()
    for weights in [NAIVE, (np.eye(4), 0.5 * np.eye(4), np.zeros(4)), (np.eye(4), 1e200 * np.eye(4), np.zeros(4)),
                    (np.eye(4), 0.3 * P, np.zeros(4))]:
        for maze in mz.PUBLIC_MAZES:
            outcome = mz.simulate(maze, *weights)
            if not outcome.solved:
                kinds.add(outcome.kind)
    assert kinds == {"tie", "wrong move", "not finite"}


def test_public_mazes_cover_every_turn_and_start():
    pairs, starts = set(), set()
    for maze in mz.PUBLIC_MAZES:
        moves = maze.moves()
        starts.add(moves[0])
        pairs.update(zip(moves, moves[1:]))
    every = {(a, b) for a in range(4) for b in range(4) if b != mz.OPPOSITE[a]}
    assert pairs == every
    assert starts == {mz.UP, mz.RIGHT, mz.LEFT}


def test_wrong_move_is_described_and_drawn():
    maze = next(m for m in mz.PUBLIC_MAZES if m.name == "Ecke")
    outcome = mz.simulate(maze, np.eye(4), 0.3 * P, np.zeros(4))
    assert (outcome.kind, outcome.step, outcome.taken, outcome.expected) == ("wrong move", 1, mz.DOWN, mz.RIGHT)
    text = mz.describe_failure(maze, outcome)
    assert "Schritt t = 1" in text and "(Zeile 2, Spalte 1)" in text
    assert "ging nach unten (zurück, woher er kam), erwartet war nach rechts" in text
    drawing = mz.render(maze, outcome).splitlines()
    assert drawing[3] == "2 #?..#" and drawing[4] == "3 #X###"  # drawing[0] numbers the columns


def test_nonfinite_state_fails():
    maze = mz.PUBLIC_MAZES[1]
    outcome = mz.simulate(maze, np.eye(4), np.full((4, 4), 1e300), np.zeros(4))
    assert not outcome.solved
    assert outcome.kind in ("not finite", "tie")
    outcome = mz.simulate(maze, np.eye(4), np.eye(4), np.array([np.nan, 0, 0, 0]))
    assert outcome.kind == "not finite" and outcome.step == 0


def test_validate_weights_accepts_ints_and_rejects_bad_returns():
    W, U, b = mz.validate_weights((np.eye(4, dtype=int), -P.astype(int), np.zeros(4, dtype=np.int32)))
    assert W.dtype == U.dtype == b.dtype == np.float64
    with pytest.raises(AssertionError, match="Tupel"):
        mz.validate_weights([np.eye(4), np.eye(4)])
    for shape in ((1, 4), (4, 2), (4, 1, 1)):
        with pytest.raises(AssertionError, match=r"Für b sind die Formen \(4,\) und \(4, 1\) erlaubt"):
            mz.validate_weights((np.eye(4), np.eye(4), np.zeros(shape)))
    with pytest.raises(AssertionError, match="Form"):
        mz.validate_weights((np.eye(4), np.eye(4, 3), np.zeros(4)))
    with pytest.raises(AssertionError, match="NaN"):
        mz.validate_weights((np.eye(4), np.eye(4), np.array([np.nan, 0, 0, 0])))


def test_validate_weights_accepts_b_as_column_vector():
    """The seed writes b in R^{4x1}: a column vector (4, 1) is the same bias as (4,)."""
    W, U, b = mz.validate_weights((REFERENCE[0], REFERENCE[1], np.asarray(REFERENCE[2]).reshape(4, 1)))
    assert b.shape == (4,) and b.tolist() == np.asarray(REFERENCE[2], dtype=float).tolist()
    assert all(o.solved for o in mz.simulate_batch(mz.prepare_batch(mz.PUBLIC_MAZES), W, U, b))


def test_messages_are_german_with_plain_numbers():
    maze = next(m for m in mz.PUBLIC_MAZES if m.name == "Ecke")
    for weights in (NAIVE, (np.eye(4), np.full((4, 4), 1e300), np.zeros(4))):
        outcome = mz.simulate(maze, *weights)
        text = mz.describe_failure(maze, outcome)
        assert "Labyrinth „Ecke“ (4 Schritte)" in text and "np.float64" not in text and "array(" not in text
        assert not any(word in text for word in (" the ", " step ", " expected ", " maze "))
    assert mz.plural(1, "Schritt", "Schritte") == "1 Schritt"


# --- generator -------------------------------------------------------------------------------

def test_generator_is_deterministic_and_seed_dependent():
    a = maze_generator.generate(7, n_random=20, n_spiral=5, n_zigzag=5)
    b = maze_generator.generate(7, n_random=20, n_spiral=5, n_zigzag=5)
    c = maze_generator.generate(8, n_random=20, n_spiral=5, n_zigzag=5)
    assert [m.cells for m in a] == [m.cells for m in b]
    assert [m.cells for m in a] != [m.cells for m in c]


def test_hidden_mazes_are_valid_and_as_promised():
    mazes = maze_generator.hidden_mazes()
    kinds = {m.kind for m in mazes}
    assert kinds == {"random corridor", "spiral", "zig-zag"}
    lengths = [len(m.cells) for m in mazes if m.kind == "random corridor"]
    assert min(lengths) == 2 and max(lengths) == 80
    assert {m.moves()[0] for m in mazes} == {mz.UP, mz.RIGHT, mz.LEFT}
    for maze in mazes:
        mz.check_corridor(maze.cells)
        assert mz.simulate(maze, *REFERENCE).solved, maze.name


def test_reference_solves_thousands_of_generated_mazes():
    failed = []
    count = 0
    for seed in range(3):
        for maze in maze_generator.generate(1000 + seed, n_random=400, n_spiral=50, n_zigzag=50):
            mz.check_corridor(maze.cells)
            count += 1
            if not mz.simulate(maze, *REFERENCE).solved:
                failed.append(maze.name)
    assert count == 1500 and not failed


def test_naive_answer_fails_most_hidden_mazes():
    mazes = maze_generator.hidden_mazes()
    solved = sum(mz.simulate(m, *NAIVE).solved for m in mazes)
    assert solved < len(mazes) // 10


def test_sampled_sets_are_prepared_exactly_valid_and_differ_per_rng():
    """maze_generator.sample: the batch equals prepare_batch of its mazes, as promised, and depends on the rng."""
    pool = mz.prepare_batch(maze_generator.pool())
    a = maze_generator.sample(pool, np.random.default_rng(1))
    again = maze_generator.sample(pool, np.random.default_rng(1))
    other = maze_generator.sample(pool, np.random.default_rng(2))
    ref = mz.prepare_batch(a.mazes)
    assert a.x.tobytes() == ref.x.tobytes() and np.array_equal(a.expected, ref.expected)
    assert np.array_equal(a.steps, ref.steps)
    assert [m.cells for m in a.mazes] == [m.cells for m in again.mazes]
    assert [m.cells for m in a.mazes] != [m.cells for m in other.mazes]
    kinds = [m.kind for m in a.mazes]
    assert (kinds.count("random corridor"), kinds.count("spiral"), kinds.count("zig-zag")) == (240, 30, 30)
    lengths = [len(m.cells) for m in a.mazes if m.kind == "random corridor"]
    assert min(lengths) == 2 and max(lengths) == 80
    for maze in a.mazes:
        mz.check_corridor(maze.cells)  # also: the first move is never down
    assert all(o.solved for o in mz.simulate_batch(a, *REFERENCE))


# --- batched simulation ----------------------------------------------------------------------

def _corpus_weights() -> dict[str, tuple]:
    """rnn_weights() of every corpus submission whose weights the tests accept."""
    out = {}
    for path in sorted((ROOT / "tests" / "submissions" / "ex38").glob("*/ex38_rnn_maze.py")):
        spec = importlib.util.spec_from_file_location(f"ex38_{path.parent.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            out[f"corpus {path.parent.name}"] = mz.validate_weights(module.rnn_weights())
        except (AssertionError, NotImplementedError):  # stub, wrong shape, NaN: never simulated
            continue
    return out


def _weight_sets() -> dict[str, tuple]:
    """Weights that between them reach every outcome: solved, wrong move, tie, not finite."""
    rng = np.random.default_rng(38)
    sets = {"reference": REFERENCE, "naive (ties)": NAIVE, **_corpus_weights(),
            "overflow": (np.eye(4), 1e200 * np.eye(4), np.zeros(4)),
            "NaN bias": (np.eye(4), -P, np.array([np.nan, 0, 0, 0])),
            "reference + tiny noise": tuple(w + 1e-15 * rng.standard_normal(np.shape(w)) for w in REFERENCE)}
    for i in range(6):
        sets[f"random {i}"] = (rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4))
        # entries in {-1, 0, 1} (and halves): exact sums, many ties
        sets[f"small integers {i}"] = (rng.integers(-1, 2, (4, 4)).astype(float),
                                      rng.integers(-1, 2, (4, 4)) / 2, rng.integers(-1, 2, 4).astype(float))
    return sets


WEIGHT_SETS = _weight_sets()
#: (mazes, their MazeBatch): the public and the hidden maze set.
MAZE_SETS = [(mazes, mz.prepare_batch(mazes)) for mazes in (mz.PUBLIC_MAZES, maze_generator.hidden_mazes())]


def _outcome_key(outcome: mz.Outcome) -> tuple:
    """Everything an Outcome says, with h compared bit for bit."""
    h = None if outcome.h is None else outcome.h.tobytes()
    return outcome.solved, outcome.step, outcome.kind, outcome.taken, outcome.expected, h, tuple(outcome.tied)


@pytest.mark.parametrize("name", WEIGHT_SETS)
def test_simulate_batch_gives_the_outcomes_of_simulate(name):
    """simulate_batch (what the tests grade with) == simulate (the definition), maze by maze, h bit for bit."""
    W, U, b = WEIGHT_SETS[name]
    for mazes, batch in MAZE_SETS:
        batched = mz.simulate_batch(batch, W, U, b)
        assert len(batched) == len(mazes)
        for maze, outcome in zip(mazes, batched):
            assert _outcome_key(outcome) == _outcome_key(mz.simulate(maze, W, U, b)), (name, maze.name)


def test_weight_sets_reach_every_outcome():
    """The comparison above is only meaningful if it meets every kind of outcome."""
    kinds = set()
    hidden = MAZE_SETS[1][1]
    for W, U, b in WEIGHT_SETS.values():
        kinds.update("solved" if o.solved else o.kind for o in mz.simulate_batch(hidden, W, U, b))
    assert kinds == {"solved", "wrong move", "tie", "not finite"}


def test_rnn_step_is_the_same_alone_and_in_a_batch():
    rng = np.random.default_rng(7)
    W, U, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    h, x = rng.standard_normal((50, 4)), rng.integers(0, 2, (50, 4)).astype(float)
    batched = mz.rnn_step(h, x, W, U, b)
    assert np.allclose(batched, h @ U.T + x @ W.T + b, rtol=1e-12, atol=1e-12)
    for i in range(50):
        assert mz.rnn_step(h[i], x[i], W, U, b).tobytes() == batched[i].tobytes()
