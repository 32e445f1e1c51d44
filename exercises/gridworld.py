"""The course's GridWorld: a small deterministic grid environment (numpy only).

A world is written as text, one character per cell:

    S  start            .  free cell
    G  goal  (terminal, reward +1)
    X  pit   (terminal, reward -1)
    #  wall  (cannot be entered)

Example::

    env = GridWorld('''
        ...G
        .#.X
        S...
    ''', step_reward=-0.01, max_steps=100)
    state = env.reset()
    state, reward, terminated, truncated = env.step(1)      # move right

States are ints ``row * width + column`` for every cell (walls included, they
are simply never visited), so a Q-table has shape ``(env.n_states,
env.n_actions)``. Actions: 0 up, 1 right, 2 left, 3 down. A move into a wall
or off the grid leaves the agent where it is. Entering ``G`` gives +1, entering
``X`` gives -1 (both end the episode: ``terminated=True``), every other step
gives ``step_reward``. After ``max_steps`` steps the episode is cut off by the
time limit: ``step`` returns ``truncated=True``. As in Gymnasium, a truncated
state is not terminal: it still has a future, so Q-learning bootstraps from
it; only a terminated step has no future value (if one step is both, it is
terminal). After either, call ``reset()``.

The transition model (``transition``, ``is_terminal``) is public so that value
iteration can be written against it; Q-learning must not use it.
"""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = ["GridWorld", "ACTION_NAMES", "MOVES"]

#: Action index -> (row change, column change).
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (0, -1), (1, 0))
#: Action index -> name, for printing.
ACTION_NAMES: tuple[str, ...] = ("up", "right", "left", "down")
_CELLS = set("SG#X.")


def _parse(layout: str) -> list[str]:
    """Split a layout text into rows; indentation and blank edge lines are ignored."""
    rows = [line.strip() for line in textwrap.dedent(layout).strip("\n").splitlines()]
    rows = [row for row in rows if row]
    if not rows:
        raise ValueError("Das GridWorld-Layout ist leer.")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"Zeile {i} des GridWorld-Layouts hat {len(row)} Felder, erwartet waren {width}.")
        bad = set(row) - _CELLS
        if bad:
            raise ValueError(f"Zeile {i} des GridWorld-Layouts enthält unbekannte Zeichen "
                             f"({' '.join(sorted(bad))}); erlaubt sind S G X # .")
    text = "".join(rows)
    if text.count("S") != 1:
        raise ValueError("Das GridWorld-Layout braucht genau ein Startfeld 'S'.")
    if "G" not in text:
        raise ValueError("Das GridWorld-Layout braucht mindestens ein Zielfeld 'G'.")
    return rows


class GridWorld:
    """Deterministic grid world built from a text layout (see the module docstring).

    Attributes:
        rows: the layout, one string per grid row.
        shape: ``(height, width)``.
        n_states: ``height * width`` (state = row * width + column).
        n_actions: 4 (0 up, 1 right, 2 left, 3 down).
        start: the start state.
        step_reward: reward of a step that does not enter G or X.
        max_steps: an episode is cut off (``truncated=True``) after this many steps.
    """

    n_actions: int = 4

    def __init__(self, layout: str, step_reward: float = -0.01, max_steps: int = 100) -> None:
        self.rows: list[str] = _parse(layout)
        self.shape: tuple[int, int] = (len(self.rows), len(self.rows[0]))
        self.n_states: int = self.shape[0] * self.shape[1]
        self.step_reward = float(step_reward)
        if int(max_steps) < 1:
            raise ValueError("max_steps muss mindestens 1 sein.")
        self.max_steps = int(max_steps)
        self.start: int = "".join(self.rows).index("S")
        self._state: int | None = None
        self._steps = 0
        # step() looks its move up here: transition() for every (state, action), once. Q-learning takes
        # tens of thousands of steps, and re-checking the move each time cost most of a step's time.
        self._moves = [[self.transition(s, a) for a in range(self.n_actions)] for s in range(self.n_states)]

    # -- the model (what value iteration needs) -------------------------------

    def cell(self, state: int) -> str:
        """The layout character of ``state`` ('S', 'G', 'X', '#' or '.')."""
        row, col = divmod(int(state), self.shape[1])
        return self.rows[row][col]

    def is_terminal(self, state: int) -> bool:
        """True for goal and pit cells: an episode ends when it enters one."""
        return self.cell(state) in "GX"

    def transition(self, state: int, action: int) -> tuple[int, float, bool]:
        """Deterministic model: ``(next_state, reward, terminal)`` of ``action`` in ``state``.

        Does not touch the episode; ``terminal`` does not include the
        ``max_steps`` cut-off.
        """
        action = self._check_action(action)
        height, width = self.shape
        row, col = divmod(int(state), width)
        d_row, d_col = MOVES[action]
        new_row, new_col = row + d_row, col + d_col
        if not (0 <= new_row < height and 0 <= new_col < width) or self.rows[new_row][new_col] == "#":
            new_row, new_col = row, col
        next_state = new_row * width + new_col
        target = self.rows[new_row][new_col]
        if target == "G":
            return next_state, 1.0, True
        if target == "X":
            return next_state, -1.0, True
        return next_state, self.step_reward, False

    # -- the episode -----------------------------------------------------------

    def reset(self) -> int:
        """Start a new episode; returns the start state."""
        self._state = self.start
        self._steps = 0
        return self._state

    def step(self, action: int) -> tuple[int, float, bool, bool]:
        """Take ``action``; returns ``(state, reward, terminated, truncated)`` as Gymnasium does.

        ``terminated`` is True when a terminal cell (G or X) was entered: that
        state has no future. ``truncated`` is True when this was step number
        ``max_steps``: the episode is cut off by the time limit, but the state
        is not terminal (unless ``terminated`` is True as well, on the same
        step: then it is terminal). After either, call ``reset()`` before the
        next step.
        """
        if self._state is None:
            raise RuntimeError("Rufen Sie reset() vor step() auf: Die Episode ist beendet (terminated oder "
                               "truncated) oder hat noch nicht begonnen.")
        if type(action) is not int or not 0 <= action < self.n_actions:
            action = self._check_action(action)  # raises for anything but an action index
        next_state, reward, terminated = self._moves[self._state][action]
        self._steps += 1
        truncated = self._steps >= self.max_steps
        self._state = None if terminated or truncated else next_state
        return next_state, reward, terminated, truncated

    # -- printing ----------------------------------------------------------------

    def render(self, policy: np.ndarray | None = None) -> str:
        """The grid as text; with ``policy`` (n_states,) free cells show arrows."""
        arrows = "↑→←↓"
        lines = []
        for r, row in enumerate(self.rows):
            chars = []
            for c, ch in enumerate(row):
                if policy is not None and ch in "S.":
                    chars.append(arrows[int(policy[r * self.shape[1] + c])])
                else:
                    chars.append(ch)
            lines.append(" ".join(chars))
        return "\n".join(lines)

    def _check_action(self, action: int) -> int:
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise TypeError(f"Die Aktion muss eine ganze Zahl (int) von 0 bis 3 sein, erhalten: "
                            f"{type(action).__name__}.")
        if not 0 <= action < self.n_actions:
            raise ValueError(f"Die Aktion muss zwischen 0 und 3 liegen (0 hoch, 1 rechts, 2 links, 3 runter), "
                             f"erhalten: {int(action)}.")
        return int(action)

    def __repr__(self) -> str:
        return f"GridWorld(shape={self.shape}, step_reward={self.step_reward}, max_steps={self.max_steps})"
