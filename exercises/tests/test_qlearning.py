"""Public tests for the Q-learning exercise.

Expected values are computed here, outside your code, with plain NumPy.
epsilon_greedy and ReplayBuffer.sample are checked statistically: the bounds
are chosen so that a correct solution fails with probability below 1e-6.
q_learning runs in your sandbox on the course's GridWorld; the greedy policy
of the Q-table you return is compared with value iteration computed here
(support/gridworld_oracle.py). The helpers below are shared with the hidden
tests, which use other inputs and other worlds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import Mistake, assert_close, describe, expect_array, raises, reveal
from support.gridworld_oracle import (PUBLIC_WORLDS, WorldCase, describe_violations, policy_violations,
                                      transition_model)

#: Allowed probability that a correct solution fails one statistical check.
FAILURE_PROBABILITY = 1e-6


def hoeffding_bound(n_samples: int, n_events: int) -> float:
    """t such that P(any of n_events frequencies deviates by >= t) <= FAILURE_PROBABILITY (union bound)."""
    return math.sqrt(math.log(2 * n_events / FAILURE_PROBABILITY) / (2 * n_samples))


# --- q_update -----------------------------------------------------------------------------------

def q_update_want(Q, s, a, r, s_next, done, alpha, gamma) -> np.ndarray:
    out = Q.copy()
    target = r + (0.0 if done else gamma * Q[s_next].max())
    out[s, a] += alpha * (target - Q[s, a])
    return out


def q_update_mistakes(Q, s, a, r, s_next, done, alpha, gamma) -> list[Mistake]:
    def with_target(target):
        out = Q.copy()
        out[s, a] += alpha * (target - Q[s, a])
        return out

    boot = 0.0 if done else gamma * Q[s_next].max()
    return [
        Mistake("done ignored: the max term was added after a terminal step",
                with_target(r + gamma * Q[s_next].max()),
                "When done is True there is no next state to bootstrap from: the target is just r."),
        Mistake("max over Q[s] instead of Q[s_next]", with_target(r + (0.0 if done else gamma * Q[s].max())),
                "The target looks one step ahead: r + gamma * max_a' Q[s_next, a']."),
        Mistake("alpha missing (Q[s, a] set to the target)", with_target(Q[s, a] + (r + boot - Q[s, a]) / alpha),
                "Move Q[s, a] only a step alpha towards the target."),
        Mistake("gamma missing", with_target(r + (0.0 if done else Q[s_next].max())),
                "Discount the next state's value: r + gamma * max_a' Q[s_next, a']."),
        Mistake("whole row Q[s] updated instead of Q[s, a]",
                Q + np.where(np.arange(Q.shape[0])[:, None] == s, alpha * (r + boot - Q[s]), 0.0),
                "Only the entry Q[s, a] of the action taken changes."),
    ]


def q_update_driver(Q, s, a, r, s_next, done, alpha, gamma):
    """Runs in the sandbox: call q_update on a writable copy; return the result and the copy."""
    import numpy as np

    import qlearning

    table = np.array(Q, copy=True)
    result = qlearning.q_update(table, s, a, r, s_next, done, alpha, gamma)
    same = isinstance(result, np.ndarray) and np.shares_memory(result, table)
    return result, table, same


def q_update_cases(rng: np.random.Generator, n_states: int, n_actions: int) -> list[tuple]:
    """A non-terminal step, a terminal step, and a step that stays in its state (wall bump)."""
    s, s_next, s_other = (int(v) for v in rng.choice(n_states, 3, replace=False))
    a, a2, a3 = (int(v) for v in rng.integers(n_actions, size=3))
    return [
        (s, a, float(rng.normal()), s_next, False, 0.5, 0.9),
        (s_next, a2, 1.0, s_other, True, 0.3, 0.95),
        (s_other, a3, -0.04, s_other, False, 0.1, 0.8),
    ]


def check_q_update(student, rng: np.random.Generator, n_states: int, n_actions: int) -> None:
    """All three kinds of step, read-only and on a writable copy (which must stay unchanged)."""
    Q = rng.normal(size=(n_states, n_actions))
    for s, a, r, s_next, done, alpha, gamma in q_update_cases(rng, n_states, n_actions):
        kind = "terminal step (done=True)" if done else ("step with s_next == s" if s == s_next else
                                                         "non-terminal step")
        what = (f"q_update(Q, s={s}, a={a}, r={r:.3g}, s_next={s_next}, done={done}, alpha={alpha}, "
                f"gamma={gamma}) [{kind}]" if reveal() else f"q_update(Q, s, a, r, s_next, done, ...) [{kind}]")
        got = student.qlearning.q_update(Q, s, a, r, s_next, done, alpha, gamma)
        got = expect_array(got, shape=Q.shape, what=what, inputs={"Q": Q})
        want = q_update_want(Q, s, a, r, s_next, done, alpha, gamma)
        assert_close(got, want, what=what, inputs={"Q": Q},
                     mistakes=q_update_mistakes(Q, s, a, r, s_next, done, alpha, gamma))
        result, after, same = student.run(q_update_driver, Q, s, a, r, s_next, done, alpha, gamma)
        if not np.array_equal(after, Q) or same:
            raise AssertionError(f"{what} modified the table Q in place (or returned Q itself). Return a new "
                                 "table: Q_new = Q.copy(), then change Q_new[s, a].")


@pytest.mark.part("q_update")
@pytest.mark.parametrize("n_states, n_actions", [(6, 3), (12, 4)])
def test_q_update(student, rng, n_states, n_actions):
    check_q_update(student, rng, n_states, n_actions)


# --- epsilon_greedy --------------------------------------------------------------------------------

#: Calls per statistical check; with the Hoeffding bound this resolves differences of ~0.013.
GREEDY_SAMPLES = 50_000


def epsilon_greedy_driver(q_values, epsilon, seed, n):
    """Runs in the sandbox: n calls with one Generator; returns the actions and the first bad return type."""
    import numpy as np

    import qlearning

    rng = np.random.default_rng(seed)
    actions = np.empty(n, dtype=np.int64)
    for i in range(n):
        a = qlearning.epsilon_greedy(q_values, epsilon, rng)
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            return actions[:i], type(a).__name__
        actions[i] = a
    return actions, None


def greedy_distributions(q: np.ndarray, epsilon: float) -> dict[str, np.ndarray]:
    """The correct action distribution and those of typical mistakes."""
    k = len(q)
    first, last = int(np.argmax(q)), int(k - 1 - np.argmax(q[::-1]))
    uniform = np.full(k, epsilon / k)
    exclude = np.full(k, epsilon / (k - 1))
    exclude[first] = 1 - epsilon
    return {
        "correct": uniform + (1 - epsilon) * np.eye(k)[first],
        "the random action never is the greedy one (chosen from the other actions only)": exclude,
        "last index of the maximum instead of the first (ties)": uniform + (1 - epsilon) * np.eye(k)[last],
        "epsilon ignored (always greedy)": np.eye(k)[first],
        "always random (the greedy action is never taken on purpose)": np.full(k, 1 / k),
        "greedy with probability epsilon, random otherwise (epsilon swapped with 1 - epsilon)":
            np.full(k, (1 - epsilon) / k) + epsilon * np.eye(k)[first],
    }


def check_epsilon_greedy(student, q: np.ndarray, epsilon: float, seed: int) -> None:
    """Deterministic first-argmax at epsilon = 0, then action frequencies at epsilon."""
    k = len(q)
    where = f"epsilon_greedy(q_values, epsilon={epsilon})" if reveal() else "epsilon_greedy(q_values, epsilon)"
    where += f" with {k} actions (q_values has ties)"
    actions, bad = student.run(epsilon_greedy_driver, q, 0.0, seed, 20)
    if bad is not None:
        raise AssertionError(f"{where} returned {bad}, expected an int (an action index).")
    first = int(np.argmax(q))
    wrong = actions[actions != first]
    if wrong.size:
        msg = f"epsilon_greedy(q_values, epsilon=0.0) with {k} actions returned {int(wrong[0])}"
        msg += f", expected {first} (the first index of the maximum; q_values has ties)." if reveal() else "."
        if int(wrong[0]) == k - 1 - int(np.argmax(q[::-1])):
            msg += "\nYour result matches a known mistake: last index of the maximum instead of the first. " \
                   "np.argmax returns the first index."
        raise AssertionError(msg)
    actions, bad = student.run(epsilon_greedy_driver, q, epsilon, seed, GREEDY_SAMPLES)
    if bad is not None:
        raise AssertionError(f"{where} returned {bad}, expected an int (an action index).")
    if actions.min() < 0 or actions.max() >= k:
        raise AssertionError(f"{where} returned action {int(actions[(actions < 0) | (actions >= k)][0])}, "
                             f"expected an index in 0..{k - 1}.")
    freq = np.bincount(actions, minlength=k) / len(actions)
    t = hoeffding_bound(len(actions), k)
    dists = greedy_distributions(q, epsilon)
    want = dists.pop("correct")
    if np.all(np.abs(freq - want) < t):
        return
    msg = f"{where}: the action frequencies over {len(actions)} calls are wrong"
    if reveal():
        msg += (f": got {np.round(freq, 4).tolist()}, expected {np.round(want, 4).tolist()} (each within "
                f"{t:.4f}; a correct solution fails this with probability below {FAILURE_PROBABILITY:g}).")
    else:
        msg += "."
    msg += (" Every action (the greedy one included) has probability epsilon / n_actions of being the random "
            "choice; the first index of the maximum gets 1 - epsilon on top.")
    for name, dist in dists.items():
        if np.all(np.abs(freq - dist) < t):
            msg += f"\nYour result matches a known mistake: {name}."
            break
    raise AssertionError(msg)


@pytest.mark.part("epsilon_greedy")
@pytest.mark.parametrize("q, epsilon", [
    (np.array([1.0, 3.0, 3.0, 0.0]), 0.4),
    (np.array([-1.0, 2.0, 0.5, 2.0, 2.0]), 0.1),
])
def test_epsilon_greedy(student, rng, q, epsilon):
    check_epsilon_greedy(student, q, epsilon, int(rng.integers(2**31)))


# --- dqn_targets -------------------------------------------------------------------------------------

def dqn_mistakes(rewards, next_q, dones, gamma) -> list[Mistake]:
    best = next_q.max(axis=1)
    return [
        Mistake("dones ignored", rewards + gamma * best,
                "After a terminal transition (done = 1) the target is just r: multiply by (1 - done)."),
        Mistake("mean over actions instead of max", rewards + gamma * (1 - dones) * next_q.mean(axis=1),
                "The target uses the best next action: max over axis 1."),
        Mistake("max over the wrong axis or of the whole array",
                rewards + gamma * (1 - dones) * next_q.max(), "Take the max per row: next_q_target.max(axis=1)."),
        Mistake("done and not-done swapped", rewards + gamma * dones * best, "Use (1 - done), not done."),
        Mistake("(1 - done) also applied to the reward", (1 - dones) * (rewards + gamma * best),
                "The reward of a terminal transition counts: y = r + gamma * (1 - done) * max."),
        Mistake("gamma missing", rewards + (1 - dones) * best, "Discount the bootstrap term with gamma."),
    ]


def check_dqn_targets(student, rewards, next_q, dones, gamma) -> None:
    n = len(rewards)
    what = f"dqn_targets(rewards, next_q_target, dones, gamma={gamma})" if reveal() else \
        "dqn_targets(rewards, next_q_target, dones, gamma)"
    inputs = {"rewards": rewards, "next_q_target": next_q, "dones": dones}
    got = expect_array(student.qlearning.dqn_targets(rewards, next_q, dones, gamma), shape=(n,), what=what,
                       inputs=inputs)
    want = rewards + gamma * (1 - dones) * next_q.max(axis=1)
    assert_close(got, want, what=what, inputs=inputs, mistakes=dqn_mistakes(rewards, next_q, dones, gamma))


def dqn_case(rng: np.random.Generator, n: int, n_actions: int) -> tuple:
    """dones as float 0/1 with both values present; rows of next_q with distinct max and mean."""
    dones = (rng.random(n) < 0.4).astype(float)
    dones[0], dones[1] = 1.0, 0.0
    return rng.normal(size=n), rng.normal(1.0, 2.0, (n, n_actions)), rng.permutation(dones)


@pytest.mark.part("dqn_targets")
@pytest.mark.parametrize("n, n_actions, gamma", [(5, 3, 0.99), (9, 2, 0.9)])
def test_dqn_targets(student, rng, n, n_actions, gamma):
    rewards, next_q, dones = dqn_case(rng, n, n_actions)
    check_dqn_targets(student, rewards, next_q, dones, gamma)


# --- ReplayBuffer ---------------------------------------------------------------------------------

def make_transitions(rng: np.random.Generator, count: int, state_dim: int) -> list[tuple]:
    """Distinct transitions; transition i has reward i + 0.5, which identifies it in a sample."""
    out = []
    for i in range(count):
        state = rng.normal(size=state_dim)
        out.append((state, int(rng.integers(4)), i + 0.5, rng.normal(size=state_dim), bool(i % 3 == 2)))
    return out


def sample_driver(capacity, transitions, batch_size, seed, repeats, full):
    """Runs in the sandbox: fill a fresh buffer, then draw `repeats` samples with one Generator.

    The first `full` samples come back whole, of the others only the rewards (to keep the reply small).
    """
    import numpy as np

    import qlearning

    buf = qlearning.ReplayBuffer(capacity)
    for t in transitions:
        buf.push(*t)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(repeats):
        batch = buf.sample(batch_size, rng)
        whole = i < full or not (isinstance(batch, tuple) and len(batch) == 5)
        out.append(batch if whole else batch[2])
    return out


def check_batch(batch, transitions: list[tuple], stored: range, batch_size: int, what: str) -> list[int]:
    """One sample: 5 stacked arrays, rows that are stored transitions, all distinct. Returns their indices."""
    state_dim = len(transitions[0][0])
    if not isinstance(batch, tuple) or len(batch) != 5:
        count = f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else ""
        raise AssertionError(f"{what} returned {describe(batch)}{count}, expected a tuple of 5 arrays "
                             "(states, actions, rewards, next_states, dones).")
    names = ("states", "actions", "rewards", "next_states", "dones")
    shapes = ((batch_size, state_dim), (batch_size,), (batch_size,), (batch_size, state_dim), (batch_size,))
    arrays = [expect_array(x, shape=shape, what=f"{name} from {what}", dtypes=())
              for x, name, shape in zip(batch, names, shapes)]
    states, actions, rewards, next_states, dones = arrays
    index = [int(round(r - 0.5)) for r in rewards.astype(float)]
    for row, i in enumerate(index):
        if not (0 <= i < len(transitions)) or not np.isclose(rewards[row], i + 0.5):
            raise AssertionError(f"{what}: row {row} has a reward that was never pushed.")
        s, a, _, s2, d = transitions[i]
        if not (np.allclose(states[row], s) and actions[row] == a and np.allclose(next_states[row], s2)
                and bool(dones[row]) == d):
            raise AssertionError(f"{what}: row {row} mixes fields of different transitions (its reward is that of "
                                 f"the transition pushed {_ordinal(i + 1)}, its other fields are not). Keep "
                                 "each transition together.")
        if i not in stored:
            raise AssertionError(f"{what} returned the transition pushed {_ordinal(i + 1)}, which must have been "
                                 f"evicted: only the last {len(stored)} pushed transitions are stored (FIFO, the "
                                 "oldest is dropped first).")
    if len(set(index)) != len(index):
        raise AssertionError(f"{what} returned the same transition twice in one batch. Draw distinct "
                             "transitions (rng.choice(len(buffer), batch_size, replace=False)).")
    return index


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


#: Samples drawn for the uniformity check; the first FULL_SAMPLES are checked field by field.
SAMPLE_REPEATS = 3000
FULL_SAMPLES = 30


def sampled_indices(samples: list, transitions: list[tuple], stored: range, batch_size: int, what: str) -> np.ndarray:
    """Indices (repeats, batch_size) of the sampled transitions; every batch checked."""
    index = [check_batch(batch, transitions, stored, batch_size, what) for batch in samples[:FULL_SAMPLES]]
    rewards = samples[FULL_SAMPLES:]
    if any(isinstance(r, tuple) for r in rewards):
        batch = next(r for r in rewards if isinstance(r, tuple))
        index.append(check_batch(batch, transitions, stored, batch_size, what))
    if rewards:
        bad = next((r for r in rewards if not (isinstance(r, np.ndarray) and r.shape == (batch_size,)
                                               and r.dtype.kind in "iuf")), None)
        if bad is not None:
            expect_array(bad, shape=(batch_size,), what=f"rewards from {what}", dtypes=())
            raise AssertionError(f"rewards from {what} returned {describe(bad)}, expected numbers.")
        values = np.stack(rewards).astype(float)
        idx = np.rint(values - 0.5).astype(np.int64)
        if not np.allclose(idx + 0.5, values) or idx.min() < 0 or idx.max() >= len(transitions):
            raise AssertionError(f"{what}: a sample has a reward that was never pushed.")
        evicted = ~np.isin(idx, list(stored))
        if evicted.any():
            i = int(idx[evicted][0])
            raise AssertionError(f"{what} returned the transition pushed {_ordinal(i + 1)}, which must have been "
                                 f"evicted: only the last {len(stored)} pushed transitions are stored (FIFO, the "
                                 "oldest is dropped first).")
        ordered = np.sort(idx, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise AssertionError(f"{what} returned the same transition twice in one batch. Draw distinct "
                                 "transitions (rng.choice(len(buffer), batch_size, replace=False)).")
        index += idx.tolist()
    return np.array(index)


def check_replay_buffer(student, rng: np.random.Generator, capacity: int, pushes: int, state_dim: int,
                        batch_size: int) -> None:
    """len and FIFO eviction through a handle, then samples (shape, distinct, FIFO, uniform), then ValueError."""
    transitions = make_transitions(rng, pushes, state_dim)
    stored = range(max(0, pushes - capacity), pushes)
    buf = student.qlearning.ReplayBuffer(capacity)
    for i, t in enumerate(transitions):
        buf.push(*t)
        length = len(buf)
        want = min(i + 1, capacity)
        if length != want:
            hint = " When the buffer is full, push must drop the oldest transition." if length > capacity else ""
            raise AssertionError(f"len(buffer) after {i + 1} pushes into a ReplayBuffer({capacity}) is {length}, "
                                 f"expected {want}.{hint}")
    seed = int(rng.integers(2**31))
    what = f"ReplayBuffer({capacity}).sample({batch_size}, rng) after {pushes} pushes"
    samples = student.run(sample_driver, capacity, transitions, batch_size, seed, SAMPLE_REPEATS, FULL_SAMPLES)
    index = sampled_indices(samples, transitions, stored, batch_size, what)
    counts = np.bincount(index.ravel(), minlength=pushes)
    freq = counts[list(stored)] / len(index)
    want = batch_size / len(stored)
    t = hoeffding_bound(len(index), len(stored))
    if np.any(np.abs(freq - want) >= t):
        worst = int(np.argmax(np.abs(freq - want)))
        raise AssertionError(f"{what}: transitions are not drawn uniformly. Over {len(index)} samples the "
                             f"transition pushed {_ordinal(stored[worst] + 1)} was in {freq[worst]:.1%} of the "
                             f"batches, expected {want:.1%} (every stored transition equally likely).")
    with raises("ValueError", what=f"ReplayBuffer({capacity}).sample({len(stored) + 1}, rng) with "
                                   f"{len(stored)} stored transitions"):
        student.run(sample_driver, capacity, transitions, len(stored) + 1, seed, 1, 1)


@pytest.mark.part("replay_buffer")
@pytest.mark.parametrize("capacity, pushes, state_dim, batch_size", [(3, 5, 2, 2), (4, 6, 3, 4)])
def test_replay_buffer(student, rng, capacity, pushes, state_dim, batch_size):
    check_replay_buffer(student, rng, capacity, pushes, state_dim, batch_size)


# --- q_learning -----------------------------------------------------------------------------------

def q_learning_driver(layout, step_reward, max_steps, episodes, alpha, gamma, epsilon, seed):
    """Runs in the sandbox: build the GridWorld from the layout and run the student's q_learning."""
    import numpy as np
    from gridworld import GridWorld

    import qlearning

    env = GridWorld(layout, step_reward=step_reward, max_steps=max_steps)
    return qlearning.q_learning(env, episodes, alpha, gamma, epsilon, np.random.default_rng(seed))


def check_q_learning(student, case: WorldCase, seed: int) -> None:
    """Shape and finiteness of Q, then: greedy action optimal in every reachable non-terminal state."""
    n_states = transition_model(case.layout, case.step_reward)[0].shape[0]
    what = (f"q_learning(env, episodes={case.episodes}, alpha={case.alpha}, gamma={case.gamma}, "
            f"epsilon={case.epsilon}, rng) on world '{case.name}'" if reveal() else
            f"q_learning(env, episodes, alpha, gamma, epsilon, rng) on world '{case.name}'")
    q = student.run(q_learning_driver, case.layout, case.step_reward, case.max_steps, case.episodes, case.alpha,
                    case.gamma, case.epsilon, seed)
    q = expect_array(q, shape=(n_states, 4), what=what, dtypes=("float64", "float32"))
    violations = policy_violations(q, case.layout, case.step_reward, case.gamma)
    if violations:
        raise AssertionError(describe_violations(q, case, violations, reveal=reveal()))


@pytest.mark.part("q_learning")
@pytest.mark.parametrize("case", PUBLIC_WORLDS, ids=[w.name for w in PUBLIC_WORLDS])
def test_q_learning(student, rng, case):
    check_q_learning(student, case, int(rng.integers(2**31)))
