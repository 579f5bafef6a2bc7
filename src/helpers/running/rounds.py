"""Adding a survey year: a config change, not a code change.

``new_round(2014, like=2011)`` copies ``config/codebooks/2011.yaml`` to ``2014.yaml`` (unless a
2014 codebook exists already) and adds 2014 to the ``rounds`` section of ``config/pipeline.yaml``;
``borgerservice run`` then cleans the new round, compares it with the round before it and refits
the models.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers.core import files, paths, vocabulary
from helpers.running.pipeline.config import add_round_entry, load_rounds


def new_round(year: int, *, like: int, input_path: str | None = None, config_dir: Path | None = None) -> list[str]:
    """Scaffold the config for ``year`` after round ``like``; returns what was done, line by line."""
    config_dir = Path(config_dir or paths.config())
    path = config_dir / "pipeline.yaml"
    rounds = load_rounds(path)
    vocabulary.check_choice(f"--like (a round of {paths.relative(path)})", like, sorted(rounds))
    if year in rounds:
        raise ValueError(f"round {year} is already in {paths.relative(path)}: {rounds[year]}")
    ext = Path(rounds[like]["input_path"]).suffix
    spec = {"input_path": input_path or f"survey/example_survey_{year}{ext}", "codebook": str(year)}
    text = add_round_entry(
        path.read_text(encoding="utf-8"), year, spec, paths.relative(path)
    )  # checked before anything is written
    done = []
    source = config_dir / "codebooks" / f"{rounds[like]['codebook']}.yaml"
    target = config_dir / "codebooks" / f"{year}.yaml"
    if target.exists():
        done.append(f"kept existing codebook {paths.relative(target)}")
    else:
        body = re.sub(r"^year: *\d{4}", f"year: {year}", source.read_text(encoding="utf-8"), count=1, flags=re.M)
        files.write_text(
            target,
            f"# Copied from {source.name} by `borgerservice new-round {year} --like {like}`; adjust to the {year} "
            "export.\n" + body,
        )
        done.append(
            f"wrote codebook {paths.relative(target)} (copy of {source.name}: check headers and labels against the "
            f"{year} export)"
        )
    files.write_text(path, text)
    done.append(f"added round {year} to {paths.relative(path)}: {spec}")
    export = paths.raw() / spec["input_path"]
    if not export.exists():
        done.append(f"NOTE: {paths.relative(export)} does not exist yet: put the {year} export there")
    return done
