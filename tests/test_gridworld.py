"""Unit tests of the course's GridWorld (exercises/gridworld.py) and of the
trusted GridWorld oracle (exercises/tests/support/gridworld_oracle.py).

They run the trusted side directly, without the sandbox: the environment
follows the exercise contract, its transition model agrees with the oracle's
independent one on every world the graders use, value iteration gives the
values a shortest-path argument predicts, the policy check names the right
state, and the reference q_learning finds the optimal policy on every public
world and every variant of a hidden world a student can get (GRIDWORLD_SEEDS
seeds per world, default 3; set it to 100 for the full reliability check).
step() returns (state, reward, terminated, truncated) as Gymnasium does, and
the episode-end check of test_qlearning.py (terminated: no bootstrap;
truncated: bootstrap) passes right solutions and names each mistake.
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
for folder in (ROOT / "exercises", ROOT):  # gridworld as students import it; the course's test packages
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from gridworld import GridWorld  # noqa: E402
from exercises.tests.support import gridworld_oracle as oracle  # noqa: E402
from exercises.tests import test_qlearning  # noqa: E402
from grader.trusted.checks import CheckFailed  # noqa: E402
from autograder_tests.test_qlearning_hidden import HIDDEN_WORLDS, SYMMETRIES  # noqa: E402

#: Every world a test grades on: the public ones and each variant of the hidden ones a student can get.
ALL_WORLDS = oracle.PUBLIC_WORLDS + tuple(oracle.symmetric_case(w, k) for w in HIDDEN_WORLDS for k in SYMMETRIES)
ALL_IDS = [w.name for w in oracle.PUBLIC_WORLDS] + [f"{w.name}-k{k}" for w in HIDDEN_WORLDS for k in SYMMETRIES]
CLASSIC = """
    ...G
    .#.X
    S...
