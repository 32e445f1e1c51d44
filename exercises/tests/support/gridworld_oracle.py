"""Trusted side of the GridWorld exercise: value iteration and the policy check.

Everything here is computed from the layout text alone, with its own parser
and transition model, so nothing the student's sandbox returns (or a changed
``gridworld.py``) can influence what counts as optimal. The rules are those
of ``exercises/gridworld.py``: states ``row * width + column``, actions
0 up, 1 right, 2 left, 3 down, moves into walls or off the grid stay, entering
``G`` gives +1 and ``X`` gives -1 (both terminal), every other step gives
``step_reward``.

The public worlds the public tests use are defined at the bottom. The model,
value iteration and the reachable states of a world are cached (read-only) and
computed for the public worlds at import: the grader imports test modules once
per batch, so every submission reuses them.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

MOVES = ((-1, 0), (0, 1), (0, -1), (1, 0))
ACTION_NAMES = ("hoch", "rechts", "links", "runter")     # as in the task text (German)
ARROWS = "↑→←↓"


@dataclass(frozen=True)
class WorldCase:
    """One grid world plus the Q-learning settings a test runs on it."""

    name: str
    layout: str
    step_reward: float
    gamma: float
    max_steps: int
    episodes: int
    alpha: float
    epsilon: float


def parse_layout(layout: str) -> list[str]:
    """Rows of the layout (surrounding whitespace and blank lines dropped)."""
    rows = [line.strip() for line in layout.strip("\n").splitlines()]
    rows = [row for row in rows if row]
    assert rows and all(len(row) == len(rows[0]) for row in rows), "Layout-Zeilen sind ungleich lang"
    assert "".join(rows).count("S") == 1, "Das Layout braucht genau ein S"
    return rows


@functools.cache
def transition_model(layout: str, step_reward: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``next_state (S, 4)``, ``reward (S, 4)``, ``terminal (S,)`` of the layout (read-only, cached).

    ``terminal[s]`` marks G and X cells (the episode ends on entering them).
    """
    rows = parse_layout(layout)
    height, width = len(rows), len(rows[0])
    n = height * width
    next_state = np.zeros((n, 4), dtype=np.int64)
    reward = np.zeros((n, 4))
    terminal = np.zeros(n, dtype=bool)
    for s in range(n):
        r, c = divmod(s, width)
        terminal[s] = rows[r][c] in "GX"
        for a, (dr, dc) in enumerate(MOVES):
            nr, nc = r + dr, c + dc
            if not (0 <= nr < height and 0 <= nc < width) or rows[nr][nc] == "#":
                nr, nc = r, c
            next_state[s, a] = nr * width + nc
            cell = rows[nr][nc]
            reward[s, a] = 1.0 if cell == "G" else -1.0 if cell == "X" else step_reward
    return _read_only(next_state), _read_only(reward), _read_only(terminal)


def _read_only(array: np.ndarray) -> np.ndarray:
    """Cached results are shared by every caller: nobody may change them."""
    array.flags.writeable = False
    return array


@functools.cache
def value_iteration(layout: str, step_reward: float, gamma: float, tol: float = 1e-13) -> np.ndarray:
    """Optimal action values ``Q* (S, 4)`` (read-only, cached); rows of terminal cells are 0.

    Infinite horizon: the time limit ``max_steps`` of an episode is not part of the model (a truncated
    state is not terminal), so Q* is what Q-learning that bootstraps on truncation converges to.
    """
    next_state, reward, terminal = transition_model(layout, step_reward)
    q = np.zeros(next_state.shape)
    for _ in range(100_000):
        v = q.max(axis=1)
        v[terminal] = 0.0
        new_q = reward + gamma * v[next_state]
        new_q[terminal] = 0.0
        if np.max(np.abs(new_q - q)) < tol:
            return _read_only(new_q)
        q = new_q
    raise RuntimeError("Value Iteration ist nicht konvergiert")


def reachable_states(layout: str) -> list[int]:
    """Non-terminal states reachable from S (by any sequence of moves), sorted."""
    return list(_reachable_states(layout))


@functools.cache
def _reachable_states(layout: str) -> tuple[int, ...]:
    next_state, _, terminal = transition_model(layout, 0.0)
    start = "".join(parse_layout(layout)).index("S")
    seen, todo = {start}, [start]
    while todo:
        s = todo.pop()
        if terminal[s]:
            continue
        for s2 in next_state[s]:
            if int(s2) not in seen:
                seen.add(int(s2))
                todo.append(int(s2))
    return tuple(sorted(s for s in seen if not terminal[s]))


@dataclass(frozen=True)
class Violation:
    """A reachable state where the greedy action of the student's Q is not optimal."""

    state: int
    row: int
    col: int
    action: int
    optimal: tuple[int, ...]


