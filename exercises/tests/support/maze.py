"""Maze simulator for exercise ex38 (RNN weights for a maze agent).

This module runs on the trusted side of the grader: the tests get the
student's weights ``(W, U, b)`` from the sandbox and simulate the agent here.
It ships to students so that the public tests run locally and so that they
can debug their weights with the same code the grader uses (from the course folder)::

    from exercises.tests.support.maze import PUBLIC_MAZES, simulate, describe_failure
    for maze in PUBLIC_MAZES:
        outcome = simulate(maze, W, U, b)
        if not outcome.solved:
            print(describe_failure(maze, outcome))

``simulate`` walks one maze step by step (the definition); the tests use
``simulate_batch``, which walks many mazes at once and gives exactly the
same outcomes (the update ``rnn_step`` is the same elementwise arithmetic
in both, so even a tie by exact equality is the same; the grader's own
tests compare the two).

Conventions (see the task text and the exercise contract):

- Direction order everywhere: 0 up, 1 right, 2 left, 3 down. Cells are
  ``(row, col)``; up is ``row - 1``, right is ``col + 1``.
- A maze is a corridor ``p_0 (start) ... p_n (exit)``, ``n >= 1``:
  consecutive cells are 4-adjacent, no cell repeats and no two
  non-consecutive cells are 4-adjacent. ``p_1`` is never below ``p_0``.
- ``x_t`` in ``{0, 1}^4`` marks which 4-neighbours of the agent's cell lie on
  the path; ``h_0 = (1, 0, 0, 0)``; ``h_{t+1} = W x_t + U h_t + b``; the
  agent moves in direction ``argmax(h_{t+1})``, which must be unique and
  finite. The update is computed in float64 term by term (``rnn_step``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Cell = tuple[int, int]

#: Direction names in the exercise's order, as students read them.
DIRECTIONS: tuple[str, ...] = ("oben", "rechts", "links", "unten")
#: The maze families (Maze.kind) as students read them.
KIND_NAMES: dict[str, str] = {"hand-drawn": "gezeichnet", "random corridor": "zufälliger Gang", "spiral": "Spirale",
                              "zig-zag": "Zickzack"}
#: (row, col) offset of each direction, same order as DIRECTIONS.
OFFSETS: tuple[Cell, ...] = ((-1, 0), (0, 1), (0, -1), (1, 0))
#: Arrow drawn for a move in each direction.
ARROWS: str = "^><v"
#: Index of the opposite direction (up <-> down, right <-> left).
OPPOSITE: tuple[int, ...] = (3, 2, 1, 0)

UP, RIGHT, LEFT, DOWN = 0, 1, 2, 3


@dataclass(frozen=True)
class Maze:
    """A corridor maze.

    name: short label shown in feedback (e.g. "zigzag").
    cells: the path p_0 (start) ... p_n (exit) as (row, col) tuples.
    kind: family of the maze ("hand-drawn", "random corridor", "spiral",
        "zig-zag"); shown in feedback where the maze itself is secret.
    """

    name: str
    cells: tuple[Cell, ...]
    kind: str = "hand-drawn"

    @property
    def steps(self) -> int:
        """Number of moves n the agent has to make."""
        return len(self.cells) - 1

    def moves(self) -> list[int]:
        """Directions d_0 ... d_{n-1} of the correct moves."""
        return [direction_between(a, b) for a, b in zip(self.cells, self.cells[1:])]


@dataclass
class Outcome:
    """Result of simulating one maze.

    solved: True if the agent walked the whole corridor to the exit.
    step: index t of the first failed step (None if solved).
    kind: "wrong move", "tie" or "not finite" (None if solved).
    taken: direction index the agent chose at the failed step (None for a
        tie or non-finite h).
    expected: direction index it should have taken (None if solved).
    h: the hidden state h_{t+1} computed at the failed step.
    tied: direction indices sharing the maximum (for a tie).
    """

    solved: bool
    step: int | None = None
    kind: str | None = None
    taken: int | None = None
    expected: int | None = None
    h: np.ndarray | None = None
    tied: list[int] = field(default_factory=list)


def direction_between(a: Cell, b: Cell) -> int:
    """Index of the direction that moves from cell a to the adjacent cell b."""
    offset = (b[0] - a[0], b[1] - a[1])
    if offset not in OFFSETS:
        raise ValueError(f"Die Zellen {a} und {b} sind keine Nachbarn (oben, unten, links, rechts).")
    return OFFSETS.index(offset)


def step_cell(cell: Cell, direction: int) -> Cell:
    """The neighbour of cell in the given direction."""
    dr, dc = OFFSETS[direction]
    return (cell[0] + dr, cell[1] + dc)


def check_corridor(cells: tuple[Cell, ...] | list[Cell]) -> None:
    """Raise ValueError unless cells form a valid maze (see module docstring)."""
    cells = [tuple(c) for c in cells]
    if len(cells) < 2:
        raise ValueError("Ein Labyrinth braucht mindestens zwei Zellen (n >= 1).")
    index = {}
    for i, cell in enumerate(cells):
        if cell in index:
            raise ValueError(f"Die Zelle {cell} kommt doppelt vor (p_{index[cell]} und p_{i}).")
        index[cell] = i
    for i, (a, b) in enumerate(zip(cells, cells[1:])):
        direction_between(a, b)  # raises if not adjacent
    for i, cell in enumerate(cells):
        for d in range(4):
            j = index.get(step_cell(cell, d))
            if j is not None and abs(i - j) != 1:
                raise ValueError(f"p_{i} = {cell} und p_{j} = {cells[j]} sind benachbart, folgen aber nicht "
                                 "aufeinander (zwischen Gangstücken muss eine Wand sein).")
    if direction_between(cells[0], cells[1]) == DOWN:
        raise ValueError("p_1 liegt unterhalb von p_0: Der Agent betritt das Labyrinth nach oben, rechts oder links.")


def neighbours(path: set[Cell], cell: Cell) -> np.ndarray:
    """x_t: float64 (4,) with 1 where the neighbour in that direction is on the path."""
    return np.array([1.0 if step_cell(cell, d) in path else 0.0 for d in range(4)])


def matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """M v for one vector v (4,) or for every vector of a stack (..., 4).

    Summed term by term in a fixed order, M[:, 0] v_0 + M[:, 1] v_1 + ... ,
    with elementwise float64 operations instead of a matrix product: BLAS may
    round a matrix-vector product differently from a matrix-matrix product,
    and a tie is exact equality, so a state must come out bit for bit the
    same alone (``simulate``) and in a batch (``simulate_batch``).
    """
    out = v[..., 0, None] * M[:, 0]
    for j in range(1, M.shape[1]):
        out = out + v[..., j, None] * M[:, j]
    return out


def rnn_step(h: np.ndarray, x: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """h_{t+1} = (W x_t + U h_t) + b in float64, each product by ``matvec``."""
    return matvec(W, x) + matvec(U, h) + b


def simulate(maze: Maze, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> Outcome:
    """Run the RNN agent through maze; stop at the first failed step.

    W, U: float64 (4, 4); b: float64 (4,). The update ``h = W x + U h + b``
    is computed in float64 by ``rnn_step``; a tie is exact equality of the
    maximal entries.
    """
    W, U, b = (np.asarray(a, dtype=np.float64) for a in (W, U, b))
    path = set(maze.cells)
    h = np.array([1.0, 0.0, 0.0, 0.0])
    with np.errstate(all="ignore"):  # overflow is reported as "not finite", not warned about
        for t, (cell, nxt) in enumerate(zip(maze.cells, maze.cells[1:])):
            h = rnn_step(h, neighbours(path, cell), W, U, b)
            failure = judge_step(t, h, direction_between(cell, nxt))
            if failure is not None:
                return failure
    return Outcome(True)


def judge_step(t: int, h: np.ndarray, expected: int) -> Outcome | None:
    """None if h = h_{t+1} moves the agent in the expected direction, else the failed Outcome.

    Checked in this order: h finite, argmax(h) unique (exact equality), the
    right direction.
    """
    if not np.all(np.isfinite(h)):
        return Outcome(False, t, "not finite", None, expected, h.copy())
    tied = [int(i) for i in np.flatnonzero(h == h.max())]
    if len(tied) > 1:
        return Outcome(False, t, "tie", None, expected, h.copy(), tied)
    if tied[0] != expected:
        return Outcome(False, t, "wrong move", tied[0], expected, h.copy())
    return None


@dataclass(frozen=True)
class MazeBatch:
    """Mazes prepared for ``simulate_batch``: everything that does not depend on the weights.

    mazes: the mazes, in order.
    x: float64 (T, n, 4), x[t, i] = x_t of maze i (0 after its last step);
        T is the number of steps of the longest maze.
    expected: int64 (T, n), the correct direction at step t (-1 after the last step).
    steps: int64 (n,), the number of steps of each maze.
    """

    mazes: tuple[Maze, ...]
    x: np.ndarray
    expected: np.ndarray
    steps: np.ndarray


def prepare_batch(mazes: tuple[Maze, ...] | list[Maze]) -> MazeBatch:
    """Neighbour vectors and correct moves of every maze, padded to the longest maze.

    Computed once per maze set (tests do it at import time), so a grading
    only pays for the simulation itself.
    """
    mazes = tuple(mazes)
    steps = np.array([maze.steps for maze in mazes], dtype=np.int64)
    x = np.zeros((int(steps.max()), len(mazes), 4))
    expected = np.full((int(steps.max()), len(mazes)), -1, dtype=np.int64)
    for i, maze in enumerate(mazes):
        path = set(maze.cells)
        for t, cell in enumerate(maze.cells[:-1]):
            x[t, i] = neighbours(path, cell)
        expected[: maze.steps, i] = maze.moves()
    return MazeBatch(mazes, x, expected, steps)


def simulate_batch(batch: MazeBatch, W: np.ndarray, U: np.ndarray, b: np.ndarray) -> list[Outcome]:
    """``simulate`` on every maze of batch at once: one Outcome per maze, in order.

    All mazes still walking take step t together (state (n, 4)); a maze
    leaves the batch at its first failed step (same checks in the same
    order as ``simulate``: not finite, tie, wrong move) or after its last
    step. The outcomes are exactly those of ``simulate``: the same update
    (``rnn_step``'s arithmetic), and each failed step is judged by ``judge_step``.
    """
    W, U, b = (np.asarray(a, dtype=np.float64) for a in (W, U, b))
    outcomes = [Outcome(True) for _ in batch.mazes]
    walking = np.arange(len(batch.mazes))                  # maze indices still walking
    h = np.zeros((len(batch.mazes), 4))
    h[:, UP] = 1.0                                         # h_0 of each walking maze
    w_x = matvec(W, batch.x)                               # W x_t of every maze and step
    with np.errstate(all="ignore"):  # overflow is reported as "not finite", not warned about
        for t in range(batch.x.shape[0]):
            going_on = batch.steps[walking] > t
            walking, h = walking[going_on], h[going_on]
            if walking.size == 0:
                break
            h = w_x[t, walking] + matvec(U, h) + b         # rnn_step, with W x_t done for all t at once
            expected = batch.expected[t, walking]
            finite = np.isfinite(h).all(axis=1)
            top_count = (h == h.max(axis=1, keepdims=True)).sum(axis=1)
            failed = ~finite | (top_count > 1) | (h.argmax(axis=1) != expected)
            for k in np.flatnonzero(failed):
                outcomes[walking[k]] = judge_step(t, h[k], int(expected[k]))
            walking, h = walking[~failed], h[~failed]
    return outcomes


def render(maze: Maze, outcome: Outcome | None = None) -> str:
    """Draw maze as text; with an outcome, also the agent's moves.

    Legend: '#' wall, '.' corridor, 'S' start, 'E' exit; arrows for the moves
    the agent made correctly, '?' for the cell where it failed and 'X' for
    the cell it wrongly moved into. Row numbers and column digits (mod 10)
    let the student find the cells named in messages.
    """
    marks: dict[Cell, str] = {c: "." for c in maze.cells}
    marks[maze.cells[0]] = "S"
    marks[maze.cells[-1]] = "E"
    wrong: list[Cell] = []
    if outcome is not None:
        done = maze.steps if outcome.solved else outcome.step
        for t, direction in enumerate(maze.moves()[:done]):
            marks[maze.cells[t]] = ARROWS[direction]
        if not outcome.solved:
            marks[maze.cells[outcome.step]] = "?"
            if outcome.taken is not None:
                wrong.append(step_cell(maze.cells[outcome.step], outcome.taken))
                marks[wrong[0]] = "X"
    cells = list(maze.cells) + wrong
    r0, r1 = min(r for r, _ in cells) - 1, max(r for r, _ in cells) + 1
    c0, c1 = min(c for _, c in cells) - 1, max(c for _, c in cells) + 1
    width = max(len(str(r0)), len(str(r1)))
    lines = [" " * (width + 1) + "".join(str(c % 10) for c in range(c0, c1 + 1)) + "   (Spalte mod 10)"]
    for r in range(r0, r1 + 1):
        lines.append(f"{r:>{width}} " + "".join(marks.get((r, c), "#") for c in range(c0, c1 + 1)))
    return "\n".join(lines)


def describe_failure(maze: Maze, outcome: Outcome, draw: bool = True) -> str:
    """Student-facing explanation of a failed maze (step, cell, taken, expected), in German."""
    t = outcome.step
    cell = maze.cells[t]
    expected = DIRECTIONS[outcome.expected]
    head = f"Labyrinth „{maze.name}“ ({plural(maze.steps, 'Schritt', 'Schritte')}): gescheitert bei Schritt t = {t}, "
    head += f"Agent in Zelle (Zeile {cell[0]}, Spalte {cell[1]})"
    h = fmt_vector(outcome.h)
    if outcome.kind == "tie":
        names = " und ".join(DIRECTIONS[i] for i in outcome.tied)
        what = (f"argmax(h_{t + 1}) ist nicht eindeutig: h_{t + 1} = {h} hat dasselbe Maximum "
                f"für {names}; der Gang geht nach {expected} weiter.")
    elif outcome.kind == "not finite":
        what = (f"h_{t + 1} = {h} enthält NaN oder inf (Überlauf?); "
                f"der Gang geht nach {expected} weiter.")
    else:
        taken = DIRECTIONS[outcome.taken]
        back = t > 0 and outcome.taken == OPPOSITE[maze.moves()[t - 1]]
        what = (f"Der Agent ging nach {taken}"
                + (" (zurück, woher er kam)" if back else " (in eine Wand)")
                + f", erwartet war nach {expected}; h_{t + 1} = {h}.")
    text = head + ":\n  " + what
    if draw:
        text += "\n" + _indent(render(maze, outcome), "    ")
        text += "\n    (Pfeile: gemachte Schritte, '?': hier gescheitert, 'X': Zelle, in die der Agent ging)"
    return text


def fmt_vector(h: np.ndarray) -> str:
    """A state vector as plain numbers with 4 significant digits: [1, -0.5, 0, 2]."""
    return "[" + ", ".join(f"{float(v):.4g}" for v in h) + "]"


#: dtypes accepted for the weights (converted to float64 before simulating).
WEIGHT_DTYPES: tuple[str, ...] = ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
                                  "uint64", "uint32", "uint16", "uint8")


def validate_weights(value: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check what ``rnn_weights()`` returned and convert it to float64 arrays.

    Expects a tuple (or list) ``(W, U, b)`` of real NumPy arrays of shapes
    (4, 4), (4, 4) and (4,) with finite entries; b may also be the column
    vector (4, 1) of the task's R^{4x1} (it is flattened to (4,)). Raises
    CheckFailed (an AssertionError) with a message for the student otherwise.
    """
    from grader.trusted.checks import CheckFailed, describe, expect_array  # trusted side only

    if not isinstance(value, (tuple, list)) or len(value) != 3:
        count = f" mit {len(value)} Einträgen" if isinstance(value, (tuple, list)) else ""
        raise CheckFailed(f"rnn_weights() lieferte {describe(value)}{count}, erwartet war ein Tupel (W, U, b) aus "
                          "drei NumPy-Arrays.", cause="type")
    arrays = []
    for name, shape, array in zip(("W", "U", "b"), ((4, 4), (4, 4), (4,)), value):
        if name == "b" and isinstance(array, np.ndarray) and array.shape == (4, 1):
            shape = (4, 1)  # the column vector b in R^{4x1} is the same bias
        try:
            checked = expect_array(array, shape=shape, what=f"{name} (von rnn_weights() geliefert)",
                                   dtypes=WEIGHT_DTYPES)
        except CheckFailed as exc:
            if name == "b" and exc.cause == "shape":
                raise CheckFailed(f"{exc} Für b sind die Formen (4,) und (4, 1) erlaubt.", cause="shape") from None
            raise
        arrays.append(checked.astype(np.float64).reshape(shape[0], -1)[:, 0] if name == "b" else
                      checked.astype(np.float64))
    return arrays[0], arrays[1], arrays[2]


def plural(count: int, one: str, other: str) -> str:
    """'1 Schritt', '2 Schritte'."""
    return f"{count} {one if count == 1 else other}"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def parse_maze(text: str, name: str) -> Maze:
    """Build a Maze from a drawing: 'S' start, 'E' exit, '.' corridor, anything else wall.

    Row and column numbers are the line and character positions in the
    drawing (after removing the common indentation), so the cells named in
    feedback match the picture.
    """
    lines = [line for line in text.strip("\n").splitlines()]
    indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    lines = [l[indent:] for l in lines]
    open_cells: set[Cell] = set()
    start = exit_ = None
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if ch in "SE.":
                open_cells.add((r, c))
            if ch == "S":
                start = (r, c)
            if ch == "E":
                exit_ = (r, c)
    if start is None or exit_ is None:
        raise ValueError(f"Das Labyrinth „{name}“ braucht ein 'S' und ein 'E'.")
    cells = [start]
    previous = None
    while cells[-1] != exit_:
        options = [step_cell(cells[-1], d) for d in range(4)]
        options = [c for c in options if c in open_cells and c != previous]
        if len(options) != 1:
            raise ValueError(f"Das Labyrinth „{name}“ ist bei {cells[-1]} kein einzelner Gang (Abzweigung oder "
                             "Sackgasse).")
        previous = cells[-1]
        cells.append(options[0])
    if len(cells) != len(open_cells):
        raise ValueError(f"Das Labyrinth „{name}“ hat Gangzellen, die nicht auf dem Weg von S nach E liegen.")
    check_corridor(cells)
    return Maze(name, tuple(cells))


_PUBLIC_DRAWINGS: dict[str, str] = {
    # One step up: the smallest maze (n = 1).
    "ein Schritt": """
        ###
        #E#
        #S#
        ###
    """,
    # Up, then right: the answer W = I, U = -P, b = 0 ties at its second
    # step (t = 1: h_2 = e_up + e_right).
    "Ecke": """
        #####
        ###E#
        #...#
        #S###
        #####
    """,
    # Enters to the right: a long straight run, then a left turn.
    "Haken": """
        ########
        ######E#
        ######.#
        #S.....#
        ########
    """,
    # Enters to the left and winds back and forth upwards.
    "Kehre": """
        ########
        #E.....#
        ######.#
        #......#
        #.######
        #....S##
        ########
    """,
    # Staircase up and to the right: a turn at every step.
    "Treppe": """
        ########
        #####.E#
        ####..##
        ###..###
        ##..####
        #S.#####
        ########
    """,
    # Serpentine: long straight runs in both horizontal directions.
    "Serpentine": """
        #########
        #E......#
        #######.#
        #.......#
        #.#######
        #.......#
        #######.#
        #S......#
        #########
    """,
    # Spiral inwards, clockwise: every turn to the right.
    "Spirale nach innen": """
        #########
        #.......#
        #.#####.#
        #.#...#.#
        #.#.#E#.#
        #.#.###.#
        #.#.....#
        #S#######
        #########
    """,
    # Spiral outwards, counter-clockwise: every turn to the left.
    "Spirale nach außen": """
        ###########
        #E........#
        #########.#
        #.......#.#
        #.#####.#.#
        #.#...#.#.#
        #.#.#S#.#.#
        #.#.###.#.#
        #.#.....#.#
        #.#######.#
        #.........#
        ###########
    """,
    # Zig-zag: runs up and down, joined by short runs to the left.
    "Zickzack": """
        ###########
        #E#...#...#
        #.#.#.#.#.#
        #.#.#.#.#.#
        #...#...#S#
        ###########
    """,
    # A long winding corridor with turns in all directions.
    "gewunden": """
        ##############
        #E#....#.....#
        #.#.##.#.###.#
        #.#.#..#.#...#
        #.#.#.##.#.###
        #...#....#..S#
        ##############
    """,
}

#: The public mazes (hand-drawn), in the order the public test runs them.
PUBLIC_MAZES: tuple[Maze, ...] = tuple(parse_maze(t, n) for n, t in _PUBLIC_DRAWINGS.items())
