"""Hidden tests for the Q-learning exercise: the public checks on other inputs and other worlds.

Every input is drawn per student from the `rng` fixture (seeded with the
course's secret and the student id): Q-tables, steps, q_values with ties,
epsilon, DQN batches, transitions, seeds, the parameters of the episode-end
check, and whether a student gets each hidden grid world as drawn or mirrored
left-right (SYMMETRIES). The three base worlds below are hand-picked edge
cases with measured episode budgets (see HIDDEN_WORLDS) and are not in the
public tests; their variants are solved by value iteration at import, once
per batch.
Fixed on purpose: the ReplayBuffer sizes (capacity, pushes, batch size: the
number of samples drawn follows from them, see sample_repeats; the
transitions themselves are drawn per student). Oracles and known
mistakes are the public test module's; messages hide input and expected
values and do not draw the hidden worlds.
"""

import numpy as np
import pytest

from exercises.tests.support.gridworld_oracle import WorldCase, precompute, symmetric_case
from exercises.tests.test_qlearning import (check_dqn_targets, check_epsilon_greedy, check_q_learning, check_q_update,
                                            check_replay_buffer, dqn_case, draw_episode_end_case)

#: Episodes measured like PUBLIC_WORLDS' (1,900 seeds per world): estimated
#: probability that a correct solution fails, with the last failure seen:
#: hidden-1 at 2000 below 8e-7 (995), hidden-2 at 100 below 1e-19 (23: one
#: corridor, learnt within a few dozen episodes; it had 500), hidden-3 at 3300
#: below 4e-7 (1408; it had 3000, up to 2e-6).
#: Re-measured with the left-right mirror (SYMMETRIES) and truncation
#: bootstrapped, 3,000 seeds per variant and tie-breaking rule (first index as
#: the reference, random as the corpus's `vectorized`), Q-learning simulated
#: for all seeds at once, the same exponential tail fit: hidden-1 at 2000 was
#: 2e-6 mirrored (last failure 1296) and 1e-6 with random ties (1188), so it
#: now has 2400 (below 2e-7 for every variant); hidden-3 at 3300: 4e-7 as
#: drawn (1613), 1e-7 mirrored (1601), 1e-7 with random ties (1441), so it
#: keeps 3300; hidden-2 unchanged (1,000 seeds: below 1e-26, last failure 23).
HIDDEN_WORLDS = (
    WorldCase("hidden-1", """
        S...
        .X..
        ...X
        X..G
    """, step_reward=-0.04, gamma=0.9, max_steps=100, episodes=2400, alpha=0.5, epsilon=0.5),
    WorldCase("hidden-2", """
        .....
        .#X#.
        S#G..
    """, step_reward=-0.04, gamma=0.9, max_steps=100, episodes=100, alpha=0.5, epsilon=0.5),
    WorldCase("hidden-3", """
        X...X
        S.#.G
        X...X
    """, step_reward=0.0, gamma=0.9, max_steps=100, episodes=3300, alpha=0.5, epsilon=0.5),
)


#: Variants a student may get (symmetric_layout): as drawn (0) or mirrored left-right (4). Not the turned
#: ones: a Q-table of zeros makes the greedy action "up" (the first index) everywhere, so turning a world
#: changes where the untrained agent walks and how many episodes it needs (hidden-3 turned by 270 degrees
#: made a correct solution fail at 3300 episodes). The mirror keeps "up" first and only swaps the order of
#: right and left; its failure rates were measured like the original's (see HIDDEN_WORLDS).
SYMMETRIES = (0, 4)

precompute(tuple(symmetric_case(world, k) for world in HIDDEN_WORLDS for k in SYMMETRIES))


@pytest.mark.part("q_update")
@pytest.mark.parametrize("case", range(2))
def test_q_update_hidden(student, rng, case):
    check_q_update(student, rng, int(rng.integers(3, 30)), int(rng.integers(2, 7)))


def _q_with_ties(rng: np.random.Generator) -> np.ndarray:
    """3 or 4 actions; the maximum appears at least twice and not only at the end.

    Few actions keep the subtlest mistake ("the random action never is the greedy one", off by
    epsilon / n_actions) visible within about a thousand calls (see check_epsilon_greedy).
    """
    k = int(rng.integers(3, 5))
    q = rng.normal(size=k)
    top = rng.choice(k, 2, replace=False)
    q[top] = q.max() + 1.0
    return q


@pytest.mark.part("epsilon_greedy")
@pytest.mark.parametrize("case", range(2))
def test_epsilon_greedy_hidden(student, rng, case):
    q = _q_with_ties(rng)
    epsilon = float(rng.choice([0.75, 0.8]))
    check_epsilon_greedy(student, q, epsilon, int(rng.integers(2**31)))


@pytest.mark.part("dqn_targets")
@pytest.mark.parametrize("case", range(2))
def test_dqn_targets_hidden(student, rng, case):
    gamma = float(rng.uniform(0.8, 0.999))
    check_dqn_targets(student, [(*dqn_case(rng, int(rng.integers(4, 40)), int(rng.integers(2, 7))), gamma)
                                for _ in range(2)])


@pytest.mark.part("replay_buffer")
@pytest.mark.parametrize("capacity, pushes, state_dim, batch_size", [(4, 9, 3, 3), (5, 7, 1, 2)])
def test_replay_buffer_hidden(student, rng, capacity, pushes, state_dim, batch_size):
    check_replay_buffer(student, rng, capacity, pushes, state_dim, batch_size)


@pytest.mark.part("q_learning")
@pytest.mark.parametrize("case", HIDDEN_WORLDS, ids=[w.name for w in HIDDEN_WORLDS])
def test_q_learning_hidden(student, rng, case):
    world = symmetric_case(case, int(rng.choice(SYMMETRIES)))
    check_q_learning(student, world, int(rng.integers(2**31)), draw_episode_end_case(rng))
