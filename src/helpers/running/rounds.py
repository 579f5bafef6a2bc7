"""Adding a survey year: a config change, not a code change.

``new_round(2017, like=2014)`` copies ``config/codebooks/2014.yaml`` to ``2017.yaml`` (unless a
2017 codebook exists already), or with ``codebook="2014"`` reuses that codebook as it is, and adds
2017 to the ``rounds`` section of ``config/pipeline.yaml``; ``borgerservice run`` then cleans the new
round, compares it with the round before it and refits the models. A copied codebook keeps no
``fieldwork`` window: that was the other year's (it would refuse every submission of the new one), and
without it the new round's default applies (1 January of its year to 30 June of the next).

The config it yields runs green: the runs whose data do not reach the new round's years (the synthetic
visits end in 2015) are skipped with the reason ("not covered", helpers.running.pipeline), not failed.
What is still missing for the round is said in the lines it returns: the export, its manifest entry.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.core import files, paths, vocabulary
from helpers.data import provenance
from helpers.running.pipeline.config import add_round_entry, load_rounds

FIELDWORK = re.compile(r"^fieldwork:.*\n(?:[ \t]+.*\n)*", re.M)  # the top-level key and its indented lines


def copy_codebook(text: str, year: int, like: int, source: str) -> str:
    """A codebook's text for ``year``, copied from ``source`` (round ``like``'s): its ``year`` set, its
    fieldwork window of another year left out (with a comment saying how to set the new one)."""
    body = re.sub(r"^year: *\d{4}", f"year: {year}", text, count=1, flags=re.M)
    body = FIELDWORK.sub(
        f"# fieldwork: the {like} window was left out; the {year} round's default applies (1 January {year} - "
        f"30 June {year + 1}),\n# or set it: fieldwork: {{start: {year}-08-01, end: {year}-12-31}}\n",
        body if body.endswith("\n") else body + "\n",
    )
    return (
        f"# Copied from {source} by `borgerservice new-round {year} --like {like}`; adjust to the {year} export.\n"
        + body
    )


def new_round(
    year: int,
    *,
    like: int,
    input_path: str | None = None,
    config_dir: Path | None = None,
    codebook: str | None = None,
    config: Path | None = None,
) -> list[str]:
    """Scaffold the config for ``year`` after round ``like``; returns what was done, line by line.

    ``config`` is the pipeline config to edit (default ``<config_dir>/pipeline.yaml``, the project's);
    ``codebook`` names an existing codebook to reuse instead of copying round ``like``'s (whose copy is
    written to ``codebooks/<year>.yaml`` beside the config).
    """
    config_dir = Path(config_dir or (Path(config).parent if config else paths.config()))
    path = Path(config) if config else config_dir / "pipeline.yaml"
    rounds = load_rounds(path)
    vocabulary.check_choice(f"--like (a round of {paths.relative(path)})", like, sorted(rounds))
    if year in rounds:
        raise ValueError(f"round {year} is already in {paths.relative(path)}: {rounds[year]}")
    ext = Path(rounds[like]["input_path"]).suffix
    spec = {"input_path": input_path or f"survey/example_survey_{year}{ext}", "codebook": str(codebook or year)}
    if codebook is not None and not paths.codebook(codebook).is_file():
        raise ValueError(f"--codebook {codebook}: {paths.relative(paths.codebook(codebook))} does not exist")
    text = add_round_entry(
        path.read_text(encoding="utf-8"), year, spec, paths.relative(path)
    )  # checked before anything is written
    done = []
    if codebook is not None:
        done.append(f"reuses codebook {paths.relative(paths.codebook(codebook))} as it is")
    else:
        name = rounds[like]["codebook"]
        source = config_dir / "codebooks" / f"{name}.yaml"
        source = source if source.is_file() else paths.codebook(name)
        target = config_dir / "codebooks" / f"{year}.yaml"
        if target.exists():
            done.append(f"kept existing codebook {paths.relative(target)}")
        else:
            files.write_text(target, copy_codebook(source.read_text(encoding="utf-8"), year, like, source.name))
            done.append(
                f"wrote codebook {paths.relative(target)} (copy of {source.name}, without its fieldwork window: "
                f"check headers and labels against the {year} export)"
            )
    files.write_text(path, text)
    done.append(f"added round {year} to {paths.relative(path)}: {spec}")
    export = paths.raw() / spec["input_path"]
    if not export.exists():
        done.append(f"NOTE: {paths.relative(export)} does not exist yet: put the {year} export there")
    elif spec["input_path"] not in provenance.load():
        done.append(
            f'NOTE: record the export: borgerservice add-data {spec["input_path"]} --source "..." --licence "..."'
        )
    done.append(
        "runs whose data do not cover the new round's years (the synthetic visits end in 2015) will be skipped "
        "with the reason, not failed"
    )
    return done
