"""A real export with the layout of an example works without code changes, and is not marked synthetic."""

import shutil

import pandas as pd

from helpers.core import paths
from helpers.data import survey
from helpers.running import cli


def test_registered_real_export_cleans_and_is_not_synthetic(raw_copy, outputs, capsys):
    real = raw_copy / "survey" / "survey_2011_from_the_association.xlsx"
    shutil.copy(paths.root() / "data" / "raw" / "survey" / "example_survey_2011.xlsx", real)
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
