"""Attack: the counter's failures are named like the grader's author errors."""


class Counter:
    def __init__(self, start):
        self.value = start

    def add(self, k):
        self.value += k
        return self.value

    def __len__(self):
        raise type("AuthorError", (Exception,), {})("ein Fehler im Testcode")
