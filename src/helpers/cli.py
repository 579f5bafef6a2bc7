"""The `borgerservice` command: run the pipeline and the data chores behind it."""

from __future__ import annotations

import argparse
import sys

from . import paths


def _cmd_run(args) -> int:
    from . import pipeline

    try:
        outcomes = pipeline.run(args.config, only=args.only)
    except pipeline.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text, code = pipeline.summary(outcomes)
    print(text)
    return code


def _cmd_check_data(args) -> int:
    from . import provenance

    problems = provenance.check()
    for p in problems:
        print(p)
    print("data manifest: ok" if not problems else f"data manifest: {len(problems)} problem(s)")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="borgerservice", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="execute the notebooks in config/pipeline.yaml with papermill")
    r.add_argument("--config", default=None, help="pipeline config (default config/pipeline.yaml)")
    r.add_argument("--only", nargs="+", metavar="RUN", help="run ids or prefixes (plus what they need)")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser("check-data", help="check data/raw against its manifests (sha256, listed, present)")
    c.set_defaults(func=_cmd_check_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths.root()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
