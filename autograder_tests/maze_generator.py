"""Seeded generator of the hidden mazes for exercise ex38 (secret: not shipped).

The hidden maze set is a fixed function of its seed. The hidden test draws
the seed from its ``rng`` fixture, which mixes the course's secret seed: for
one secret every grading uses the same mazes (a submission's score is
reproducible), and another secret gives other mazes. HIDDEN_SEED is the
default for tools and the project's own tests. Three families, as promised in the exercise contract:

- random corridors of 2 to 80 cells (a randomised self-avoiding walk that
  never touches its own earlier cells),
- spirals (square or rectangular, inwards or outwards, either orientation),
- zig-zags (staircases, serpentines, square waves).

Every maze is checked with ``exercises.tests.support.maze.check_corridor`` and rotated or
mirrored so that its first move is not down.
"""

from __future__ import annotations

import functools

import numpy as np

from exercises.tests.support.maze import DOWN, OFFSETS, Maze, MazeBatch, check_corridor, direction_between, step_cell

Cell = tuple[int, int]

#: Seed of the hidden maze set. Changing it changes every hidden maze.
HIDDEN_SEED = 20_381_138
MIN_CELLS, MAX_CELLS = 2, 80

# The eight symmetries of the grid (rotations and reflections) on (row, col).
_SYMMETRIES = (
    lambda r, c: (r, c), lambda r, c: (c, -r), lambda r, c: (-r, -c), lambda r, c: (-c, r),
    lambda r, c: (r, -c), lambda r, c: (-c, -r), lambda r, c: (-r, c), lambda r, c: (c, r),
)


def _orient(rng: np.random.Generator, cells: list[Cell]) -> list[Cell]:
    """Apply a random grid symmetry whose first move is not down; start at (0, 0)."""
    options = []
    for sym in _SYMMETRIES:
        moved = [sym(r, c) for r, c in cells]
        if direction_between(moved[0], moved[1]) != DOWN:
            options.append(moved)
    moved = options[rng.integers(len(options))]
    r0, c0 = moved[0]
    return [(r - r0, c - c0) for r, c in moved]


def _from_moves(moves: list[int]) -> list[Cell]:
    cells = [(0, 0)]
    for d in moves:
        cells.append(step_cell(cells[-1], d))
    return cells


def random_corridor(rng: np.random.Generator, n_cells: int) -> list[Cell]:
    """A random corridor of exactly n_cells cells, first move up, right or left.

    Grows a walk one cell at a time; a candidate cell is allowed if it is
    free and none of its neighbours except the current cell is on the path.
    ``straight`` (drawn per maze) is the chance of keeping the direction, so
    some mazes are long and straight and others turn at nearly every step.
    Dead ends restart the walk.
    """
    straight = rng.uniform(0.1, 0.8)
    while True:
        cells = [(0, 0)]
        path = {cells[0]}
        direction = int(rng.choice([0, 1, 2]))  # first move not down
        ok = True
        for i in range(n_cells - 1):
            cur = cells[-1]
            allowed = []
            for d in range(4):
                nxt = step_cell(cur, d)
                if nxt in path or (i == 0 and d == DOWN):
                    continue
                if any(step_cell(nxt, e) in path and step_cell(nxt, e) != cur for e in range(4)):
                    continue
                allowed.append(d)
            if not allowed:
                ok = False
                break
            if direction in allowed and (i == 0 or rng.random() < straight):
                d = direction
            else:
                turns = [d for d in allowed if d != direction] or allowed
                d = int(turns[rng.integers(len(turns))])
            direction = d
            cells.append(step_cell(cur, d))
            path.add(cells[-1])
        if ok:
            return cells


