"""Public tests for the Q-learning exercise.

Expected values are computed here, outside your code, with plain NumPy.
epsilon_greedy and ReplayBuffer.sample are checked statistically (Chernoff
bounds, see "statistics" below): a correct solution fails with probability
below 1e-6, and the number of calls is chosen so that the known mistakes fail
with probability above 1 - 1e-6.
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

#: Allowed probability that a correct solution fails one statistical check; also the most a named
#: mistake may pass one with.
FAILURE_PROBABILITY = 1e-6


# --- statistics ---------------------------------------------------------------------------------
#
# A statistical check counts how often each of a few events happens in n independent trials (an action
# is chosen, a transition is in the batch) and compares the frequency f with the probability p a correct
# solution gives it. The Chernoff bound P(f >= q) <= exp(-n KL(q || p)) for q > p (and likewise for
# q < p), with KL the Bernoulli divergence, is much tighter than Hoeffding's exp(-2 n (q - p)^2) when p
# is far from 1/2 and needs no slack. A check accepts when n KL(f || p) < kl_threshold(events) for every
# event: two tails per event, union bound over the events, so a correct solution fails with probability
# at most FAILURE_PROBABILITY.

def bernoulli_kl(q, p) -> np.ndarray:
    """KL(Bernoulli(q) || Bernoulli(p)) elementwise; inf where q is impossible under p (p = 0 < q)."""
    q, p = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(p, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(q > 0, q * np.log(q / p), 0.0)
        down = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    return up + down


def kl_threshold(n_events: int) -> float:
    """c with 2 * n_events * exp(-c) = FAILURE_PROBABILITY (two Chernoff tails per event, union bound)."""
    return math.log(2 * n_events / FAILURE_PROBABILITY)


def frequencies_fit(freq: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """Per event: whether a frequency over n trials is consistent with probability p (see above)."""
    return n * bernoulli_kl(freq, p) < kl_threshold(len(p))


def accepted_range(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per event: the frequencies frequencies_fit accepts, as (low, high) (bisection, for messages)."""
    p = np.asarray(p, dtype=float)
    c = kl_threshold(len(p)) / n
    ends = []
    for far in (np.zeros_like(p), np.ones_like(p)):
        inside, outside = p.copy(), far.copy()        # KL(inside || p) < c <= KL(outside || p), if any
        fits = bernoulli_kl(far, p) < c
        for _ in range(60):
            mid = (inside + outside) / 2
            ok = bernoulli_kl(mid, p) < c
            inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
        ends.append(np.where(fits, far, inside))
    return ends[0], ends[1]


