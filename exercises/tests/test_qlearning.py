"""Public tests for the Q-learning exercise.

Expected values are computed here, outside your code, with plain NumPy.
epsilon_greedy and ReplayBuffer.sample are checked statistically (Chernoff
bounds, see "statistics" below): a correct solution fails with probability
below 1e-6, and the number of calls is chosen so that the known mistakes fail
with probability above 1 - 1e-6.
q_learning runs in your sandbox on the course's GridWorld; the greedy policy
of the Q-table you return is compared with value iteration computed here
(support/gridworld_oracle.py), and two tiny environments check how your loop
ends episodes (terminated: no bootstrap; truncated by the time limit: still
bootstrap). Tests that check several cases judge them together (Cases): a
known mistake is named only when it explains every case. The helpers below
are shared with the hidden tests, which use other inputs and other worlds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from grader.trusted.checks import Cases, CheckFailed, Mistake, describe, expect_array, fmt_num, raises, reveal
from exercises.tests.support.chernoff import (FAILURE_PROBABILITY, accepted_range, bernoulli_kl,  # noqa: F401
                                              chernoff_information, frequencies_fit, kl_threshold, trials_to_separate)
from exercises.tests.support.gridworld_oracle import (PUBLIC_WORLDS, WorldCase, describe_violations, parse_layout,
                                                      policy_violations, transition_model, value_iteration)

# --- statistics: Chernoff (KL) bounds, shared with the regularization tests (support/chernoff.py) ---

# --- q_update -----------------------------------------------------------------------------------

def q_update_want(Q, s, a, r, s_next, done, alpha, gamma) -> np.ndarray:
    out = Q.copy()
    target = r + (0.0 if done else gamma * Q[s_next].max())
    out[s, a] += alpha * (target - Q[s, a])
    return out


def q_update_mistakes(Q, s, a, r, s_next, done, alpha, gamma) -> list[Mistake]:
    """Known wrong q_update results for one step (each equals the right one where it cannot show)."""
    def with_target(target):
        out = Q.copy()
        out[s, a] += alpha * (target - Q[s, a])
        return out

    boot = 0.0 if done else gamma * Q[s_next].max()
    flipped = Q.copy()
    flipped[s, a] -= alpha * (r + boot - Q[s, a])
    return [
        Mistake("done ignoriert: Nach einem terminalen Schritt wurde der max-Term trotzdem addiert",
                with_target(r + gamma * Q[s_next].max()),
                "Ist done wahr, gibt es keinen Folgezustand, von dem aus gebootstrappt wird: Das Ziel ist nur r.",
                id="done_ignored"),
        Mistake("Maximum über Q[s] statt über Q[s_next]",
                with_target(r + (0.0 if done else gamma * Q[s].max())),
                "Das Ziel schaut einen Schritt voraus: r + gamma * max_a' Q[s_next, a'].", id="max_of_s"),
        Mistake("Vorzeichen des TD-Fehlers vertauscht (Q[s, a] - Ziel statt Ziel - Q[s, a])", flipped,
                "Der TD-Fehler ist Ziel - Q[s, a]: Q[s, a] bewegt sich um alpha mal diesen Fehler auf das Ziel zu, "
                "nicht davon weg.", id="td_sign"),
        Mistake("alpha fehlt (Q[s, a] wird direkt auf das Ziel gesetzt)",
                with_target(Q[s, a] + (r + boot - Q[s, a]) / alpha),
                "Bewegen Sie Q[s, a] nur um den Anteil alpha in Richtung des Ziels.", id="alpha_missing"),
        Mistake("gamma fehlt", with_target(r + (0.0 if done else Q[s_next].max())),
                "Diskontieren Sie den Wert des Folgezustands: r + gamma * max_a' Q[s_next, a'].",
                id="gamma_missing"),
        Mistake("ganze Zeile Q[s] statt nur Q[s, a] geändert",
                Q + np.where(np.arange(Q.shape[0])[:, None] == s, alpha * (r + boot - Q[s]), 0.0),
                "Nur der Eintrag Q[s, a] der gewählten Aktion ändert sich.", id="whole_row"),
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


def _step_kind(s: int, s_next: int, done: bool) -> str:
    if done:
        return "terminaler Schritt (done=True)"
    return "Schritt mit s_next == s" if s == s_next else "nicht-terminaler Schritt"


def check_q_update(student, rng: np.random.Generator, n_states: int, n_actions: int) -> None:
    """All three kinds of step judged together (Cases), then: Q unchanged when passed writable."""
    Q = rng.normal(size=(n_states, n_actions))
    steps = q_update_cases(rng, n_states, n_actions)
    what = "q_update(Q, s, a, r, s_next, done, alpha, gamma)"
    with Cases(what) as cases:
        for s, a, r, s_next, done, alpha, gamma in steps:
            label = _step_kind(s, s_next, done)
            if reveal():
                label += (f": s={s}, a={a}, r={fmt_num(r)}, s_next={s_next}, done={done}, alpha={fmt_num(alpha)}, "
                          f"gamma={fmt_num(gamma)}")
            got = student.qlearning.q_update(Q, s, a, r, s_next, done, alpha, gamma)
            try:
                got = expect_array(got, shape=Q.shape, what=f"{what} [{_step_kind(s, s_next, done)}]",
                                   inputs={"Q": Q})
            except CheckFailed as exc:
                cases.fail(str(exc), label=label)
                continue
            cases.close(got, q_update_want(Q, s, a, r, s_next, done, alpha, gamma), inputs={"Q": Q}, label=label,
                        mistakes=q_update_mistakes(Q, s, a, r, s_next, done, alpha, gamma))
    for s, a, r, s_next, done, alpha, gamma in steps:
        result, after, same = student.run(q_update_driver, Q, s, a, r, s_next, done, alpha, gamma)
        if not np.array_equal(after, Q) or same:
            raise CheckFailed(f"{what} [{_step_kind(s, s_next, done)}] hat die übergebene Tabelle Q direkt "
                              "verändert (oder Q selbst zurückgegeben). Geben Sie eine neue Tabelle zurück: "
                              "Q_new = Q.copy(), dann Q_new[s, a] ändern.", cause="in_place")


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


#: Calls at epsilon = 0: a random choice among 2 tied maxima returns the same index every time with
#: probability 2 ** -(GREEDY_CALLS - 1) < 1e-11, so it is never mistaken for "last index".
GREEDY_CALLS = 40

TIE_HINT = ("Bei Gleichstand zählt der erste Index des Maximums, so wie np.argmax(q_values) ihn liefert "
            "(nicht der letzte und keine zufällige Wahl unter den Maxima).")


def greedy_distributions(q: np.ndarray, epsilon: float) -> tuple[np.ndarray, list[Mistake]]:
    """The correct action distribution and those of typical mistakes (as Mistakes, value = distribution)."""
    k = len(q)
    first, last = int(np.argmax(q)), int(k - 1 - np.argmax(q[::-1]))
    uniform = np.full(k, epsilon / k)
    exclude = np.full(k, epsilon / (k - 1))
    exclude[first] = 1 - epsilon
    return uniform + (1 - epsilon) * np.eye(k)[first], [
        Mistake("die Zufallsaktion ist nie die gierige (nur aus den anderen Aktionen gewählt)", exclude,
                "Mit Wahrscheinlichkeit epsilon wird gleichverteilt aus allen Aktionen gewählt, die gierige "
                "eingeschlossen.", id="random_excludes_greedy"),
        Mistake("letzter statt erster Index des Maximums (Gleichstand)",
                uniform + (1 - epsilon) * np.eye(k)[last], TIE_HINT, id="last_argmax"),
        Mistake("epsilon ignoriert (immer gierig)", np.eye(k)[first],
                "Mit Wahrscheinlichkeit epsilon muss eine zufällige Aktion gewählt werden.", id="epsilon_ignored"),
        Mistake("immer zufällig (die gierige Aktion wird nie gezielt gewählt)", np.full(k, 1 / k),
                "Mit Wahrscheinlichkeit 1 - epsilon wird die gierige Aktion gewählt.", id="always_random"),
        Mistake("epsilon und 1 - epsilon vertauscht (gierig mit Wahrscheinlichkeit epsilon, sonst zufällig)",
                np.full(k, (1 - epsilon) / k) + epsilon * np.eye(k)[first],
                "Zufällig mit Wahrscheinlichkeit epsilon, gierig mit Wahrscheinlichkeit 1 - epsilon.",
                id="epsilon_swapped"),
    ]


def check_greedy_choice(actions: np.ndarray, q: np.ndarray) -> None:
    """epsilon = 0: every call must return the first index of the maximum; names the tie-breaking rule used."""
    k = len(q)
    first, last = int(np.argmax(q)), int(k - 1 - np.argmax(q[::-1]))
    ties = set(np.flatnonzero(q == q.max()).tolist())
    wrong = actions[actions != first]
    if not wrong.size:
        return
    msg = (f"epsilon_greedy(q_values, epsilon=0.0) mit {k} Aktionen (q_values hat einen Gleichstand beim "
           f"Maximum) lieferte in {wrong.size} von {actions.size} Aufrufen eine andere Aktion als erwartet")
    msg += f", zuerst {int(wrong[0])} statt {first} (der erste Index des Maximums)." if reveal() else "."
    mistake = None
    if np.all(actions == last):
        mistake = Mistake("letzter statt erster Index des Maximums", None, TIE_HINT, id="last_argmax")
    elif set(actions.tolist()) <= ties and len(set(actions.tolist())) > 1:
        mistake = Mistake("zufällige Wahl unter gleich großen Maxima statt des ersten Index", None, TIE_HINT,
                          id="random_tie_breaking")
    if mistake is not None:
        msg += f"\nIhr Ergebnis passt in allen {actions.size} Aufrufen zu einem bekannten Fehler: {mistake.name}. "
        msg += mistake.hint
    else:
        msg += " Mit epsilon = 0 muss epsilon_greedy immer die gierige Aktion liefern. " + TIE_HINT
    raise CheckFailed(msg, mistake=mistake, cause="greedy_choice")


def _fmt_list(values: np.ndarray) -> str:
    """Frequencies as a student reads them: [0.25, 0.5, 0.25] (4 decimals at most)."""
    return "[" + ", ".join(fmt_num(round(float(v), 4)) for v in values) + "]"


def check_epsilon_greedy(student, q: np.ndarray, epsilon: float, seed: int) -> None:
    """Deterministic first-argmax at epsilon = 0, then action frequencies at epsilon.

    The frequencies come from as many calls as it takes to tell every mistake of greedy_distributions from
    a correct solution (trials_to_separate); a case where a mistake cannot be told apart raises ValueError.
    """
    k = len(q)
    where = (f"epsilon_greedy(q_values, epsilon={fmt_num(epsilon)})" if reveal()
             else "epsilon_greedy(q_values, epsilon)")
    where += f" mit {k} Aktionen (q_values hat einen Gleichstand beim Maximum)"
    actions, bad = student.run(epsilon_greedy_driver, q, 0.0, seed, GREEDY_CALLS)
    if bad is not None:
        raise CheckFailed(f"{where} lieferte einen Wert vom Typ {bad}, erwartet war ein int (ein Aktionsindex).",
                          cause="type")
    check_greedy_choice(actions, q)
    want, mistakes = greedy_distributions(q, epsilon)
    n = trials_to_separate(want, [m.value for m in mistakes])
    actions, bad = student.run(epsilon_greedy_driver, q, epsilon, seed, n)
    if bad is not None:
        raise CheckFailed(f"{where} lieferte einen Wert vom Typ {bad}, erwartet war ein int (ein Aktionsindex).",
                          cause="type")
    if actions.min() < 0 or actions.max() >= k:
        raise CheckFailed(f"{where} lieferte die Aktion {int(actions[(actions < 0) | (actions >= k)][0])}, "
                          f"erwartet war ein Index von 0 bis {k - 1}.", cause="range")
    freq = np.bincount(actions, minlength=k) / len(actions)
    if np.all(frequencies_fit(freq, want, len(actions))):
        return
    msg = f"{where}: Die Häufigkeiten der Aktionen über {len(actions) if reveal() else 'viele'} Aufrufe stimmen nicht"
    if reveal():                 # (the number of calls follows from epsilon: hidden tests do not show it)
        low, high = accepted_range(want, len(actions))
        ranges = ", ".join(f"{lo:.3f} bis {hi:.3f}" for lo, hi in zip(low, high))
        msg += (f": erhalten {_fmt_list(freq)}, erwartet {_fmt_list(want)} (akzeptiert je "
                f"Aktion: {ranges}; eine richtige Lösung scheitert hieran mit Wahrscheinlichkeit unter "
                f"{FAILURE_PROBABILITY:g}).")
    else:
        msg += "."
    msg += (" Jede Aktion (auch die gierige) ist mit Wahrscheinlichkeit epsilon / n_actions die Zufallswahl; "
            "der erste Index des Maximums bekommt den Rest (eins minus epsilon) dazu.")
    mistake = next((m for m in mistakes if np.all(frequencies_fit(freq, m.value, len(actions)))), None)
    if mistake is not None:
        msg += f"\nIhr Ergebnis passt zu einem bekannten Fehler: {mistake.name}. {mistake.hint}"
    raise CheckFailed(msg, mistake=mistake, cause="frequencies")


@pytest.mark.part("epsilon_greedy")
@pytest.mark.parametrize("q, epsilon", [
    (np.array([1.0, 3.0, 3.0]), 0.75),
    (np.array([-1.0, 2.0, 0.5, 2.0]), 0.75),
])
def test_epsilon_greedy(student, rng, q, epsilon):
    check_epsilon_greedy(student, q, epsilon, int(rng.integers(2**31)))


# --- dqn_targets -------------------------------------------------------------------------------------

def dqn_mistakes(rewards, next_q, dones, gamma) -> list[Mistake]:
    """Known wrong dqn_targets results (keepdims: the (N, 1) max broadcast against (N,) gives (N, N))."""
    best = next_q.max(axis=1)
    return [
        Mistake("max mit keepdims=True: (N, 1) und (N,) ergeben durch Broadcasting eine (N, N)-Matrix",
                rewards + gamma * (1 - dones) * next_q.max(axis=1, keepdims=True),
                "Nehmen Sie next_q_target.max(axis=1) ohne keepdims: Das Maximum je Zeile muss die Form (N,) "
                "haben wie rewards und dones.", id="keepdims_broadcast"),
        Mistake("dones ignoriert", rewards + gamma * best,
                "Nach einem terminalen Übergang (done = 1) ist das Ziel nur r: Multiplizieren Sie mit (1 - done).",
                id="dones_ignored"),
        Mistake("Mittelwert über die Aktionen statt Maximum", rewards + gamma * (1 - dones) * next_q.mean(axis=1),
                "Das Ziel verwendet die beste nächste Aktion: das Maximum über Achse 1.", id="mean_not_max"),
        Mistake("Maximum über die falsche Achse oder über das ganze Array",
                rewards + gamma * (1 - dones) * next_q.max(),
                "Nehmen Sie das Maximum je Zeile: next_q_target.max(axis=1).", id="max_wrong_axis"),
        Mistake("done und nicht-done vertauscht", rewards + gamma * dones * best,
                "Verwenden Sie (1 - done), nicht done.", id="dones_swapped"),
        Mistake("(1 - done) auch auf die Belohnung angewandt", (1 - dones) * (rewards + gamma * best),
                "Die Belohnung eines terminalen Übergangs zählt: y = r + gamma * (1 - done) * max.",
                id="dones_on_reward"),
        Mistake("gamma fehlt", rewards + (1 - dones) * best, "Diskontieren Sie den Bootstrap-Term mit gamma.",
                id="gamma_missing"),
    ]


def check_dqn_targets(student, cases_in: list[tuple]) -> None:
    """Several (rewards, next_q, dones, gamma) cases judged together; a result of the wrong shape is a case too."""
    what = "dqn_targets(rewards, next_q_target, dones, gamma)"
    with Cases(what) as cases:
        for i, (rewards, next_q, dones, gamma) in enumerate(cases_in, 1):
            n = len(rewards)
            inputs = {"rewards": rewards, "next_q_target": next_q, "dones": dones, "gamma": gamma}
            label = f"Fall {i}, N={n}, A={next_q.shape[1]}"
            try:
                got = expect_array(student.qlearning.dqn_targets(rewards, next_q, dones, gamma), shape=None,
                                   what=what, inputs=inputs)
            except CheckFailed as exc:
                cases.fail(str(exc), label=label)
                continue
            want = rewards + gamma * (1 - dones) * next_q.max(axis=1)
            cases.close(got, want, inputs=inputs, label=label, mistakes=dqn_mistakes(rewards, next_q, dones, gamma))


def dqn_case(rng: np.random.Generator, n: int, n_actions: int) -> tuple:
    """dones as float 0/1 with both values present; rows of next_q with distinct max and mean."""
    dones = (rng.random(n) < 0.4).astype(float)
    dones[0], dones[1] = 1.0, 0.0
    return rng.normal(size=n), rng.normal(1.0, 2.0, (n, n_actions)), rng.permutation(dones)


@pytest.mark.part("dqn_targets")
@pytest.mark.parametrize("sizes, gamma", [(((5, 3), (3, 4)), 0.99), (((9, 2), (4, 5)), 0.9)])
def test_dqn_targets(student, rng, sizes, gamma):
    check_dqn_targets(student, [(*dqn_case(rng, n, n_actions), gamma) for n, n_actions in sizes])


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
        count = f" der Länge {len(batch)}" if isinstance(batch, (list, tuple)) else ""
        raise CheckFailed(f"{what} lieferte {describe(batch)}{count}, erwartet war ein Tupel aus 5 Arrays "
                          "(states, actions, rewards, next_states, dones).", cause="type")
    names = ("states", "actions", "rewards", "next_states", "dones")
    shapes = ((batch_size, state_dim), (batch_size,), (batch_size,), (batch_size, state_dim), (batch_size,))
    arrays = [expect_array(x, shape=shape, what=f"{name} aus {what}", dtypes=())
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
            raise CheckFailed(f"{what}: Zeile {row} hat eine Belohnung, die nie mit push gespeichert wurde.",
                              cause="unknown_row")
        if not together[row]:
            raise CheckFailed(f"{what}: Zeile {row} mischt Felder verschiedener Übergänge (ihre Belohnung ist die "
                              f"des {_ordinal(i + 1)} gespeicherten Übergangs, ihre anderen Felder nicht). Halten "
                              "Sie die Felder jedes Übergangs zusammen.", cause="mixed_fields")
        raise CheckFailed(_evicted_message(what, i, len(stored)), cause="not_evicted")
    if len(set(index.tolist())) != len(index):
        raise CheckFailed(_twice_message(what), cause="with_replacement")
    return index.tolist()


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.isclose (rtol 1e-5, atol 1e-8) for finite arrays, without its overhead (it runs per batch)."""
    return np.abs(a - b) <= 1e-8 + 1e-5 * np.abs(b)