"""


def _load_reference(path: Path = ROOT / "solutions" / "qlearning.py"):
    spec = importlib.util.spec_from_file_location("qlearning_reference", path)
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
    ("S.\n...G", "Zeile 1"), ("S.Y\n..G", "unbekannte Zeichen"), ("...\n..G", "genau ein Startfeld"),
    ("S.S\n..G", "genau ein Startfeld"), ("S..\n...", "Zielfeld"), ("", "leer"),
])
def test_bad_layouts_are_rejected(layout, needle):
    with pytest.raises(ValueError, match=needle):
        GridWorld(layout)


def test_moves_walls_and_rewards():
    env = GridWorld(CLASSIC, step_reward=-0.04)
    s = env.reset()
    assert s == 8
    assert env.step(2) == (8, -0.04, False, False)      # left: off the grid, stays
    assert env.step(3) == (8, -0.04, False, False)      # down: off the grid, stays
    assert env.step(0) == (4, -0.04, False, False)      # up
    assert env.step(1) == (4, -0.04, False, False)      # right: wall at (1, 1), stays
    assert env.step(0) == (0, -0.04, False, False)
    assert env.step(1) == (1, -0.04, False, False)
    assert env.step(1) == (2, -0.04, False, False)
    assert env.step(1) == (3, 1.0, True, False)         # goal: terminated, not truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)                                     # episode over: reset first
    env.reset()
    for a in (1, 1, 1, 0):
        result = env.step(np.int64(a))                  # numpy ints are actions too
    assert result == (7, -1.0, True, False)             # pit
    assert all(type(flag) is bool for flag in result[2:])


def test_max_steps_truncates_the_episode():
    """The time limit sets truncated (not terminated): the state is not terminal."""
    env = GridWorld(CLASSIC, step_reward=0.0, max_steps=3)
    env.reset()
    assert env.step(2) == (8, 0.0, False, False) and env.step(2) == (8, 0.0, False, False)
    assert env.step(2) == (8, 0.0, False, True)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)                                     # truncated ends the episode too
    env.reset()
    assert env.step(2) == (8, 0.0, False, False)        # reset restarts the count


def test_terminal_step_at_the_time_limit_is_both():
    """As in Gymnasium: entering G on step max_steps gives terminated and truncated."""
    env = GridWorld("SG", max_steps=1)
    env.reset()
    assert env.step(1) == (1, 1.0, True, True)


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

@pytest.mark.parametrize("case", ALL_WORLDS, ids=ALL_IDS)
def test_oracle_model_matches_environment(case):
    env = GridWorld(case.layout, step_reward=case.step_reward, max_steps=case.max_steps)
    next_state, reward, terminal = oracle.transition_model(case.layout, case.step_reward)
    assert next_state.shape == (env.n_states, 4)
    for s in range(env.n_states):
        assert terminal[s] == env.is_terminal(s)
        for a in range(4):
            s2, r, terminated = env.transition(s, a)
            assert (s2, r, terminated) == (next_state[s, a], reward[s, a], terminal[s2]), (case.name, s, a)
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


@pytest.mark.parametrize("case", ALL_WORLDS, ids=ALL_IDS)
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
    assert "Zustand 8 (Zeile 2, Spalte 0)" in public and "2 (links)" in public
    assert "optimal ist 0 (hoch) oder 1 (rechts)" in public
    assert "[←]" in public
    hidden = oracle.describe_violations(q, case, violations, reveal=False)
    assert "Zustand 8" in hidden and "optimal ist" not in hidden and "[←]" not in hidden
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


@pytest.mark.parametrize("case", ALL_WORLDS, ids=ALL_IDS)
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


# --- hidden world variants ------------------------------------------------------------------------

@pytest.mark.parametrize("k", range(8))
def test_symmetric_layouts_keep_the_world(k):
    """Turned/mirrored worlds: same cells, same optimal value at the start, shape swapped for quarter turns."""
    case = HIDDEN_WORLDS[2]                      # 3 x 5: quarter turns make it 5 x 3
    variant = oracle.symmetric_case(case, k)
    rows, turned = oracle.parse_layout(case.layout), oracle.parse_layout(variant.layout)
    assert sorted("".join(rows)) == sorted("".join(turned))
    assert (len(turned), len(turned[0])) == ((len(rows[0]), len(rows)) if k % 2 else (len(rows), len(rows[0])))
    def start_value(layout):
        start = "".join(oracle.parse_layout(layout)).index("S")
        return oracle.value_iteration(layout, case.step_reward, case.gamma)[start].max()
    assert start_value(variant.layout) == pytest.approx(start_value(case.layout), abs=1e-12)
    env = GridWorld(variant.layout, step_reward=case.step_reward, max_steps=case.max_steps)
    assert env.shape == (len(turned), len(turned[0]))


def test_mirror_swaps_left_and_right():
    assert oracle.symmetric_layout("S.#\n..G", 4).splitlines() == ["#.S", "G.."]
    assert oracle.symmetric_layout("S.#\n..G", 0).splitlines() == ["S.#", "..G"]


# --- the episode-end check (terminated vs truncated) -----------------------------------------------

END_CASES = [test_qlearning.PUBLIC_EPISODE_END,
             test_qlearning.EpisodeEndCase(gamma=0.7, step_reward=-0.05, goal_reward=0.5),     # slowest corner
             test_qlearning.EpisodeEndCase(gamma=0.5, step_reward=-0.5, goal_reward=2.0)]
CORPUS = ROOT / "tests" / "submissions" / "qlearning"


def _episode_ends(monkeypatch, module, end, seed: int):
    """Run the test's driver in-process with ``module`` as the student's qlearning (tiny world for speed)."""
    monkeypatch.setitem(sys.modules, "qlearning", module)
    world = HIDDEN_WORLDS[1]
    time_limit, ring, _ = test_qlearning.q_learning_driver(
        world.layout, world.step_reward, world.max_steps, 1, world.alpha, world.gamma, world.epsilon, seed,
        (test_qlearning.TIME_LIMIT_LAYOUT, end.step_reward, end.goal_reward, end.episodes, end.alpha, end.gamma,
         end.epsilon))
    return time_limit, ring


@pytest.mark.parametrize("end", END_CASES)
def test_episode_end_check_passes_right_solutions(monkeypatch, end):
    """The reference and the corpus's other right styles (random ties, for-loop) pass on several seeds."""
    for path in (ROOT / "solutions" / "qlearning.py", CORPUS / "vectorized" / "qlearning.py",
                 CORPUS / "loops" / "qlearning.py"):
        module = _load_reference(path)
        for seed in range(SEEDS):
            test_qlearning.check_episode_ends(*_episode_ends(monkeypatch, module, end, seed), end)


@pytest.mark.parametrize("variant, mistake", [
    ("learning_truncation_as_termination", "truncation_as_termination"),
    ("learning_bootstrap_through_termination", "bootstrap_through_termination"),
])
@pytest.mark.parametrize("end", END_CASES)
def test_episode_end_check_names_the_mistake(monkeypatch, variant, mistake, end):
    module = _load_reference(CORPUS / variant / "qlearning.py")
    with pytest.raises(CheckFailed) as info:
        test_qlearning.check_episode_ends(*_episode_ends(monkeypatch, module, end, 0), end)
    assert info.value.mistake_id == mistake


def test_episode_end_check_names_swapped_flags(monkeypatch, tmp_path):
    """A loop that bootstraps after terminated but not after truncated is told that it swapped them."""
    source = (CORPUS / "learning_truncation_as_termination" / "qlearning.py").read_text()
    wrong = "            target = r if terminated or truncated else r + gamma * np.max(Q[s_next])"
    assert wrong in source
    path = tmp_path / "qlearning.py"
    path.write_text(source.replace(wrong, "            target = r if truncated else r + gamma * np.max(Q[s_next])"))
    module = _load_reference(path)
    end = test_qlearning.PUBLIC_EPISODE_END
    with pytest.raises(CheckFailed) as info:
        test_qlearning.check_episode_ends(*_episode_ends(monkeypatch, module, end, 0), end)
    assert info.value.mistake_id == "terminated_truncated_swapped"
    assert "terminated und truncated vertauscht" in str(info.value)
