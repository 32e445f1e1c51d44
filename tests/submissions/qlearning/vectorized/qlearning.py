"""Corpus variant 'vectorized': correct, one-hot updates, ring-buffer arrays, random tie-breaking in q_learning."""

from __future__ import annotations

import numpy as np


def q_update(Q, s, a, r, s_next, done, alpha, gamma):
    target = r + gamma * np.max(Q[s_next]) * (not done)
    onehot = np.zeros_like(Q, dtype=float)
    onehot[s, a] = 1.0
    return Q + alpha * (target - Q[s, a]) * onehot


def epsilon_greedy(q_values, epsilon, rng):
    q_values = np.asarray(q_values)
    if rng.random() < epsilon:
        return int(rng.integers(0, q_values.shape[0]))
    return int(np.flatnonzero(q_values == q_values.max())[0])


def dqn_targets(rewards, next_q_target, dones, gamma):
    return np.where(dones.astype(bool), rewards, rewards + gamma * next_q_target.max(axis=1))


class ReplayBuffer:
    """Preallocated arrays written in a circle; allocated at the first push."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.size = 0
        self.pos = 0
        self.data = None

    def push(self, state, action, reward, next_state, done):
        fields = (np.asarray(state), action, reward, np.asarray(next_state), done)
        if self.data is None:
            self.data = [np.zeros((self.capacity,) + np.shape(f), dtype=np.asarray(f).dtype) for f in fields]
        for store, value in zip(self.data, fields):
            store[self.pos] = value
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        idx = rng.choice(self.size, size=batch_size, replace=False)   # ValueError if batch_size > size
        return tuple(store[idx] for store in self.data)

    def __len__(self):
        return self.size


def q_learning(env, episodes, alpha, gamma, epsilon, rng):
    """Exploitation breaks ties at random (exploring untried actions); exploration is uniform."""
    Q = np.zeros((env.n_states, env.n_actions))
    for _ in range(episodes):
        s, over = env.reset(), False
        while not over:
            if rng.random() < epsilon:
                a = rng.integers(env.n_actions)
            else:
                a = rng.choice(np.flatnonzero(Q[s] == Q[s].max()))
            s2, r, terminal, cut_off = env.step(int(a))
            Q[s, a] += alpha * (r + (0.0 if terminal else gamma * Q[s2].max()) - Q[s, a])
            s, over = s2, terminal or cut_off
    return Q
