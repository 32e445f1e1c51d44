"""Attack on the other exercise: a Counter whose methods end the process; alpha stays intact."""
import os


class Counter:
    def __init__(self, start):
        self.value = start

    def add(self, k):
        os._exit(1)

    def __len__(self):
        os.kill(os.getpid(), 9)
