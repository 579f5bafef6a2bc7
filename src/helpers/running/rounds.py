"""Adding a survey year: a config change, not a code change.

``new_round(2014, like=2011)`` copies ``config/codebooks/2011.yaml`` to ``2014.yaml`` (unless a
2014 codebook exists already) and adds 2014 to the ``rounds`` section of ``config/pipeline.yaml``;
``borgerservice run`` then cleans the new round, compares it with the round before it and refits
the models.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from helpers.core import files, paths
from helpers.running.pipeline import ConfigError, load_rounds


def add_round_entry(text: str, year: int, spec: dict, where: str = "pipeline.yaml") -> str:
    """The pipeline config's text with ``year`` added at the end of its ``rounds`` section.

    The file is edited as text, not re-dumped, so its comments and layout stay; the result is read
    back and must give the old rounds plus the new one.
    """
    entry = yaml.safe_dump(
        {int(year): {"input_path": spec["input_path"], "codebook": str(spec["codebook"])}},
        sort_keys=False,
        allow_unicode=True,
    )
    entry = "".join("  " + line for line in entry.splitlines(keepends=True))
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if re.match(r"rounds:\s*(\{\s*\}|null|~)?\s*(#.*)?$", line)), None)
    if start is None:
        new = "".join(lines) + "\nrounds:\n" + entry
    else:
        lines[start] = "rounds:\n"
        end = start + 1  # after the last indented line of the section
        for i in range(start + 1, len(lines)):
            if lines[i][:1] not in (" ", "\t", "#", "\n", ""):
                break  # the next top-level key
            if lines[i][:1] in (" ", "\t") and lines[i].strip():
                end = i + 1
        new = "".join(lines[:end]) + entry + "".join(lines[end:])
    before = yaml.safe_load(text) or {}
    after = yaml.safe_load(new) or {}
    expected = {
        **(before.get("rounds") or {}),
        int(year): {"input_path": spec["input_path"], "codebook": str(spec["codebook"])},
    }
    if after.get("rounds") != expected or {k: v for k, v in after.items() if k != "rounds"} != {
        k: v for k, v in before.items() if k != "rounds"
    }:
        raise ConfigError(
            f"{where}: could not add round {year} to its `rounds:` section automatically; add it by hand:\n{entry}"
        )
    return new


def new_round(year: int, *, like: int, input_path: str | None = None, config_dir: Path | None = None) -> list[str]:
    """Scaffold the config for ``year`` after round ``like``; returns what was done, line by line."""
    config_dir = Path(config_dir or paths.config())
    path = config_dir / "pipeline.yaml"
    rounds = load_rounds(path)
    if like not in rounds:
        raise ValueError(f"--like {like}: no such round in {paths.relative(path)}; accepted: {sorted(rounds)}")
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
