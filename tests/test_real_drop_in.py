"""A real export with the layout of an example works without code changes, and is not marked synthetic."""

import shutil

import pandas as pd
import pytest
import yaml
from own_export import own_export

from helpers.core import paths
from helpers.data import provenance, survey
from helpers.running import cli


def test_registered_real_export_cleans_and_is_not_synthetic(raw_copy, outputs, capsys):
    # the example's cells saved again by the survey tool: other bytes than the example (a byte-for-byte copy is
    # refused, below)
    own_export("survey/example_survey_2011.xlsx", "survey/survey_2011_from_the_association.xlsx")
    code = cli.main(
        [
            "add-data",
            "survey/survey_2011_from_the_association.xlsx",
            "--source",
            "Danmarks Biblioteksforening, export received 2026-11-29",
            "--licence",
            "research use",
        ]
    )
    assert code == 0 and "synthetic: False" in capsys.readouterr().out
    assert cli.main(["clean", "2011", "survey/survey_2011_from_the_association.xlsx", "--codebook", "2011"]) == 0
    clean = pd.read_parquet(survey.output_paths(2011)[0])
    assert len(clean) == 88 and not clean["synthetic"].any()
    assert cli.main(["check-data"]) == 0


def test_unregistered_file_gets_a_clear_error(raw_copy, outputs, capsys):
    shutil.copy(
        paths.root() / "data" / "raw" / "survey" / "example_survey_2011.xlsx", raw_copy / "survey" / "new_2011.xlsx"
    )
    assert cli.main(["clean", "2011", "survey/new_2011.xlsx"]) == 2
    assert "MANIFEST.yaml" in capsys.readouterr().err


def test_a_copy_of_a_shipped_example_is_not_recorded_as_real(raw_copy, outputs, capsys):
    shutil.copy(raw_copy / "survey" / "example_survey_2014.xlsx", raw_copy / "survey" / "survey_2014_real.xlsx")
    args = ["add-data", "survey/survey_2014_real.xlsx", "--source", "the association", "--licence", "research"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "byte for byte the synthetic example data/raw/survey/example_survey_2014.xlsx" in err
    assert "--synthetic" in err and str(paths.root()) not in err
    assert "survey/survey_2014_real.xlsx" not in provenance.load()
    assert cli.main([*args, "--synthetic"]) == 0  # what it is: synthetic example data
    assert provenance.load()["survey/survey_2014_real.xlsx"].synthetic
    assert cli.main(["check-data"]) == 0
    capsys.readouterr()


def test_check_data_reports_an_example_recorded_as_real(raw_copy, outputs, capsys):
    """A manifest edited by hand (or by an older version) that calls a copy of an example real is reported."""
    shutil.copy(raw_copy / "survey" / "example_survey_2011.xlsx", raw_copy / "survey" / "copy_2011.xlsx")
    assert cli.main(["check-data"]) == 1
    assert "survey/copy_2011.xlsx: not in any MANIFEST.yaml (a copy of data/raw/survey/example_survey_2011.xlsx)" in (
        capsys.readouterr().out
    )
    manifest = raw_copy / "survey" / "MANIFEST.yaml"
    doc = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    example = next(e for e in doc["files"] if e["file"] == "survey/example_survey_2011.xlsx")
    doc["files"].append({**example, "file": "survey/copy_2011.xlsx", "synthetic": False, "source": "the association"})
    manifest.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert cli.main(["check-data"]) == 1
    out = capsys.readouterr().out
    assert "survey/copy_2011.xlsx: recorded as real (synthetic: false) but byte for byte the synthetic example " in out
    assert "data manifest: 1 problem(s)" in out


@pytest.mark.parametrize(
    "given, make, shown, why",
    [
        ("survey/survey_2011.xlsx", None, "data/raw/survey/survey_2011.xlsx", "no such file: put your export there"),
        ("survey", None, "data/raw/survey", "is a folder, not a file"),
        ("survey_2011.xlsx", "survey_2011.xlsx", "data/raw/survey_2011.xlsx", "is directly in data/raw"),
        ("survey/MANIFEST.yaml", None, "data/raw/survey/MANIFEST.yaml", "describes data and is not data itself"),
        ("../outside.xlsx", "../outside.xlsx", "outside.xlsx", "is not under data/raw"),
    ],
)
def test_add_data_on_a_path_it_cannot_record_says_why(raw_copy, outputs, capsys, given, make, shown, why):
    """A missing file, a folder, a file directly in data/raw (no manifest there) or outside it: a message naming
    the path as given under data/raw and what is accepted, exit 2, no traceback and nothing written (these were an
    OSError with a machine path, or a traceback that left a folder beside the file)."""
    if make:
        (raw_copy / make).write_bytes(b"kommune;model\n101;3\n")
    manifests = {p: p.read_bytes() for p in raw_copy.glob("*/MANIFEST.yaml")}
    assert cli.main(["add-data", given, "--source", "the association", "--licence", "research use"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {shown}: 1 problem(s)\n  - {why}") and "accepted: a file in a folder under" in err
    assert str(raw_copy) not in err and str(paths.root()) not in err
    assert {p: p.read_bytes() for p in raw_copy.glob("*/MANIFEST.yaml")} == manifests
    assert not [p for p in raw_copy.iterdir() if p.is_dir() and p.name.endswith(".xlsx")]
