"""The `borgerservice` command: run the pipeline and the data chores behind it.

Verbs: run, report, paper, new-round, clean, examples, fetch-usage, add-data, export, check-data. Heavy modules are
imported inside each verb so that `borgerservice run` with nothing to do returns quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TypeVar

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.vocabulary import PaperOutput, accepted, choices

T = TypeVar("T")


def _cmd_run(args) -> int:
    from helpers.running import pipeline
    from helpers.running.lock import LockHeld
    from helpers.running.progress import Progress

    progress = Progress()  # live lines on a terminal, plain lines under CI or when piped
    try:
        try:
            outcomes = pipeline.run(
                args.config,
                only=args.only,
                rounds=args.rounds,
                force=args.force,
                workers=args.workers,
                wait=args.wait,
                echo=progress.echo,
                progress=progress,
            )
        finally:
            progress.close()  # the live lines go before anything else is printed
    except LockHeld as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except pipeline.Interrupted as exc:
        if exc.outcomes:
            text, _ = pipeline.summary(exc.outcomes)
            print(text)
            print(f"error: {exc}; the runs that finished are recorded, the others re-run next time", file=sys.stderr)
        else:
            print("No notebook was run.")
            print(f"error: {exc}", file=sys.stderr)
        if exc.exit_code > 128:  # stopped by a signal: everything is recorded and the lock released; exit now, since
            sys.stdout.flush()  # papermill's kernel clean-up at interpreter exit can wait on a kernel already stopped
            sys.stderr.flush()
            os._exit(exc.exit_code)
        return exc.exit_code
    text, code = pipeline.summary(outcomes)
    print(text)
    return code


def _locked(args):
    """The lock every `borgerservice run` takes on reports/ and data/processed/ (helpers.running.lock),
    for another verb: the same wait (``--wait``) or refusal naming the holder as a second run gets."""
    from helpers.running import lock

    def warn(line: str) -> None:
        print(line, file=sys.stderr)

    return lock.hold([paths.reports(), paths.processed_root()], wait=getattr(args, "wait", 0.0), echo=warn)


def _unwritable(exc: OSError, what: str) -> int:
    """An output folder that cannot be written (read-only, full, a path of the wrong type): named, no traceback."""
    from helpers.running.pipeline.outputs import write_error

    print(f"error: {write_error(exc)}; {what}", file=sys.stderr)
    return 1


def _under_lock(args, work: Callable[[], T], nothing: str, unwritable: Callable[[], str]) -> tuple[T | None, int]:
    """``work()`` under the output folders' lock (:func:`_locked`) and its value with exit code 0; else None and
    the exit code, with an error saying ``nothing`` happened: 3 when another run holds the lock, 1 when the lock
    cannot be taken or an output folder cannot be written (then ``unwritable()`` says what is as it was). A missing
    input is no such error: it is raised."""
    from helpers.running.lock import LockHeld, Unwritable

    try:
        with _locked(args):
            return work(), 0
    except LockHeld as exc:
        print(f"error: {exc}; {nothing}", file=sys.stderr)
        return None, 3
    except Unwritable as exc:
        print(f"error: {exc}; {nothing}", file=sys.stderr)
        return None, 1
    except FileNotFoundError:
        raise
    except OSError as exc:
        return None, _unwritable(exc, unwritable())


def _cmd_report(args) -> int:
    from helpers.outputs import site
    from helpers.running.pipeline.manifest import load_manifest

    def build():
        load_manifest(echo=lambda line: print(line, file=sys.stderr))  # records of the wrong type set aside
        return site.report(make_pdf=not args.no_pdf)

    # an OSError here is the reports folder itself: the PDFs' own failures are in done.problem
    kept = "no report was built (the earlier site and PDFs are as they were)"
    done, code = _under_lock(args, build, "no report was built", lambda: kept)
    if code:
        return code
    print(f"site: {paths.relative(done.site / 'index.html')}")
    for pdf in done.pdfs:
        print(f"pdf:  {paths.relative(pdf)}")
    for old, new in done.stale:
        print(
            f"the earlier {paths.relative(paths.reports() / old)} does not match the new site: "
            f"renamed {paths.relative(paths.reports() / new)}"
        )
    print("took " + ", ".join(f"{step} {s:.1f} s" for step, s in done.seconds.items()))
    if done.problem:
        print(f"error: the PDF could not be made: {done.problem} (the site was published without it)", file=sys.stderr)
        return 1
    return 0


def _cmd_paper(args) -> int:
    from helpers.outputs import paper
    from helpers.outputs.brief.words import counted

    if args.check:
        bound = paper.check(args.manuscript)
        assets = counted(len(bound.assets), "figure or table", "figures and tables")
        print(
            f"{paths.relative(bound.manuscript.path)}: {counted(len(bound.values), 'value')} from "
            f"{counted(len(bound.sources), 'run')}, {assets}: ok"
            + (" (synthetic example data)" if bound.synthetic else "")
        )
        return 0
    try:
        built = paper.build(args.manuscript, args.out, tuple(args.formats))
    except RuntimeError as exc:  # pandoc or Typst stopped: their message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for f in (built.docx, built.tex, built.pdf, built.markdown, built.bindings):
        if f is not None:
            print(f"wrote {paths.relative(f)}")
    print(
        f"{counted(built.values, 'value')}, {counted(built.figures, 'figure')} and {counted(built.tables, 'table')} "
        "bound to the run" + ("; synthetic example data: marked on the title page" if built.synthetic else "")
    )
    return 0


def _cmd_new_round(args) -> int:
    from helpers.running import rounds

    created = rounds.new_round(
        args.year, like=args.like, input_path=args.input, codebook=args.codebook, config=args.config
    )
    for line in created:
        print(line)
    return 0


def _cmd_clean(args) -> int:
    from helpers.data import survey

    data, log = survey.clean_to_files(
        args.year, paths.raw() / args.input, args.codebook or str(args.year), ignore_fieldwork=args.ignore_fieldwork
    )
    print(f"wrote {paths.relative(data)} and {paths.relative(log)}")
    return 0


def _cmd_examples(args) -> int:
    from helpers.data.synthetic import survey, usage

    written = list(survey.write_examples(years=tuple(args.years)))
    written += list(usage.write_examples().values())
    for p in written:
        print(f"wrote {paths.relative(p)}")
    return 0


def _cmd_fetch_usage(args) -> int:
    from helpers.data import statbank

    try:
        files = statbank.fetch_usage(years=args.years, tables=args.tables, base_url=args.url)
    except statbank.StatbankError as exc:  # network, rate limit, redirect: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"cached {len(files)} file(s) under {paths.relative(statbank.cache_folder())}")
    return 0


def _cmd_add_data(args) -> int:
    from helpers.data import provenance

    entry = provenance.record(
        paths.raw() / args.file,
        source=args.source,
        licence=args.licence,
        synthetic=args.synthetic,
        description=args.description,
    )
    print(f"recorded {entry.file} (synthetic: {entry.synthetic}, sha256 {entry.sha256[:12]}...)")
    return 0


def _cmd_check_data(args) -> int:
    from helpers.data import provenance

    problems = provenance.check()
    for p in problems:
        print(p)
    print("data manifest: ok" if not problems else f"data manifest: {len(problems)} problem(s)")
    return 1 if problems else 0


def _cmd_export(args) -> int:
    from helpers.outputs import dictionary, exports

    if args.dictionary:
        from helpers.outputs import references

        for written in (dictionary.write(), references.write_readme(), references.write_citation()):
            print(f"wrote {paths.relative(written)}")
        return 0

    def export_all():
        export = exports.build(args.rounds, args.usage_year_offset, args.ordering, real_only=args.real_only)
        listing = exports.write_exports(usage_year_offset=args.usage_year_offset, ordering=args.ordering, tables=export)
        return export, listing

    # under the lock: it reads the pipeline's cleaned rounds, never while a run rewrites them
    def kept() -> str:
        return f"{paths.relative(exports.folder())} is as it was (written as a whole or not at all)"

    done, code = _under_lock(args, export_all, "nothing was exported", kept)
    if code:
        return code
    export, listing = done
    for table, group in listing.groupby("table", sort=False):
        print(
            f"{table}: {group['rows'].iat[0]} rows x {group['columns'].iat[0]} columns -> {', '.join(group['format'])}"
        )
    for year, why in export.left_out.items():
        print(f"warning: round {year} left out: {why}", file=sys.stderr)
    if export.dropped_outcomes:
        print(f"real only: left out the synthetic usage outcomes {', '.join(export.dropped_outcomes)}")
    print(f"wrote {len(listing)} files and the data dictionary to {paths.relative(exports.folder())}")
    return 0


def _add_wait(parser: argparse.ArgumentParser, holder: str = "a run") -> None:
    """The ``--wait`` option of the commands that take the output folders' lock (see :func:`_locked`)."""
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"when {holder} holds the output folders, wait this long for it (default: stop at once)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="borgerservice", description="Borgerservice in Danish public libraries: pipeline and data chores."
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="execute the notebooks of config/pipeline.yaml with papermill")
    r.add_argument("--config", default=None, help="pipeline config (default config/pipeline.yaml)")
    r.add_argument("--only", nargs="+", metavar="RUN", help="run ids or id prefixes (plus what they need)")
    r.add_argument(
        "--rounds",
        nargs="+",
        type=int,
        metavar="YEAR",
        help="only the runs of these survey rounds (plus what they need)",
    )
    r.add_argument("--force", action="store_true", help="re-run even notebooks that are up to date")
    r.add_argument(
        "--workers", type=int, default=None, help="parallel notebook runs (default: config, else the number of cores)"
    )
    _add_wait(r, "another run")
    r.set_defaults(func=_cmd_run)

    rep = sub.add_parser(
        "report",
        help="build the report site (reports/site), its PDF (reports/report.pdf) and the short report "
        "(reports/report_short.pdf) from what the last successful runs recorded",
    )
    rep.add_argument(
        "--no-pdf",
        action="store_true",
        help="only the site, no PDFs (they need /usr/bin/chromium); earlier PDFs are renamed *.stale.pdf",
    )
    _add_wait(rep)
    rep.set_defaults(func=_cmd_report)

    pp = sub.add_parser(
        "paper",
        help="build the manuscript (paper/manuscript.md) bound to the last run into reports/paper (.docx, .tex, .pdf)",
    )
    pp.add_argument("--manuscript", default=None, help="the manuscript (default paper/manuscript.md)")
    pp.add_argument("--out", default=None, help="output folder (default reports/paper)")
    pp.add_argument(
        "--formats",
        nargs="+",
        default=list(choices(PaperOutput)),
        metavar="FORMAT",
        help=f"formats to write (default all: {accepted(PaperOutput)})",
    )
    pp.add_argument("--check", action="store_true", help="only check the placeholders against the run; write nothing")
    pp.set_defaults(func=_cmd_paper)

    n = sub.add_parser(
        "new-round",
        help="add a survey year to the rounds of config/pipeline.yaml, with a codebook copied from another year",
    )
    n.add_argument("year", type=int)
    n.add_argument(
        "--like", type=int, required=True, help="an existing round whose codebook and layout the new one follows"
    )
    n.add_argument(
        "--input", default=None, help="the export under data/raw (default survey/example_survey_<year>.<ext of --like>)"
    )
    n.add_argument(
        "--codebook",
        default=None,
        help="reuse this codebook of config/codebooks as it is (default: copy the --like round's to <year>.yaml)",
    )
    n.add_argument("--config", default=None, help="the pipeline config to edit (default config/pipeline.yaml)")
    n.set_defaults(func=_cmd_new_round)

    c = sub.add_parser(
        "clean",
        help="clean one survey export into data/processed/scratch/survey_<year>.parquet "
        "(outside the pipeline: BORGERSERVICE_RUN_ID names the folder, default scratch)",
    )
    c.add_argument("year", type=int)
    c.add_argument("input", help="the export, relative to data/raw (e.g. survey/example_survey_2011.xlsx)")
    c.add_argument("--codebook", default=None, help="codebook name (default: the year)")
    c.add_argument(
        "--ignore-fieldwork",
        action="store_true",
        help="accept submissions outside the round's fieldwork window (a deliberate exception; logged)",
    )
    c.set_defaults(func=_cmd_clean)

    e = sub.add_parser("examples", help="regenerate the synthetic example data, byte for byte")
    e.add_argument(
        "--years",
        nargs="+",
        type=int,
        default=[2009, 2011, 2014],
        help="survey rounds to write (default 2009 2011 2014)",
    )
    e.set_defaults(func=_cmd_examples)

    f = sub.add_parser(
        "fetch-usage", help="download library usage from Statistics Denmark into data/raw/usage/statbank"
    )
    f.add_argument("--years", nargs="+", type=int, default=None)
    f.add_argument("--tables", nargs="+", default=None, help="e.g. BIB1 SBS1 (default: all declared)")
    f.add_argument("--url", default=None, help="API base URL (default https://api.statbank.dk)")
    f.set_defaults(func=_cmd_fetch_usage)

    a = sub.add_parser("add-data", help="record a file you put under data/raw in its folder's MANIFEST.yaml")
    a.add_argument("file", help="path relative to data/raw, e.g. survey/survey_2011_real.xlsx")
    a.add_argument("--source", required=True, help="where it came from, and when")
    a.add_argument("--licence", required=True, help="the terms of use")
    a.add_argument("--description", default="")
    a.add_argument(
        "--synthetic",
        action="store_true",
        help="mark it as synthetic example data (required for a copy of a shipped example)",
    )
    a.set_defaults(func=_cmd_add_data)

    x = sub.add_parser(
        "export",
        help="write the cleaned rounds, usage panel and analysis file for Stata, SPSS, R, Excel "
        "(data/processed/scratch/exports)",
    )
    x.add_argument(
        "--rounds", nargs="+", type=int, default=None, help="survey rounds (default: all in config/pipeline.yaml)"
    )
    x.add_argument("--usage-year-offset", type=int, default=1, help="usage year = round + offset (default 1)")
    x.add_argument(
        "--ordering", default="5<1<2<3<4", help="cooperation ordering for score, lowest first (default 5<1<2<3<4)"
    )
    x.add_argument(
        "--real-only",
        action="store_true",
        help="leave the usage outcomes from synthetic sources out of every table (real-only exports)",
    )
    _add_wait(x)
    x.add_argument(
        "--dictionary",
        action="store_true",
        help="only regenerate the generated documents: docs/data_dictionary.md, README references, CITATION.cff",
    )
    x.set_defaults(func=_cmd_export)

    k = sub.add_parser("check-data", help="check data/raw against its manifests (sha256, listed, present)")
    k.set_defaults(func=_cmd_check_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths.root()
    try:
        return args.func(args)
    except (DataError, ValueError, FileNotFoundError) as exc:  # includes pipeline.ConfigError
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