def spiral(rng: np.random.Generator) -> list[Cell]:
    """A square or rectangular spiral, walked inwards or outwards.

    Arm lengths grow by 2 every second arm, which leaves exactly one wall
    between neighbouring rings.
    """
    while True:
        first_v = int(rng.integers(2, 5))
        first_h = int(rng.integers(2, 5))
        arms = int(rng.integers(4, 13))
        turn = int(rng.choice([1, -1]))  # 1: clockwise, -1: counter-clockwise
        clockwise = [0, 1, 3, 2]  # up, right, down, left
        moves: list[int] = []
        k = 0
        for arm in range(arms):
            length = (first_v if arm % 2 == 0 else first_h) + 2 * (arm // 2)
            moves += [clockwise[k % 4]] * length
            k += turn
        cells = _from_moves(moves)
        if rng.random() < 0.5:
            cells = cells[::-1]  # inwards
        cells = cells[: int(rng.integers(len(cells) // 2, len(cells) + 1))]
        try:
            cells = _orient(rng, cells)
            check_corridor(cells)
        except ValueError:
            continue
        return cells


def zigzag(rng: np.random.Generator) -> list[Cell]:
    """A staircase, serpentine or square wave, in a random orientation."""
    while True:
        style = rng.choice(["staircase", "serpentine", "square wave"])
        reps = int(rng.integers(3, 9))
        moves: list[int] = []
        if style == "staircase":
            for i in range(reps):
                moves += [0] * int(rng.integers(1, 4)) + [1] * int(rng.integers(1, 4))
        elif style == "serpentine":
            width = int(rng.integers(2, 10))
            for i in range(reps):
                moves += [1 if i % 2 == 0 else 2] * width + [0] * int(rng.integers(2, 4))
        else:
            height = int(rng.integers(1, 6))
            for i in range(reps):
                moves += [1] * int(rng.integers(2, 4)) + [0 if i % 2 == 0 else 3] * height
        cells = _from_moves(moves)
        if rng.random() < 0.5:
            cells = cells[::-1]
        try:
            cells = _orient(rng, cells)
            check_corridor(cells)
        except ValueError:
            continue
        return cells


def generate(seed: int, n_random: int = 240, n_spiral: int = 30, n_zigzag: int = 30) -> list[Maze]:
    """A reproducible maze set: random corridors (2 to 80 cells), spirals, zig-zags.

    The random corridors always include the extreme lengths 2, 3 and 80; the
    others are uniform in [2, 80].
    """
    rng = np.random.default_rng(seed)
    mazes: list[Maze] = []
    lengths = [MIN_CELLS, MIN_CELLS + 1, MAX_CELLS]
    lengths += [int(n) for n in rng.integers(MIN_CELLS, MAX_CELLS + 1, n_random - len(lengths))]
    for i, n in enumerate(lengths):
        cells = _orient(rng, random_corridor(rng, n))
        mazes.append(Maze(f"random corridor {i + 1}", tuple(cells), "random corridor"))
    for i in range(n_spiral):
        mazes.append(Maze(f"spiral {i + 1}", tuple(spiral(rng)), "spiral"))
    for i in range(n_zigzag):
        mazes.append(Maze(f"zig-zag {i + 1}", tuple(zigzag(rng)), "zig-zag"))
    for maze in mazes:
        check_corridor(maze.cells)
    return mazes


@functools.cache
def hidden_mazes(seed: int = HIDDEN_SEED) -> tuple[Maze, ...]:
    """A maze set of the hidden test's size and mix, as a fixed function of ``seed`` (tools, project tests).

    Generated once per process and seed and immutable, so every caller shares it.
    """
    return tuple(generate(seed))


#: Mazes per family (random corridors, spirals, zig-zags) in the pool and in one grading's set.
POOL_SIZES = (480, 60, 60)
SET_SIZES = (240, 30, 30)
#: Pool indices of the random corridors with the extreme lengths 2, 3 and 80 (generate() puts them first).
EXTREME_LENGTHS = (0, 1, 2)


@functools.cache
def pool(seed: int = HIDDEN_SEED) -> tuple[Maze, ...]:
    """The pool every grading's hidden maze set is drawn from (generated once per process, a few seconds)."""
    return tuple(generate(seed, *POOL_SIZES))


def _direction_maps() -> np.ndarray:
    """(8, 4): entry [s, d] is the direction that grid symmetry s maps direction d to."""
    return np.array([[OFFSETS.index(sym(*OFFSETS[d])) for d in range(4)] for sym in _SYMMETRIES])


DIRECTION_MAPS = _direction_maps()


def sample(pool_batch: MazeBatch, rng: np.random.Generator) -> MazeBatch:
    """One grading's hidden maze set, drawn from the prepared pool with ``rng`` (the test's per-student rng).

    SET_SIZES mazes per family (the random corridors always include the
    extreme lengths 2, 3 and 80), each under a random grid symmetry whose
    first move is not down. Only indexing and a direction permutation: the
    batch is exactly what ``prepare_batch`` gives for the transformed mazes,
    at a small fraction of the cost of generating new ones.
    """
    starts = np.cumsum((0,) + POOL_SIZES[:-1])
    chosen = list(EXTREME_LENGTHS)
    for family, (start, size, count) in enumerate(zip(starts, POOL_SIZES, SET_SIZES)):
        skip = len(EXTREME_LENGTHS) if family == 0 else 0
        picks = rng.choice(np.arange(start + skip, start + size), count - skip, replace=False)
        chosen += [int(i) for i in picks]
    index = np.array(chosen)
    first = pool_batch.expected[0, index]
    maps = np.empty((index.size, 4), dtype=np.int64)
    mazes = []
    for i, (k, d0) in enumerate(zip(index, first)):
        allowed = np.flatnonzero(DIRECTION_MAPS[:, d0] != DOWN)
        s = int(allowed[rng.integers(allowed.size)])
        maps[i] = DIRECTION_MAPS[s]
        maze = pool_batch.mazes[k]
        mazes.append(Maze(maze.name, tuple(_SYMMETRIES[s](r, c) for r, c in maze.cells), maze.kind))
    steps = pool_batch.steps[index]
    horizon = int(steps.max())
    inverse = np.argsort(maps, axis=1)                      # inverse[i, e] = d with maps[i, d] = e
    x = np.take_along_axis(pool_batch.x[:horizon, index], inverse[None, :, :], axis=2)
    old = pool_batch.expected[:horizon, index]
    expected = np.where(old >= 0, np.take_along_axis(maps, np.maximum(old, 0).T, axis=1).T, -1)
    return MazeBatch(tuple(mazes), np.ascontiguousarray(x), expected, steps)