def policy_violations(q: np.ndarray, layout: str, step_reward: float, gamma: float) -> list[Violation]:
    """Reachable non-terminal states whose greedy action (first argmax of ``q``) is not optimal.

    Any optimal action is accepted when several are (ties within 1e-9).
    """
    q_star = value_iteration(layout, step_reward, gamma)
    width = len(parse_layout(layout)[0])
    greedy = np.argmax(q, axis=1)
    out = []
    for s in reachable_states(layout):
        best = q_star[s].max()
        optimal = tuple(int(a) for a in np.flatnonzero(q_star[s] >= best - 1e-9))
        if int(greedy[s]) not in optimal:
            out.append(Violation(s, s // width, s % width, int(greedy[s]), optimal))
    return out


def render_policy(layout: str, policy: np.ndarray, mark: int | None = None) -> str:
    """The grid with an arrow per free cell; the cell ``mark`` is drawn in brackets."""
    rows = parse_layout(layout)
    width = len(rows[0])
    lines = []
    for r, row in enumerate(rows):
        cells = []
        for c, ch in enumerate(row):
            s = r * width + c
            sym = ARROWS[int(policy[s])] if ch in "S." else ch
            cells.append(f"[{sym}]" if s == mark else f" {sym} ")
        lines.append("".join(cells))
    return "\n".join(lines)


def describe_violations(q: np.ndarray, case: WorldCase, violations: list[Violation], reveal: bool) -> str:
    """Student-facing message (German); with ``reveal=False`` (hidden worlds) no layout and no optimal actions."""
    v = violations[0]
    n_checked = len(reachable_states(case.layout))
    head = (
        f"Die gierige Politik Ihres Q (argmax je Zeile) ist in {len(violations)} von {n_checked} erreichbaren "
        f"Zuständen der Welt '{case.name}' nicht optimal. Zuerst: Zustand {v.state} (Zeile {v.row}, Spalte "
        f"{v.col}): Ihre gierige Aktion ist {v.action} ({ACTION_NAMES[v.action]})"
    )
    hint = (
        "\nPrüfen Sie das Ziel r + gamma * max_a' Q[s_next, a'] (nur r nach terminated=True, nach "
        "truncated=True wird weiter gebootstrappt), dass Sie im Folgezustand s_next weitermachen und dass die "
        "Exploration epsilon-greedy ist."
    )
    if not reveal:
        return head + " (verborgene Welt)." + hint
    optimal = " oder ".join(f"{a} ({ACTION_NAMES[a]})" for a in v.optimal)
    greedy = np.argmax(q, axis=1)
    grid = render_policy(case.layout, greedy, mark=v.state)
    return (
        f"{head}, optimal ist {optimal}.\n"
        f"Ihre gierige Politik (S Start, G Ziel, X Falle, # Wand; [ ] markiert den Zustand):\n{grid}" + hint
    )


# -- public worlds -----------------------------------------------------------------

#: Episodes from measured failure curves: the reference solution and two other
#: correct ones (one breaks ties at random) on 1,900 seeds per world, greedy
#: policy checked after every episode. A correct solution fails a world with
#: probability P(L >= episodes), L the last episode after which its policy was
#: not yet optimal; an exponential fitted to the top 5-10 % of L puts that below
#: 1e-6: classic at 1000 episodes 1e-7 (at the former 500 about 2e-4; latest
#: failure seen after 434), cliff at 1000 4e-7 (447), maze at 800 1e-7 (474).
#: Known wrong solutions (max over Q[s] instead of Q[s_next]; never moving on
#: to s_next) still fail every world.
PUBLIC_WORLDS: tuple[WorldCase, ...] = (
    WorldCase("classic", """
        ...G
        .#.X
        S...
    """, step_reward=-0.04, gamma=0.9, max_steps=100, episodes=1000, alpha=0.5, epsilon=0.5),
    WorldCase("cliff", """
        ......
        ......
        SXXXXG
    """, step_reward=-0.04, gamma=0.9, max_steps=100, episodes=1000, alpha=0.5, epsilon=0.5),
    WorldCase("maze", """
        S#...
        .#.#.
        ...#G
    """, step_reward=0.0, gamma=0.9, max_steps=100, episodes=800, alpha=0.5, epsilon=0.5),
)


def symmetric_layout(layout: str, k: int) -> str:
    """The layout turned by ``k % 4`` quarter turns and, for ``k >= 4``, mirrored left-right.

    ``k`` in 0..7 gives the 8 symmetries of the grid; the optimal policy is the same up to renaming the
    directions. The episodes Q-learning needs are not: a zero Q-table makes "up" (the first index) the
    greedy action everywhere, so a turned world is explored differently. The hidden tests use only
    k = 0 and the left-right mirror k = 4 (which keeps "up" first), with measured budgets.
    """
    grid = np.rot90(np.array([list(row) for row in parse_layout(layout)]), k % 4)
    if k >= 4:
        grid = grid[:, ::-1]
    return "\n".join("".join(row) for row in grid)


def symmetric_case(case: WorldCase, k: int) -> WorldCase:
    """``case`` with its layout turned/mirrored by symmetry ``k`` (see symmetric_layout); same settings."""
    return dataclasses.replace(case, layout=symmetric_layout(case.layout, k))


def precompute(worlds: tuple[WorldCase, ...]) -> None:
    """Fill the caches for these worlds (called at import, so once per batch, not per submission)."""
    for world in worlds:
        value_iteration(world.layout, world.step_reward, world.gamma)
        reachable_states(world.layout)


precompute(PUBLIC_WORLDS)
