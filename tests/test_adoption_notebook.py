"""Notebook 04_adoption_panel: its pipeline runs (every set of >= 2 rounds, real and synthetic) and a run
with non-default parameters (the pattern of test_notebook_params.py)."""

from __future__ import annotations

import ast
import json

import nbformat
import pandas as pd
import pytest

from helpers import results
from helpers.analysis import adoption
from helpers.core import paths
from helpers.data import survey
from helpers.outputs import brief
from helpers.running import pipeline

NOTEBOOK = "04_adoption_panel"
ROUNDS = {
    2009: ("survey/example_survey_2009.csv", "2009"),
    2011: ("survey/example_survey_2011.xlsx", "2011"),
    2014: ("survey/example_survey_2014.xlsx", "2014"),
}


def _declared() -> dict:
    nb = nbformat.read(paths.notebooks() / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(cell.source, {}, namespace)
    return namespace


def test_round_sets():
    assert pipeline.round_sets([2009, 2011, 2014]) == [(2009, 2011), (2009, 2014), (2011, 2014), (2009, 2011, 2014)]
    assert pipeline.round_sets([2009]) == []


def test_pipeline_runs_04_once_per_source_dating_adoption_by_every_round():
    """Issue 22: adoption is dated by every round of the config (a round left out is unobserved, never "not
    treated"); the round subsets became the leave-one-round-out table inside the run, so there are two 04 runs
    (real and synthetic loans), each needing every round."""
    cfg = pipeline.load_config()
    runs = {r.id: r for r in cfg.runs if r.notebook == f"{NOTEBOOK}.ipynb"}
    assert sorted(runs) == ["04_adoption_real", "04_adoption_synthetic"]
    declared = _declared()
    for source in ("real", "synthetic"):
        run = runs[f"04_adoption_{source}"]
        assert run.parameters == {"usage_source": source, "languages": run.parameters["languages"]}  # + defaults
        assert set(run.parameters) <= set(declared) and declared["rounds"] == []  # [] = every round of the config
        assert run.needs == [f"01_clean_survey_{y}" for y in sorted(cfg.rounds)]
    spec = adoption.Specification()
    assert spec.panel.rounds == tuple(sorted(cfg.rounds)) and spec.panel.left_out == ()
    assert adoption.Specification(rounds=(2009, 2011)).panel.left_out == (2014,)  # unobserved, still in the panel


def _rounds_config(n: int):
    """The shipped config with ``n`` rounds, validated as the pipeline reads it (``PipelineFile``)."""
    from helpers.running.pipeline import config
    from helpers.running.pipeline.config_file import PipelineFile, _validated

    doc = config._read_yaml(paths.config() / "pipeline.yaml")
    doc["rounds"] = {2009 + 2 * i: {"input_path": f"survey/r{i}.csv", "codebook": "2011"} for i in range(n)}
    return _validated(PipelineFile, doc, "pipeline.yaml")


@pytest.mark.parametrize("n", [3, 4, 5])
def test_04_runs_and_fits_grow_linearly_with_the_rounds(n):
    """The config's expansion for 3, 4 and 5 rounds: two 04 runs whatever the number of rounds (it was
    2 (2^n - n - 1): 8, 22, 52), each with a leave-one-round-out table of n + 1 rows (all rounds, then each out)."""
    from helpers.running.pipeline import config

    model = _rounds_config(n)
    rounds = config._rounds(model)
    assert list(rounds) == [2009 + 2 * i for i in range(n)]
    runs = [r for r in config.expand(model, rounds) if r.notebook == f"{NOTEBOOK}.ipynb"]
    assert len(runs) == 2
    assert all(r.needs == [f"01_clean_survey_{y}" for y in rounds] for r in runs)
    old = 2 * (2**n - n - 1)
    assert old == {3: 8, 4: 22, 5: 52}[n]
    variants = adoption.round_variants(adoption.PanelSpec(tuple(rounds)))
    assert len(variants) == n + 1
    assert [v.left_out for v in variants.values()] == [(), *[(r,) for r in rounds]]


def test_parameters_cell_declares_exactly_the_specification_and_the_figure_language():
    """The notebook reads its parameters by name (``Specification.from_parameters(globals())``): the cell and the
    class declare the same names, with the same defaults."""
    import dataclasses

    declared = _declared()
    fields = {f.name for f in dataclasses.fields(adoption.Specification)}
    assert set(declared) == fields | {"languages"}
    assert adoption.Specification.from_parameters(declared) == adoption.Specification()


def test_parameter_comments_have_no_equals_sign():
    """papermill cannot parse a parameter line whose comment holds '=' and silently ignores its override."""
    nb = nbformat.read(paths.notebooks() / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = cell.source.splitlines()
    assert len(ast.parse(cell.source).body) == len(lines), "one parameter per line"
    for line in lines:
        assert "=" not in line.split("#", 1)[1], line


@pytest.mark.slow
def test_notebook_runs_with_non_default_parameters(run_notebook):
    for year, (path, codebook) in ROUNDS.items():
        survey.clean_to_files(year, paths.raw() / path, codebook)
    parameters = {
        "rounds": [2011, 2014],
        "usage_source": "synthetic",
        "treatment": "level3+",
        "estimator": "twfe",
        "control_group": "nevertreated",
        "anticipation": 1,
        "covid": "exclude",
        "timing": "earliest",
        "event_window": [-3, 6],
        "simulation_reps": 30,
        "cs_weights": "population",
        "bootstrap_draws": 199,
        "seed": 3,
        "honest_points": 20,
    }
    defaults = _declared()
    assert set(parameters) <= set(defaults)
    assert all(defaults[k] != v for k, v in parameters.items())
    errors = run_notebook(NOTEBOOK, parameters)
    assert not errors, f"{errors[0].ename}: {errors[0].evalue}"
    path = paths.results() / "04_adoption_synthetic_2011_2014.json"
    doc = results.read(path)  # the typed document: every field below is declared
    assert doc.synthetic is True and doc.results.synthetic_usage is True
    for key, value in parameters.items():
        assert doc.parameters[key] == value, key
    res = doc.results
    events = [row.event_time for row in res.event_studies["twfe"].effects]
    assert min(events) == -3 and max(events) == 6
    ref = [row for row in res.event_studies["twfe"].effects if row.reference]
    assert [row.event_time for row in ref] == [-2]  # anticipation 1 moves the reference period
    assert not any(y.used for y in res.years if y.year in (2020, 2021))
    assert res.vs_truth, "the synthetic source shows estimates against the truth"
    assert res.simulation.reps == 30
    assert (paths.figures() / "adoption_event_study_synthetic_2011_2014_en.png").is_file()
    assert (paths.figures() / "adoption_event_study_synthetic_2011_2014_en.svg").is_file()
    assert (paths.tables() / "adoption_timing_synthetic_2011_2014.csv").is_file()
    # the regression table of the TWFE fits (static and event study), in every format, synthetic-marked
    stem = paths.tables() / "model_table_twfe_synthetic_2011_2014"  # "synthetic" once
    assert all(stem.with_suffix(f".{e}").is_file() for e in ("csv", "html", "tex", "docx"))
    twfe_table = pd.read_csv(stem.with_suffix(".csv"))
    static = twfe_table[(twfe_table["model"] == "static (one effect)") & (twfe_table["parameter"] == "treated_a")].iloc[
        0
    ]
    assert (
        static["coefficient"] == pytest.approx(res.twfe_static.estimate, rel=1e-12)
        and "fit" not in json.loads(path.read_text())["results"]["twfe_static"]
    )
    event = twfe_table[(twfe_table["model"] == "event study") & (twfe_table["kind"] == "estimate")].set_index(
        "parameter"
    )
    by_time = {row.event_time: row.estimate for row in res.event_studies["twfe"].effects if not row.reference}
    assert (
        event.loc["post1", "coefficient"] == pytest.approx(by_time[1], rel=1e-12) and "pre2" not in event.index
    )  # reference
    assert "SYNTHETIC" in stem.with_suffix(".html").read_text()
    said = brief.sentences(doc)  # the notebook's "Results in brief"
    assert (
        said[0] == brief.SYNTHETIC_CAVEAT and "first treated in 2013" in said[2]
    )  # timing at the earlier bound: 2011 -> 2013 (issue 22: the headline leads, the timing is second)
    assert any(s.startswith("TWFE Poisson: in the first treated year") for s in said)
    assert any("intervals cover" in s for s in said)  # the synthetic source is compared with the truth
    # issue 22: aggregations, bands, families, like for like, wild bootstrap, Rambachan & Roth, rounds, neighbours
    assert set(res.aggregations) == {"dynamic", "simple", "group", "calendar"} and res.overall is not None
    assert res.rounds == (2011, 2014) and res.left_out_rounds == (2009,)  # 2009 unobserved, not "not treated"
    twfe = res.event_studies["twfe"]
    assert "normal (z)" in twfe.interval and "t with" not in twfe.interval
    assert all(e.p_holm is not None for e in twfe.effects if not e.reference and e.p is not None)
    assert res.wild and res.wild["static"].draws == 199 and res.honest and res.honest.points == 20
    assert [x.variant for x in res.leave_one_round_out] == ["rounds 2011, 2014"]  # two rounds: none can go
    assert res.spillover is not None and res.simulation.coverage and res.simulation.noise is not None
    assert any(x.variant.startswith("unanswered rounds imputed") for x in res.imputed_timing)
    assert any(lfl.weights.startswith("each kommune weighted by its mean population") for lfl in res.like_for_like)
    assert said[1].startswith("Headline (TWFE Poisson): averaged over the event times 0-6")
    assert (paths.figures() / "adoption_honest_synthetic_2011_2014_en.png").is_file()


def test_notebook_states_what_the_design_identifies():
    """Issue 14: the assumptions in words (parallel trends, no anticipation, interval-censored timing,
    SUTVA across neighbouring kommuner) and what the always-treated mean for identification."""
    nb = nbformat.read(paths.notebooks() / f"{NOTEBOOK}.ipynb", as_version=4)
    text = " ".join(c.source for c in nb.cells if c.cell_type == "markdown").replace("\n", " ")
    for needed in (
        "**Parallel trends**",
        "**No anticipation**",
        "**Timing known only to an interval**",
        "**SUTVA across neighbouring kommuner**",
        "*the effect on the earliest adopters is not identified*",
        "A large one is **not** proof of parallel trends",
    ):
        assert needed in text, needed
