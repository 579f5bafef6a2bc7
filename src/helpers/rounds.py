"""Adding a survey year: a config change, not a code change.

``new_round(2014, like=2011)`` copies ``config/codebooks/2011.yaml`` to ``2014.yaml`` (unless a
2014 codebook exists already) and adds 2014 to ``config/rounds.yaml``; ``borgerservice run``
then cleans the new round, compares it with the round before it and refits the models.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from . import files, paths
from .pipeline import load_rounds

HEADER = """# Survey rounds: one entry per year. input_path is relative to data/raw; codebook names
# config/codebooks/<codebook>.yaml. `borgerservice new-round YEAR --like YEAR` adds an entry.
"""


def write_rounds(rounds: dict[int, dict], path: Path | None = None) -> Path:
    path = Path(path or paths.config() / "rounds.yaml")
    body = yaml.safe_dump({"rounds": {int(y): {"input_path": s["input_path"], "codebook": str(s["codebook"])} for y, s in sorted(rounds.items())}},
                          sort_keys=False, allow_unicode=True)
    return files.write_text(path, HEADER + body)


def new_round(year: int, *, like: int, input_path: str | None = None, config_dir: Path | None = None) -> list[str]:
    """Scaffold the config for ``year`` after round ``like``; returns what was done, line by line."""
    config_dir = Path(config_dir or paths.config())
    path = config_dir / "rounds.yaml"
    rounds = load_rounds(path)
    if like not in rounds:
        raise ValueError(f"--like {like}: no such round in {paths.relative(path)}; accepted: {sorted(rounds)}")
    if year in rounds:
        raise ValueError(f"round {year} is already in {paths.relative(path)}: {rounds[year]}")
    done = []
    source = config_dir / "codebooks" / f"{rounds[like]['codebook']}.yaml"
    target = config_dir / "codebooks" / f"{year}.yaml"
    if target.exists():
        done.append(f"kept existing codebook {paths.relative(target)}")
    else:
        text = re.sub(r"^year: *\d{4}", f"year: {year}", source.read_text(encoding="utf-8"), count=1, flags=re.M)
        files.write_text(target, f"# Copied from {source.name} by `borgerservice new-round {year} --like {like}`; adjust to the {year} export.\n" + text)
        done.append(f"wrote codebook {paths.relative(target)} (copy of {source.name}: check headers and labels against the {year} export)")
    ext = Path(rounds[like]["input_path"]).suffix
    rounds[year] = {"input_path": input_path or f"survey/example_survey_{year}{ext}", "codebook": str(year)}
    write_rounds(rounds, path)
    done.append(f"added round {year} to {paths.relative(path)}: {rounds[year]}")
    export = paths.raw() / rounds[year]["input_path"]
    if not export.exists():
        done.append(f"NOTE: {paths.relative(export)} does not exist yet: put the {year} export there")
    return done
