"""The benchmark's set-up (benchmarks/run_benchmark.py): the configs it measures and the scaling rounds it makes."""

from __future__ import annotations

import csv
import importlib.util
import io
import re

import pytest
import yaml

from helpers.core import paths


@pytest.fixture(scope="module")
def rb():
    spec = importlib.util.spec_from_file_location("run_benchmark", paths.root() / "benchmarks" / "run_benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shipped():
    return yaml.safe_load((paths.root() / "config" / "pipeline.yaml").read_text(encoding="utf-8"))


def test_the_shipped_config_with_runs_left_out_and_quick_draws(rb, shipped):
    doc = rb.shipped_config(shipped, True, ["04_adoption_real", "04_adoption_synthetic"])
    ids = [r["id"] for r in doc["runs"]]
    assert "04_adoption_real" not in ids and "04_adoption_synthetic" not in ids
    assert ids == [r["id"] for r in shipped["runs"] if not r["id"].startswith("04_")]
    assert not any(
        n.startswith("04_")
        for item in doc["runs"] + doc["per_round"] + doc["per_pair"]
        for n in item.get("needs") or []
    )
    models = [t for t in doc["per_pair"] if t["notebook"] == "03_model_usage.ipynb"]
    assert models and all(t["parameters"]["coverage_reps"] == rb.QUICK_REPS for t in models)
    assert rb.shipped_config(shipped, False) == shipped  # the full run measures the config as it is
    with pytest.raises(SystemExit, match="no fixed run 04_nothing"):
        rb.shipped_config(shipped, False, ["04_nothing"])


def test_a_scaling_round_has_its_submission_times_in_its_own_year(rb, tmp_path):
    source = paths.raw() / "survey" / "example_survey_2009.csv"
    target = tmp_path / "bench_survey_2015.csv"
    rb.shifted_export(source, target, "2009", 6)
    before, after = (
        list(csv.reader(io.StringIO(f.read_bytes().decode("cp1252")), delimiter=";")) for f in (source, target)
    )
    assert len(before) == len(after) > 50 and before[0] == after[0]
    assert {int(re.search(r"(\d{4})", row[0]).group(1)) for row in before[1:] if row[0]} == {2009}
    assert {int(re.search(r"(\d{4})", row[0]).group(1)) for row in after[1:] if row[0]} == {2015}
    assert [row[0].replace("2015", "2009") for row in after[1:]] == [row[0] for row in before[1:]]
    assert [row[1:] for row in after] == [row[1:] for row in before]  # nothing else moved


def test_the_scaling_config_loads_with_the_shipped_defaults(rb, shipped, tmp_path, raw_copy):
    """Growth with rounds: only the clean and comparison templates, and of the config's defaults only what
    those notebooks declare (the runner refuses a default no notebook run takes)."""
    from helpers.running import pipeline

    rounds = rb.add_scaling_rounds(raw_copy, 3)
    assert sorted(rounds) == [2015, 2016, 2017]
    config = pipeline.load_config(rb.write_config(tmp_path / "scale", rb.scaling_config(shipped, rounds)))
    ids = sorted(r.id for r in config.runs)
    assert ids == [
        "01_clean_survey_2015",
        "01_clean_survey_2016",
        "01_clean_survey_2017",
        "02_compare_2015_2016",
        "02_compare_2016_2017",
    ]
    assert "real_only" in shipped["defaults"] and "real_only" not in (
        rb.scaling_config(shipped, rounds).get("defaults") or {}
    )
