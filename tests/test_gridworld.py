"""Unit tests of the course's GridWorld (exercises/gridworld.py) and of the
trusted GridWorld oracle (exercises/tests/support/gridworld_oracle.py).

They run the trusted side directly, without the sandbox: the environment
follows the exercise contract, its transition model agrees with the oracle's
independent one on every world the graders use, value iteration gives the
values a shortest-path argument predicts, the policy check names the right
state, and the reference q_learning finds the optimal policy on every public
and hidden world (GRIDWORLD_SEEDS seeds per world, default 3; set it to 100
for the full reliability check).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import deque
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT / "exercises", ROOT / "exercises" / "tests", ROOT / "autograder_tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from gridworld import GridWorld  # noqa: E402
from support import gridworld_oracle as oracle  # noqa: E402
from test_qlearning_hidden import HIDDEN_WORLDS  # noqa: E402

ALL_WORLDS = oracle.PUBLIC_WORLDS + HIDDEN_WORLDS
CLASSIC = """
    ...G
    .#.X
    S...
"""


def _load_reference():
    spec = importlib.util.spec_from_file_location("qlearning_reference", ROOT / "solutions" / "qlearning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the environment ----------------------------------------------------------------------------

def test_layout_parsing():
    env = GridWorld(CLASSIC, step_reward=-0.04, max_steps=7)
    assert env.shape == (3, 4) and env.n_states == 12 and env.n_actions == 4
    assert env.start == 8 and env.max_steps == 7
    assert env.cell(3) == "G" and env.cell(7) == "X" and env.cell(5) == "#"
    assert env.is_terminal(3) and env.is_terminal(7) and not env.is_terminal(8)


@pytest.mark.parametrize("layout, needle", [
    ("S.\n...G", "row 1"), ("S.Y\n..G", "unknown"), ("...\n..G", "one start"),
    ("S.S\n..G", "one start"), ("S..\n...", "goal"), ("", "empty"),
])
def test_bad_layouts_are_rejected(layout, needle):
    with pytest.raises(ValueError, match=needle):
        GridWorld(layout)


def test_moves_walls_and_rewards():
    env = GridWorld(CLASSIC, step_reward=-0.04)
    s = env.reset()
    assert s == 8
    assert env.step(2) == (8, -0.04, False)      # left: off the grid, stays
    assert env.step(3) == (8, -0.04, False)      # down: off the grid, stays
    assert env.step(0) == (4, -0.04, False)      # up
    assert env.step(1) == (4, -0.04, False)      # right: wall at (1, 1), stays
    assert env.step(0) == (0, -0.04, False)
    assert env.step(1) == (1, -0.04, False)
    assert env.step(1) == (2, -0.04, False)
    assert env.step(1) == (3, 1.0, True)         # goal
    with pytest.raises(RuntimeError):
        env.step(0)                              # episode over: reset first
    env.reset()
    for a in (1, 1, 1, 0):
        state, reward, done = env.step(np.int64(a))   # numpy ints are actions too
    assert (state, reward, done) == (7, -1.0, True)   # pit


def test_max_steps_cuts_the_episode_off():
    env = GridWorld(CLASSIC, step_reward=0.0, max_steps=3)
    env.reset()
    assert env.step(2)[2] is False and env.step(2)[2] is False
    assert env.step(2) == (8, 0.0, True)
    env.reset()
    assert env.step(2) == (8, 0.0, False)        # reset restarts the count


def test_step_before_reset_and_bad_actions():
    env = GridWorld(CLASSIC)
    with pytest.raises(RuntimeError):
        env.step(0)
    env.reset()
    with pytest.raises(ValueError):
        env.step(4)
    with pytest.raises(TypeError):
        env.step(1.0)
    with pytest.raises(TypeError):
        env.step(True)


def test_render_draws_arrows():
    env = GridWorld(CLASSIC)
    text = env.render(np.full(env.n_states, 1))
    assert text.splitlines() == ["→ → → G", "→ # → X", "→ → → →"]


# --- the oracle agrees with the environment ----------------------------------------------------

@pytest.mark.parametrize("case", ALL_WORLDS, ids=[w.name for w in ALL_WORLDS])
def test_oracle_model_matches_environment(case):
    env = GridWorld(case.layout, step_reward=case.step_reward, max_steps=case.max_steps)
    next_state, reward, terminal = oracle.transition_model(case.layout, case.step_reward)
    assert next_state.shape == (env.n_states, 4)
    for s in range(env.n_states):
        assert terminal[s] == env.is_terminal(s)
        for a in range(4):
            s2, r, done = env.transition(s, a)
            assert (s2, r, done) == (next_state[s, a], reward[s, a], terminal[s2]), (case.name, s, a)
    assert oracle.reachable_states(case.layout), case.name


def _shortest_steps(layout: str) -> dict[int, int]:
    """BFS distance (in steps) from every non-terminal cell to the nearest G, avoiding pits."""
    rows = oracle.parse_layout(layout)
    next_state, _, terminal = oracle.transition_model(layout, 0.0)
    goals = [i for i, ch in enumerate("".join(rows)) if ch == "G"]
    dist = {g: 0 for g in goals}
    todo = deque(goals)
    while todo:
        t = todo.popleft()
        for s in range(len(terminal)):
            if terminal[s] or s in dist or "".join(rows)[s] == "#":
                continue
            if t in next_state[s]:
                dist[s] = dist[t] + 1
                todo.append(s)
    return dist


@pytest.mark.parametrize("case", ALL_WORLDS, ids=[w.name for w in ALL_WORLDS])
def test_value_iteration_matches_shortest_paths(case):
    """In these worlds the best policy walks the shortest pit-free path to G: V* follows from its length."""
    q_star = oracle.value_iteration(case.layout, case.step_reward, case.gamma)
    dist = _shortest_steps(case.layout)
    for s in oracle.reachable_states(case.layout):
        d = dist[s]
        want = case.step_reward * sum(case.gamma ** k for k in range(d - 1)) + case.gamma ** (d - 1)
        assert q_star[s].max() == pytest.approx(want, abs=1e-9), (case.name, s)


def test_policy_check_names_the_wrong_state():
    case = oracle.PUBLIC_WORLDS[0]
    q_star = oracle.value_iteration(case.layout, case.step_reward, case.gamma)
    assert oracle.policy_violations(q_star, case.layout, case.step_reward, case.gamma) == []
    q = q_star.copy()
    q[8] = [0.0, 0.0, 1.0, 0.0]                # left at the start: into the border, not optimal
    violations = oracle.policy_violations(q, case.layout, case.step_reward, case.gamma)
    assert [(v.state, v.row, v.col, v.action, v.optimal) for v in violations] == [(8, 2, 0, 2, (0, 1))]
    public = oracle.describe_violations(q, case, violations, reveal=True)
    assert "state 8 (row 2, column 0)" in public and "2 (left)" in public and "0 (up) or 1 (right)" in public
    assert "[←]" in public
    hidden = oracle.describe_violations(q, case, violations, reveal=False)
    assert "state 8" in hidden and "optimal is" not in hidden and "[←]" not in hidden
    assert oracle.render_policy(case.layout, np.argmax(q, axis=1)).splitlines()[0] not in hidden


def test_unreachable_states_do_not_count():
    layout = """
        S.G#.
        ...#.
    """
    assert oracle.reachable_states(layout) == [0, 1, 5, 6, 7]
    q_star = oracle.value_iteration(layout, -0.04, 0.9)
    q = q_star.copy()
    q[4] = q[9] = [1.0, 0.0, 0.0, 0.0]         # walled-off cells: anything goes
    assert oracle.policy_violations(q, layout, -0.04, 0.9) == []


# --- the reference solves every world ------------------------------------------------------------

SEEDS = int(os.environ.get("GRIDWORLD_SEEDS", "3"))


@pytest.mark.parametrize("case", ALL_WORLDS, ids=[w.name for w in ALL_WORLDS])
def test_reference_q_learning_is_optimal(case):
    reference = _load_reference()
    failed = []
    for seed in range(SEEDS):
        env = GridWorld(case.layout, step_reward=case.step_reward, max_steps=case.max_steps)
        q = reference.q_learning(env, case.episodes, case.alpha, case.gamma, case.epsilon,
                                 np.random.default_rng(seed))
        if oracle.policy_violations(q, case.layout, case.step_reward, case.gamma):
            failed.append(seed)
    assert not failed, f"reference not optimal on {case.name} for seeds {failed}"
