"""Corpus variant 'learning_max_of_s': the reference with one mistake: bootstraps from max Q[s] instead of max Q[s_next]."""

from __future__ import annotations

from collections import deque

import numpy as np


def q_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, done: bool,
             alpha: float, gamma: float) -> np.ndarray:
    """One tabular Q-learning step; returns a new table, ``Q`` stays unchanged.

    Q: (n_states, n_actions). The bootstrap term max_a' Q[s_next, a'] is left
    out when ``done`` is True (there is no future after a terminal step).
    """
    target = r if done else r + gamma * np.max(Q[s_next])
    new_q = np.array(Q, dtype=float, copy=True)
    new_q[s, a] += alpha * (target - Q[s, a])
    return new_q


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """With probability epsilon a uniformly random action (any of them), else argmax.

    q_values: (n_actions,). ``np.argmax`` returns the first index of the maximum.
    """
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


def dqn_targets(rewards: np.ndarray, next_q_target: np.ndarray, dones: np.ndarray,
                gamma: float) -> np.ndarray:
    """DQN regression targets y_i = r_i + gamma * (1 - done_i) * max_a next_q_target[i, a].

    rewards: (N,), next_q_target: (N, n_actions), dones: (N,) 0/1; returns (N,).
    """
    return rewards + gamma * (1.0 - dones) * np.max(next_q_target, axis=1)


class ReplayBuffer:
    """Fixed-size memory of transitions; the oldest one is dropped when full (FIFO)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.memory: deque = deque(maxlen=capacity)

    def push(self, state, action, reward, next_state, done) -> None:
        """Store one transition (evicts the oldest when the buffer is full)."""
        self.memory.append((state, action, reward, next_state, done))

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple:
        """``batch_size`` distinct transitions drawn uniformly, as stacked arrays.

        Returns (states, actions, rewards, next_states, dones), each with
        ``batch_size`` rows. Raises ValueError if fewer transitions are stored.
        """
        if batch_size > len(self.memory):
            raise ValueError(f"cannot sample {batch_size} transitions from {len(self.memory)}")
        idx = rng.choice(len(self.memory), size=batch_size, replace=False)
        batch = [self.memory[i] for i in idx]
        return tuple(np.array(column) for column in zip(*batch))

    def __len__(self) -> int:
        return len(self.memory)


def q_learning(env, episodes: int, alpha: float, gamma: float, epsilon: float,
               rng: np.random.Generator) -> np.ndarray:
    """Tabular Q-learning written out inline (does not use the functions above)."""
    Q = np.zeros((env.n_states, env.n_actions))
    for _ in range(episodes):
        s, terminated, truncated = env.reset(), False, False
        while not (terminated or truncated):
            a = int(rng.integers(env.n_actions)) if rng.random() < epsilon else int(np.argmax(Q[s]))
            s_next, r, terminated, truncated = env.step(a)
            target = r if terminated else r + gamma * np.max(Q[s])
            Q[s, a] += alpha * (target - Q[s, a])
            s = s_next
    return Q
