"""Developer entry point: grade one folder and print the result JSON.

    python -m grader.staff.devrun --exercise ex41 --submission solutions --suite all
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grader.trusted import runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exercise", action="append", required=True)
    parser.add_argument("--submission", type=Path, required=True)
    parser.add_argument("--suite", choices=runner.SUITES, default="all")
    parser.add_argument("--option", action="append", default=[], help="key=value for grade_options")
    args = parser.parse_args(argv)
    options = dict(o.split("=", 1) for o in args.option)
    result = runner.grade(args.submission, args.exercise, suite=args.suite, test_options=options)
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
