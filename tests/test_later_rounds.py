"""Later rounds just run: new-round yields a codebook and config that clean the new round, and a model whose
usage years the data do not reach says so as NotCovered (the pipeline skips it), not as a failure."""

from __future__ import annotations

import shutil

import pytest
import yaml
from own_export import own_export

from helpers.core import paths
from helpers.core.errors import DataError, NotCovered
from helpers.data import survey, usage
from helpers.running import cli, pipeline, rounds


def test_a_copied_codebook_drops_the_other_years_fieldwork_window_and_cleans_the_new_round(raw_copy, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(paths.config(), config)
    own_export("survey/example_survey_2011.xlsx", "survey/survey_2017.xlsx", years=6)
    done = rounds.new_round(2017, like=2011, input_path="survey/survey_2017.xlsx", config_dir=config)
    text = (config / "codebooks" / "2017.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["year"] == 2017 and "fieldwork" not in doc  # the 2011 codebook's window is 2011's
    assert "# fieldwork: the 2011 window was left out; the 2017 round's default applies" in text
    assert any("NOTE: record the export: borgerservice add-data survey/survey_2017.xlsx" in line for line in done)
    assert any("skipped with the reason, not failed" in line for line in done)
    assert cli.main(["add-data", "survey/survey_2017.xlsx", "--source", "a", "--licence", "b", "--synthetic"]) == 0
    naive = tmp_path / "naive_2017.yaml"  # a copy that kept the 2011 window for the year 2017
    naive.write_text(paths.codebook("2011").read_text(encoding="utf-8").replace("year: 2011", "year: 2017"))
    with pytest.raises(DataError, match="fieldwork"):
        survey.clean(2017, "survey/survey_2017.xlsx", naive)
    clean, _ = survey.clean(2017, "survey/survey_2017.xlsx", config / "codebooks" / "2017.yaml")
    assert len(clean) == 88 and clean["submitted_at"].dt.year.eq(2017).all()


def test_new_round_can_reuse_a_codebook_and_edit_another_config(raw_copy, tmp_path, capsys):
    config = tmp_path / "pipeline.yaml"
    shutil.copy(paths.pipeline_config(), config)
    own_export("survey/example_survey_2014.xlsx", "survey/survey_2020.xlsx", years=6)
    args = ["new-round", "2020", "--like", "2014", "--input", "survey/survey_2020.xlsx", "--codebook", "2014"]
    assert cli.main([*args, "--config", str(config)]) == 0
    assert "reuses codebook config/codebooks/2014.yaml as it is" in capsys.readouterr().out
    assert pipeline.load_rounds(config)[2020] == {"input_path": "survey/survey_2020.xlsx", "codebook": "2014"}
    assert not (tmp_path / "codebooks").exists() and not (paths.codebooks() / "2020.yaml").exists()
    assert cli.main(["new-round", "2023", "--like", "2014", "--codebook", "1999", "--config", str(config)]) == 2
    assert "--codebook 1999: config/codebooks/1999.yaml does not exist" in capsys.readouterr().err


def test_a_model_of_a_usage_year_the_source_does_not_reach_is_not_covered():
    from helpers.analysis import models

    panel = usage.build_panel()
    answers = panel.loc[panel["year"] == 2015, ["kommunekode"]].assign(model=3)
    assert len(models.analysis_frame(answers, panel, 2015, "visits").frame) == 97  # the last synthetic year
    with pytest.raises(NotCovered, match=r"no visits values for usage year 2018 \(source: synthetic: example panel\)"):
        models.analysis_frame(answers, panel, 2018, "visits")  # a 2017 round: the synthetic visits end in 2015
    with pytest.raises(NotCovered, match="no usage data for 2026"):
        models.analysis_frame(answers, panel, 2026, "loans")
    assert issubclass(NotCovered, DataError)  # still an error about the data where no pipeline runs
