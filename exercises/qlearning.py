"""Aufgabe Q-Learning: tabular Q-learning and DQN building blocks.

Only numpy may be used. See tasks/qlearning.md for the full task.
Never modify input arrays. The environment for q_learning is the course's
GridWorld (gridworld.py): reset() -> state, step(action) -> (state, reward,
terminated, truncated) as in Gymnasium, n_states, n_actions, max_steps.
terminated: a terminal cell (G or X) was entered, no future value.
truncated: the time limit max_steps cut the episode off; the state is not
terminal, so the update still bootstraps from it.
"""

from __future__ import annotations

import numpy as np


def q_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, done: bool,
             alpha: float, gamma: float) -> np.ndarray:
    """Return a NEW table with Q[s, a] moved towards r + gamma * max_a' Q[s_next, a'] (no max term if done).

    done means terminated (a terminal state was entered), not truncated.
    """
    # TODO
    raise NotImplementedError("q_update ist noch nicht implementiert (Aufgabe Q-Learning)")


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """With probability epsilon a uniformly random action (any of them), else the first index of the maximum."""
    # TODO
    raise NotImplementedError("epsilon_greedy ist noch nicht implementiert (Aufgabe Q-Learning)")


def dqn_targets(rewards: np.ndarray, next_q_target: np.ndarray, dones: np.ndarray,
                gamma: float) -> np.ndarray:
    """y_i = r_i + gamma * (1 - done_i) * max_a next_q_target[i, a]; rewards, dones (N,), next_q_target (N, A)."""
    # TODO
    raise NotImplementedError("dqn_targets ist noch nicht implementiert (Aufgabe Q-Learning)")


class ReplayBuffer:
    """Stores up to `capacity` transitions; when full, push drops the oldest one (FIFO)."""

    def __init__(self, capacity: int) -> None:
        # TODO
        raise NotImplementedError("ReplayBuffer ist noch nicht implementiert (Aufgabe Q-Learning)")

    def push(self, state, action, reward, next_state, done) -> None:
        """Store one transition."""
        # TODO
        raise NotImplementedError("ReplayBuffer.push ist noch nicht implementiert (Aufgabe Q-Learning)")

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple:
        """batch_size DISTINCT stored transitions, drawn uniformly, as (states, actions, rewards,
        next_states, dones), each a numpy array with batch_size rows. ValueError if batch_size > len(self)."""
        # TODO
        raise NotImplementedError("ReplayBuffer.sample ist noch nicht implementiert (Aufgabe Q-Learning)")

    def __len__(self) -> int:
        # TODO
        raise NotImplementedError("ReplayBuffer.__len__ ist noch nicht implementiert (Aufgabe Q-Learning)")


def q_learning(env, episodes: int, alpha: float, gamma: float, epsilon: float,
               rng: np.random.Generator) -> np.ndarray:
    """Tabular Q-learning with epsilon-greedy exploration; returns Q of shape (env.n_states, env.n_actions)."""
    # TODO: Q = zeros; per episode: s = env.reset(), then act epsilon-greedily,
    #       s_next, r, terminated, truncated = env.step(a), update Q (no bootstrap term only if
    #       terminated), continue from s_next until terminated or truncated.
    raise NotImplementedError("q_learning ist noch nicht implementiert (Aufgabe Q-Learning)")
