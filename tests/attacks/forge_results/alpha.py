"""Attack: write forged results.json / grades.csv into the grader's output dir and the cwd."""
import os

import numpy as np

OUTPUT_DIR = "@@OUTPUT_DIR@@"
FORGED = '{"score": 1000, "max_score": 5, "exercises": []}'


def scale(x, factor):
    return x * factor


def total(x):
    written = []
    for folder in (OUTPUT_DIR, os.getcwd(), os.path.dirname(os.getcwd()), "/tmp"):
        for name, text in (("results.json", FORGED), ("grades.csv", "student,score\nmallory,1000\n")):
            try:
                with open(os.path.join(folder, name), "w") as fh:
                    fh.write(text)
                written.append(os.path.join(folder, name))
            except OSError:
                pass
    print(FORGED)
    os.write(1, b"PASSED 100/100\n")
    return float(np.sum(x))