def _ordinal(n: int) -> str:
    """German ordinal as used in the messages ("des 3. gespeicherten Übergangs")."""
    return f"{n}."


def _evicted_message(what: str, i: int, n_stored: int) -> str:
    return (f"{what} lieferte den als {_ordinal(i + 1)} gespeicherten Übergang, der schon verdrängt sein müsste: "
            f"Nur die letzten {n_stored} gespeicherten Übergänge bleiben im Puffer (FIFO, der älteste fällt "
            "zuerst heraus).")


def _twice_message(what: str) -> str:
    return (f"{what} lieferte denselben Übergang zweimal in einem Batch. Ziehen Sie verschiedene Übergänge "
            "(rng.choice(len(buffer), batch_size, replace=False)).")


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
            expect_array(bad, shape=(batch_size,), what=f"rewards aus {what}", dtypes=())
            raise CheckFailed(f"rewards aus {what} ist {describe(bad)}, erwartet waren Zahlen.", cause="type")
        later = np.stack(later) if later else np.zeros((0, batch_size))
    if not (isinstance(later, np.ndarray) and later.ndim == 2 and later.shape[1] == batch_size
            and later.dtype.kind in "iuf"):
        raise CheckFailed(f"rewards aus {what} ist {describe(later)}, erwartet waren Zahlen.", cause="type")
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
            raise CheckFailed(f"{what}: Eine Stichprobe enthält eine Belohnung, die nie mit push gespeichert "
                              "wurde.", cause="unknown_row")
        evicted = ~np.isin(idx, list(stored))
        if evicted.any():
            i = int(idx[evicted][0])
            raise CheckFailed(_evicted_message(what, i, len(stored)), cause="not_evicted")
        ordered = np.sort(idx, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise CheckFailed(_twice_message(what), cause="with_replacement")
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
            hint = (" Ist der Puffer voll, muss push den ältesten Übergang verdrängen." if length > capacity
                    else "")
            raise CheckFailed(f"len(buffer) nach {i + 1} Aufrufen von push in einen ReplayBuffer({capacity}) ist "
                              f"{fmt_num(length)}, erwartet war {want}.{hint}", cause="length")


def check_replay_buffer(student, rng: np.random.Generator, capacity: int, pushes: int, state_dim: int,
                        batch_size: int) -> None:
    """len and FIFO eviction, then samples (shape, distinct, FIFO, uniform), then ValueError."""
    transitions = make_transitions(rng, pushes, state_dim)
    stored = range(max(0, pushes - capacity), pushes)
    if student.run(fill_driver, capacity, transitions) != [min(i + 1, capacity) for i in range(pushes)]:
        check_lengths(student, capacity, transitions)
    seed = int(rng.integers(2**31))
    what = f"ReplayBuffer({capacity}).sample({batch_size}, rng) nach {pushes} Aufrufen von push"
    samples = student.run(sample_driver, capacity, transitions, batch_size, seed,
                          sample_repeats(len(stored), batch_size), FULL_SAMPLES)
    index = sampled_indices(samples, transitions, stored, batch_size, what)
    counts = np.bincount(index.ravel(), minlength=pushes)
    freq = counts[list(stored)] / len(index)
    want = np.full(len(stored), batch_size / len(stored))
    if not np.all(frequencies_fit(freq, want, len(index))):
        worst = int(np.argmax(bernoulli_kl(freq, want)))
        raise CheckFailed(f"{what}: Die Übergänge werden nicht gleichverteilt gezogen. Über {len(index)} "
                          f"Stichproben war der als {_ordinal(stored[worst] + 1)} gespeicherte Übergang in "
                          f"{100 * freq[worst]:.1f} % der Batches, erwartet waren {100 * want[worst]:.1f} % (jeder "
                          "gespeicherte Übergang gleich wahrscheinlich).", cause="not_uniform")
    with raises("ValueError", what=f"ReplayBuffer({capacity}).sample({len(stored) + 1}, rng) mit "
                                   f"{len(stored)} gespeicherten Übergängen"):
        student.run(sample_driver, capacity, transitions, len(stored) + 1, seed, 1, 1)


@pytest.mark.part("replay_buffer")
@pytest.mark.parametrize("capacity, pushes, state_dim, batch_size", [(3, 5, 2, 2), (4, 6, 3, 4)])
def test_replay_buffer(student, rng, capacity, pushes, state_dim, batch_size):
    check_replay_buffer(student, rng, capacity, pushes, state_dim, batch_size)


# --- q_learning -----------------------------------------------------------------------------------
#
# Every q_learning test first checks how the student's loop ends episodes, on two tiny environments whose
# Q-values converge to known numbers whatever the exploration does (every action has the same effect):
# - "Zeitlimit": the GridWorld TIME_LIMIT_LAYOUT with max_steps=1. S is walled in, G cannot be reached, so
#   every episode is one step that is truncated, never terminated. Right: Q[S] -> r / (1 - gamma) (value
#   iteration, the state is not terminal); truncation treated as termination gives Q[S] -> r.
# - "Ring": state 0 -> 1 (reward 0), 1 -> 0 (reward R, terminated). Right: Q[1] = R, Q[0] = gamma R;
#   bootstrapping through the terminal step (the next state, 0, has values) gives R / (1 - gamma^2).
# In the GridWorlds a terminal cell's row stays 0, so bootstrapping through termination cannot show there.
# And the world itself: the greedy policy must be optimal (value iteration on the trusted side). Checking
# the episode ends in every q_learning test makes each mistake cost the whole part (not one test of it).
# All three run in one driver call (one round trip).

#: S is walled in (border and wall): every action stays, G is unreachable; with max_steps=1 every step truncates.
TIME_LIMIT_LAYOUT = "S#G"


@dataclass(frozen=True)
class EpisodeEndCase:
    """Parameters of the episode-end check (rewards of the two tiny environments, learning settings)."""

    gamma: float
    step_reward: float      # "Zeitlimit": reward of every step
    goal_reward: float      # "Ring": reward of the terminating step
    episodes: int = 400     # every (state, action) is updated >= 13 times except with probability < 1e-9
    alpha: float = 0.5
    epsilon: float = 0.5


PUBLIC_EPISODE_END = EpisodeEndCase(gamma=0.6, step_reward=-0.1, goal_reward=1.0)


def draw_episode_end_case(rng: np.random.Generator) -> EpisodeEndCase:
    """Per-student parameters for hidden tests (gamma in 0.5..0.7 keeps convergence within the episodes)."""
    return EpisodeEndCase(gamma=float(rng.uniform(0.5, 0.7)), step_reward=float(rng.uniform(-0.5, -0.05)),
                          goal_reward=float(rng.uniform(0.5, 2.0)))


def q_learning_driver(layout, step_reward, max_steps, episodes, alpha, gamma, epsilon, seed, end):
    """Runs in the sandbox: q_learning on the two episode-end environments, then on the GridWorld of the layout.

    ``end`` = (time-limit layout, step_reward, goal_reward, episodes, alpha, gamma, epsilon).
    Returns (Q of "Zeitlimit", Q of "Ring", Q of the world).
    """
    import numpy as np
    from gridworld import GridWorld

    import qlearning

    end_layout, end_step_reward, goal_reward, end_episodes, end_alpha, end_gamma, end_epsilon = end

    class RingWorld:
        """Two states with the GridWorld interface: 0 -> 1 (reward 0), 1 -> 0 (reward goal_reward, terminated)."""

        n_states = 2
        n_actions = 4
        max_steps = 100

        def __init__(self):
            self._state = None

        def reset(self):
            self._state = 0
            return 0

        def step(self, action):
            if self._state is None:
                raise RuntimeError("Rufen Sie reset() vor step() auf: Die Episode ist beendet (terminated oder "
                                   "truncated) oder hat noch nicht begonnen.")
            if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or not 0 <= action < 4:
                raise ValueError("Die Aktion muss eine ganze Zahl von 0 bis 3 sein.")
            if self._state == 0:
                self._state = 1
                return 1, 0.0, False, False
            self._state = None
            return 0, goal_reward, True, False

    rng = np.random.default_rng(seed)
    time_limit = qlearning.q_learning(GridWorld(end_layout, step_reward=end_step_reward, max_steps=1),
                                      end_episodes, end_alpha, end_gamma, end_epsilon, rng)
    ring = qlearning.q_learning(RingWorld(), end_episodes, end_alpha, end_gamma, end_epsilon, rng)
    env = GridWorld(layout, step_reward=step_reward, max_steps=max_steps)
    return time_limit, ring, qlearning.q_learning(env, episodes, alpha, gamma, epsilon, rng)


def episode_end_mistakes(end: EpisodeEndCase) -> tuple[np.ndarray, np.ndarray, list[tuple[Mistake, ...]]]:
    """Right Q of "Zeitlimit" and "Ring", and per mistake its prediction for both (value = (Zeitlimit, Ring))."""
    g, r, big_r = end.gamma, end.step_reward, end.goal_reward
    start = "".join(parse_layout(TIME_LIMIT_LAYOUT)).index("S")
    time_limit = np.zeros_like(value_iteration(TIME_LIMIT_LAYOUT, r, g))     # rows never visited stay 0
    time_limit[start] = value_iteration(TIME_LIMIT_LAYOUT, r, g)[start]       # r / (1 - gamma) per action
    cut_as_end = time_limit.copy()
    cut_as_end[start] = r
    ring = np.array([[g * big_r] * 4, [big_r] * 4])
    through_end = np.array([[g * big_r] * 4, [big_r] * 4]) / (1 - g * g)
    cut_hint = ("truncated=True heißt nur, dass max_steps erreicht ist: Der Zustand ist nicht terminal, das Ziel "
                "bleibt r + gamma * max_a' Q[s_next, a']. Nur bei terminated=True ist das Ziel r. Beenden Sie die "
                "Episode in beiden Fällen (danach reset()).")
    end_hint = ("Nach terminated=True hat der Folgezustand keine Zukunft: Das Ziel ist r, auch wenn Q[s_next] "
                "nicht 0 ist. Übergeben Sie q_update done=terminated.")
    return np.array(time_limit), ring, [
        (Mistake("Abbruch durch das Zeitlimit wie ein Endzustand behandelt", (cut_as_end, ring), cut_hint,
                 id="truncation_as_termination")),
        (Mistake("über einen Endzustand hinweg gebootstrappt (terminated nicht beachtet)",
                 (np.array(time_limit), through_end), end_hint, id="bootstrap_through_termination")),
        (Mistake("terminated und truncated vertauscht (gebootstrappt nach terminated, nicht nach truncated)",
                 (cut_as_end, through_end), cut_hint + " " + end_hint, id="terminated_truncated_swapped")),
    ]


#: Tolerance of the episode-end check: the right values and the mistakes differ by a factor of 1.3 or more.
END_RTOL, END_ATOL = 1e-2, 1e-3


def check_episode_ends(time_limit_q, ring_q, end: EpisodeEndCase) -> None:
    """Both tiny environments judged together, so a mistake is named only when it explains both."""
    what = "q_learning(env, episodes, alpha, gamma, epsilon, rng)"
    want_time_limit, want_ring, mistakes = episode_end_mistakes(end)
    labels = ("GridWorld 'Zeitlimit': S ist eingemauert, G unerreichbar, jede Episode endet nach einem Schritt "
              "mit truncated=True, nie mit terminated=True",
              "Ring-Umgebung mit derselben Schnittstelle: vom Start in den zweiten Zustand (Belohnung null), "
              "von dort zurück zum Start (Belohnung R, terminated=True)")
    with Cases(what) as cases:
        for i, (got, want, label) in enumerate(((time_limit_q, want_time_limit, labels[0]),
                                                (ring_q, want_ring, labels[1]))):
            try:
                got = expect_array(got, shape=want.shape, what=f"{what} [{label.split(':')[0]}]",
                                   dtypes=("float64", "float32"))
            except CheckFailed as exc:
                cases.fail(str(exc), label=label)
                continue
            cases.close(got, want, rtol=END_RTOL, atol=END_ATOL, label=label,
                        mistakes=[Mistake(m.name, m.value[i], m.hint, id=m.id) for m in mistakes])


def check_q_learning(student, case: WorldCase, seed: int, end: EpisodeEndCase) -> None:
    """Shape and finiteness of Q, the greedy policy in the world, then the episode ends (see above).

    The policy comes first: its message (with the general hint) fits most learning mistakes better; a
    solution whose policies are right but whose episode ends are wrong gets the episode-end message.
    """
    n_states = transition_model(case.layout, case.step_reward)[0].shape[0]
    what = (f"q_learning(env, episodes={case.episodes}, alpha={fmt_num(case.alpha)}, gamma={fmt_num(case.gamma)}, "
            f"epsilon={fmt_num(case.epsilon)}, rng) in der Welt '{case.name}'" if reveal() else
            f"q_learning(env, episodes, alpha, gamma, epsilon, rng) in der Welt '{case.name}'")
    end_args = (TIME_LIMIT_LAYOUT, end.step_reward, end.goal_reward, end.episodes, end.alpha, end.gamma,
                end.epsilon)
    time_limit_q, ring_q, q = student.run(q_learning_driver, case.layout, case.step_reward, case.max_steps,
                                          case.episodes, case.alpha, case.gamma, case.epsilon, seed, end_args)
    q = expect_array(q, shape=(n_states, 4), what=what, dtypes=("float64", "float32"))
    violations = policy_violations(q, case.layout, case.step_reward, case.gamma)
    if violations:
        raise CheckFailed(describe_violations(q, case, violations, reveal=reveal()), cause="policy")
    check_episode_ends(time_limit_q, ring_q, end)


@pytest.mark.part("q_learning")
@pytest.mark.parametrize("case", PUBLIC_WORLDS, ids=[w.name for w in PUBLIC_WORLDS])
def test_q_learning(student, rng, case):
    check_q_learning(student, case, int(rng.integers(2**31)), PUBLIC_EPISODE_END)
