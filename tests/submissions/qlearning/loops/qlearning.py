"""Corpus variant 'loops': correct, plain Python loops, list-based buffer, inline Q-learning update."""

from __future__ import annotations

import numpy as np


def q_update(Q, s, a, r, s_next, done, alpha, gamma):
    """New table with Q[s, a] moved towards the TD target."""
    new_q = Q.copy()
    if done:
        target = r
    else:
        best = Q[s_next][0]
        for value in Q[s_next]:
            if value > best:
                best = value
        target = r + gamma * best
    new_q[s][a] = Q[s][a] + alpha * (target - Q[s][a])
    return new_q


def epsilon_greedy(q_values, epsilon, rng):
    """Random action with probability epsilon, else the first maximal index."""
    if rng.uniform() < epsilon:
        return int(rng.choice(len(q_values)))
    best = 0
    for i in range(1, len(q_values)):
        if q_values[i] > q_values[best]:
            best = i
    return best


def dqn_targets(rewards, next_q_target, dones, gamma):
    """One target per transition."""
    out = np.zeros(len(rewards))
    for i in range(len(rewards)):
        if dones[i]:
            out[i] = rewards[i]
        else:
            out[i] = rewards[i] + gamma * max(next_q_target[i])
    return out


class ReplayBuffer:
    """A list; the oldest transition is popped when full."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.items = []

    def push(self, state, action, reward, next_state, done):
        if len(self.items) == self.capacity:
            self.items.pop(0)
        self.items.append((state, action, reward, next_state, done))

    def sample(self, batch_size, rng):
        if batch_size > len(self.items):
            raise ValueError("not enough transitions stored")
        order = rng.permutation(len(self.items))[:batch_size]
        chosen = [self.items[i] for i in order]
        states = np.stack([c[0] for c in chosen])
        actions = np.array([c[1] for c in chosen])
        rewards = np.array([c[2] for c in chosen])
        next_states = np.stack([c[3] for c in chosen])
        dones = np.array([c[4] for c in chosen])
        return states, actions, rewards, next_states, dones

    def __len__(self):
        return len(self.items)


def q_learning(env, episodes, alpha, gamma, epsilon, rng):
    """Tabular Q-learning, updating the table in place."""
    Q = np.zeros((env.n_states, env.n_actions))
    for episode in range(episodes):
        state = env.reset()
        for t in range(env.max_steps):
            if rng.random() < epsilon:
                action = int(rng.integers(env.n_actions))
            else:
                action = int(np.argmax(Q[state]))
            next_state, reward, terminated, truncated = env.step(action)
            future = 0.0 if terminated else gamma * np.max(Q[next_state])    # a time-limit cut-off still has a future
            Q[state, action] += alpha * (reward + future - Q[state, action])
            state = next_state
            if terminated or truncated:
                break
    return Q
