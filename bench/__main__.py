"""python -m bench [--quick | --smoke] [--only NAME ...] [--out FILE] [--profile-dir DIR] [--markdown]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .report import markdown
from .runner import run
from .scenarios import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Boltdeck benchmarks (docs/performance.md)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes; about a minute on 2 cores")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds; checks the bench works")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), help="run only these scenarios")
    parser.add_argument("--out", type=Path, help="JSON file to write (default bench/results/latest.json)")
    parser.add_argument("--profile-dir", type=Path, help="record each scenario's server with py-spy (raw stacks)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    profile = "quick" if args.quick else "smoke" if args.smoke else "full"
    outcome = run(profile, args.only, args.out, args.profile_dir)
    if args.markdown:
        print(markdown(outcome["results"]))
    return 1 if any(r.error for r in outcome["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
