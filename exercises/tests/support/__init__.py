"""Helpers shared by the public and hidden tests: oracles (trusted, may use torch) and sandbox drivers (``*_drivers``)."""