def chernoff_information(p, d) -> np.ndarray:
    """max over q of min(KL(q || p), KL(q || d)) elementwise: how fast trials tell p and d apart.

    The maximum is where both are equal; KL(q || p) - KL(q || d) is linear in q, so that point q* has a
    closed form. Where d is 0 or 1, a frequency under d is exactly d, so the information is KL(d || p)
    (and KL(p || d) where p is 0 or 1).
    """
    p, d = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(d, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_up, slope_down = np.log(d / p), np.log((1 - d) / (1 - p))
        info = bernoulli_kl(slope_down / (slope_down - slope_up), p)
    info = np.where((d == 0) | (d == 1), bernoulli_kl(d, p), info)
    info = np.where((p == 0) | (p == 1), bernoulli_kl(p, d), info)
    return np.where(p == d, 0.0, info)


def trials_to_separate(p: np.ndarray, alternatives: list[np.ndarray], multiple: int = 100) -> int:
    """Fewest trials (a multiple of `multiple`) after which each alternative fails the check at p
    with probability at most FAILURE_PROBABILITY.

    Why this n suffices: take an event with n * C >= kl_threshold, C the Chernoff information of p and
    d there. A frequency the check accepts has n KL(f || p) < n C, so it lies on p's side of q*, which
    under d happens with probability at most exp(-n KL(q* || d)) = exp(-n C) <= FAILURE_PROBABILITY / 2.
    """
    c = kl_threshold(len(p))
    most = 1
    for d in alternatives:
        info = float(chernoff_information(p, d).max())
        if info <= 0:
            raise ValueError("a listed alternative has the same probabilities as the correct one")
        most = max(most, math.ceil(c / info))
    return multiple * math.ceil(most / multiple)


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

# The number of calls is chosen per case by trials_to_separate: the fewest after which every listed mistake
# (greedy_distributions) fails with probability below FAILURE_PROBABILITY. The subtlest ones differ from the
# correct distribution by epsilon / n_actions ("the random action never is the greedy one") and by
# 1 - epsilon ("always random") in the greedy action, so the cases use 3 or 4 actions and epsilon 0.75 or
# 0.8: 800 to 1,700 calls instead of the 50,000 a Hoeffding bound needs for 5 actions and epsilon 0.1.
# Avoided: epsilon = 0.5 ("epsilon swapped with 1 - epsilon" is then correct) and epsilon near 2/3 (the
# unlisted mistake "epsilon / 2" would then look like the swapped one).


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
    """Deterministic first-argmax at epsilon = 0, then action frequencies at epsilon.

    The frequencies come from as many calls as it takes to tell every mistake of greedy_distributions from
    a correct solution (trials_to_separate); a case where a mistake cannot be told apart raises ValueError.
    """
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
    dists = greedy_distributions(q, epsilon)
    want = dists.pop("correct")
    n = trials_to_separate(want, list(dists.values()))
    actions, bad = student.run(epsilon_greedy_driver, q, epsilon, seed, n)
    if bad is not None:
        raise AssertionError(f"{where} returned {bad}, expected an int (an action index).")
    if actions.min() < 0 or actions.max() >= k:
        raise AssertionError(f"{where} returned action {int(actions[(actions < 0) | (actions >= k)][0])}, "
                             f"expected an index in 0..{k - 1}.")
    freq = np.bincount(actions, minlength=k) / len(actions)
    if np.all(frequencies_fit(freq, want, len(actions))):
        return
    msg = f"{where}: the action frequencies over {len(actions) if reveal() else 'many'} calls are wrong"
    if reveal():                 # (the number of calls follows from epsilon: hidden tests do not show it)
        low, high = accepted_range(want, len(actions))
        ranges = ", ".join(f"{lo:.3f}..{hi:.3f}" for lo, hi in zip(low, high))
        msg += (f": got {np.round(freq, 4).tolist()}, expected {np.round(want, 4).tolist()} (accepted per "
                f"action: {ranges}; a correct solution fails this with probability below "
                f"{FAILURE_PROBABILITY:g}).")
    else:
        msg += "."
    msg += (" Every action (the greedy one included) has probability epsilon / n_actions of being the random "
            "choice; the first index of the maximum gets 1 - epsilon on top.")
    for name, dist in dists.items():
        if np.all(frequencies_fit(freq, dist, len(actions))):
            msg += f"\nYour result matches a known mistake: {name}."
            break
    raise AssertionError(msg)


@pytest.mark.part("epsilon_greedy")
@pytest.mark.parametrize("q, epsilon", [
    (np.array([1.0, 3.0, 3.0]), 0.75),
    (np.array([-1.0, 2.0, 0.5, 2.0]), 0.75),
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

    Returns (the first `full` samples whole, the rewards of the later ones stacked into one
    (repeats - full, batch_size) array): a few large arrays are cheap to send and decode, thousands of
    small ones are not. If a later sample is not 5 fields with a numeric (batch_size,) rewards array,
    returns (every sample, whole or its rewards as before, None), so the grader can say what is wrong.
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
    later = out[full:]
    if all(isinstance(r, np.ndarray) and r.shape == (batch_size,) and r.dtype.kind in "iuf" for r in later):
        return out[:full], np.stack(later) if later else np.zeros((0, batch_size))
    return out, None


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
    nearest = np.rint(rewards.astype(float) - 0.5)          # transition i has reward i + 0.5
    known = (nearest >= 0) & (nearest < len(transitions)) & _close(rewards, nearest + 0.5)
    index = np.where(known, nearest, 0).astype(np.int64)
    pushed_states, pushed_actions, _, pushed_next, pushed_dones = (np.array(f) for f in zip(*transitions))
    together = (_close(states, pushed_states[index]).all(axis=1) & (actions == pushed_actions[index])
                & _close(next_states, pushed_next[index]).all(axis=1)
                & (dones.astype(bool) == pushed_dones[index]))
    evicted = (index < stored.start) | (index >= stored.stop)
    wrong = ~known | ~together | evicted
    if wrong.any():                                           # the first wrong row, its first problem
        row = int(np.argmax(wrong))
        i = int(index[row])
        if not known[row]:
            raise AssertionError(f"{what}: row {row} has a reward that was never pushed.")
        if not together[row]:
            raise AssertionError(f"{what}: row {row} mixes fields of different transitions (its reward is that of "
                                 f"the transition pushed {_ordinal(i + 1)}, its other fields are not). Keep "
                                 "each transition together.")
        raise AssertionError(f"{what} returned the transition pushed {_ordinal(i + 1)}, which must have been "
                             f"evicted: only the last {len(stored)} pushed transitions are stored (FIFO, the "
                             "oldest is dropped first).")
    if len(set(index.tolist())) != len(index):
        raise AssertionError(f"{what} returned the same transition twice in one batch. Draw distinct "
                             "transitions (rng.choice(len(buffer), batch_size, replace=False)).")
    return index.tolist()


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.isclose (rtol 1e-5, atol 1e-8) for finite arrays, without its overhead (it runs per batch)."""
    return np.abs(a - b) <= 1e-8 + 1e-5 * np.abs(b)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


#: The first FULL_SAMPLES samples are checked field by field, the others by their rewards only.
FULL_SAMPLES = 30

#: Smallest change in the share of batches one stored transition is in that the uniformity check must catch
#: (with probability 1 - FAILURE_PROBABILITY). Realistic non-uniform samplers are further off in every case
#: used here: a random window of consecutive transitions (0.15 with 5 stored and batches of 2, at least 0.25
#: in the others), the newest or the oldest transition never drawn (its whole share, 0.4 or more).
UNIFORM_RESOLUTION = 0.15


def sample_repeats(n_stored: int, batch_size: int) -> int:
    """Samples to draw: enough that a share off by UNIFORM_RESOLUTION fails (trials_to_separate).

    Each stored transition is in a batch with probability batch_size / n_stored, independently per batch.
    With batch_size == n_stored every batch holds them all and the structural checks catch any deviation.
    """
    share = batch_size / n_stored
    shifted = [np.full(n_stored, q) for q in (share - UNIFORM_RESOLUTION, share + UNIFORM_RESOLUTION) if 0 <= q <= 1]
    return max(FULL_SAMPLES, trials_to_separate(np.full(n_stored, share), shifted))


def later_rewards(later, transitions: list[tuple], stored: range, batch_size: int, what: str) -> np.ndarray:
    """The rewards of the samples after the first FULL_SAMPLES, as one float array (samples, batch_size).

    `later` is the driver's stacked array, or (when some sample was malformed) its list of per-sample
    rewards and whole batches, checked here one by one so the message says what is wrong.
    """
    if isinstance(later, list):
        if any(isinstance(r, tuple) for r in later):
            check_batch(next(r for r in later if isinstance(r, tuple)), transitions, stored, batch_size, what)
        bad = next((r for r in later if not (isinstance(r, np.ndarray) and r.shape == (batch_size,)
                                             and r.dtype.kind in "iuf")), None)
        if bad is not None:
            expect_array(bad, shape=(batch_size,), what=f"rewards from {what}", dtypes=())
            raise AssertionError(f"rewards from {what} returned {describe(bad)}, expected numbers.")
        later = np.stack(later) if later else np.zeros((0, batch_size))
    if not (isinstance(later, np.ndarray) and later.ndim == 2 and later.shape[1] == batch_size
            and later.dtype.kind in "iuf"):
        raise AssertionError(f"rewards from {what} returned {describe(later)}, expected numbers.")
    return later.astype(float)


def sampled_indices(samples: tuple, transitions: list[tuple], stored: range, batch_size: int,
                    what: str) -> np.ndarray:
    """Indices (repeats, batch_size) of the sampled transitions; every batch checked."""
    whole, later = samples
    if later is None:
        whole, later = whole[:FULL_SAMPLES], whole[FULL_SAMPLES:]
    index = [check_batch(batch, transitions, stored, batch_size, what) for batch in whole]
    values = later_rewards(later, transitions, stored, batch_size, what)
    if values.size:
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


def fill_driver(capacity, transitions):
    """Runs in the sandbox: push the transitions into a fresh ReplayBuffer; its __len__ after each push.

    One round trip instead of two per push. Returns None if anything is unusual (a call raises, __len__
    returns something else than an int); the grader then repeats it through a handle (check_lengths).
    """
    import qlearning

    try:
        buf = qlearning.ReplayBuffer(capacity)
        lengths = []
        for t in transitions:
            buf.push(*t)
            length = buf.__len__()
            if type(length) is not int:
                return None
            lengths.append(length)
    except Exception:
        return None
    return lengths


def check_lengths(student, capacity: int, transitions: list[tuple]) -> None:
    """len(buffer) after every push through a handle, so errors and wrong lengths are reported as they happen."""
    buf = student.qlearning.ReplayBuffer(capacity)
    for i, t in enumerate(transitions):
        buf.push(*t)
        length = len(buf)
        want = min(i + 1, capacity)
        if length != want:
            hint = " When the buffer is full, push must drop the oldest transition." if length > capacity else ""
            raise AssertionError(f"len(buffer) after {i + 1} pushes into a ReplayBuffer({capacity}) is {length}, "
                                 f"expected {want}.{hint}")


def check_replay_buffer(student, rng: np.random.Generator, capacity: int, pushes: int, state_dim: int,
                        batch_size: int) -> None:
    """len and FIFO eviction, then samples (shape, distinct, FIFO, uniform), then ValueError."""
    transitions = make_transitions(rng, pushes, state_dim)
    stored = range(max(0, pushes - capacity), pushes)
    if student.run(fill_driver, capacity, transitions) != [min(i + 1, capacity) for i in range(pushes)]:
        check_lengths(student, capacity, transitions)
    seed = int(rng.integers(2**31))
    what = f"ReplayBuffer({capacity}).sample({batch_size}, rng) after {pushes} pushes"
    samples = student.run(sample_driver, capacity, transitions, batch_size, seed,
                          sample_repeats(len(stored), batch_size), FULL_SAMPLES)
    index = sampled_indices(samples, transitions, stored, batch_size, what)
    counts = np.bincount(index.ravel(), minlength=pushes)
    freq = counts[list(stored)] / len(index)
    want = np.full(len(stored), batch_size / len(stored))
    if not np.all(frequencies_fit(freq, want, len(index))):
        worst = int(np.argmax(bernoulli_kl(freq, want)))
        raise AssertionError(f"{what}: transitions are not drawn uniformly. Over {len(index)} samples the "
                             f"transition pushed {_ordinal(stored[worst] + 1)} was in {freq[worst]:.1%} of the "
                             f"batches, expected {want[worst]:.1%} (every stored transition equally likely).")
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
