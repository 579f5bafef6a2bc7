"""Batch execution: rounds expanded from config, incremental skips, parallel runs, new rounds."""

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from helpers.core import paths
from helpers.running import pipeline, rounds
from helpers.running.pipeline import keys


def test_templates_expand_per_round_and_per_pair(make_notebook, write_config):
    nb = make_notebook("n.ipynb", "pass")
    cfg = write_config(
        {
            "runs": [{"id": "ref", "notebook": nb}],
            "per_round": [
                {
                    "id": "clean_{year}",
                    "notebook": nb,
                    "parameters": {"year": "{year}", "input_path": "{input_path}"},
                    "needs": ["ref"],
                }
            ],
            "per_pair": [
                {
                    "id": "cmp_{year_a}_{year_b}",
                    "notebook": nb,
                    "parameters": {"a": "{year_a}", "b": "{year_b}"},
                    "needs": ["clean_{year_a}", "clean_{year_b}"],
                }
            ],
            "pairs": "consecutive",
        },
        {
            2014: {"input_path": "s/2014.xlsx", "codebook": "2011"},
            2009: {"input_path": "s/2009.csv", "codebook": "2009"},
            2011: {"input_path": "s/2011.xlsx", "codebook": "2011"},
        },
    )
    c = pipeline.load_config(cfg)
    by_id = {r.id: r for r in c.runs}
    assert list(by_id) == ["ref", "clean_2009", "clean_2011", "clean_2014", "cmp_2009_2011", "cmp_2011_2014"]
    assert by_id["clean_2011"].parameters == {"year": 2011, "input_path": "s/2011.xlsx"}  # a year stays an int
    assert by_id["cmp_2011_2014"].needs == ["clean_2011", "clean_2014"]
    assert [r.id for r in pipeline.select(c.runs, rounds=[2014])] == [
        "ref",
        "clean_2011",
        "clean_2014",
        "cmp_2011_2014",
    ]
    assert pipeline.pairs([2009, 2011, 2014], "all") == [(2009, 2011), (2009, 2014), (2011, 2014)]
    with pytest.raises(pipeline.ConfigError, match="accepted: consecutive, all"):
        pipeline.pairs([2009, 2011], "every")


def test_unknown_placeholder_is_named(make_notebook, write_config):
    nb = make_notebook("n.ipynb", "pass")
    cfg = write_config(
        {"per_round": [{"id": "c_{yr}", "notebook": nb}]}, {2011: {"input_path": "a", "codebook": "2011"}}
    )
    with pytest.raises(pipeline.ConfigError, match="unknown placeholder 'yr'"):
        pipeline.load_config(cfg)


@pytest.mark.slow
def test_incremental_runs_skip_what_is_unchanged(make_notebook, write_config, outputs, monkeypatch):
    write_a = "from helpers.core import files, paths\nfiles.write_text(paths.processed() / 'a.txt', f'a {x}')"
    read_a = "from helpers.core import paths\nprint(paths.find_processed('a.txt').read_text())"
    a = make_notebook("a.ipynb", write_a)
    b = make_notebook("b.ipynb", read_a)
    doc = {"runs": [{"id": "a", "notebook": a}, {"id": "b", "notebook": b, "needs": ["a"]}], "workers": 1}
    cfg = write_config(doc)

    def status(res):
        return {o.id: o.status for o in res}

    def quiet(*_):
        return None

    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "ok", "b": "ok"}
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "skipped", "b": "skipped"}
    # a changed parameter of b re-runs b only
    doc["runs"][1]["parameters"] = {"x": 2}
    cfg = write_config(doc)
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "skipped", "b": "ok"}
    # an edit of a that leaves what it writes unchanged re-runs a only: b reads the same bytes
    make_notebook("a.ipynb", write_a + "  # edited")
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "ok", "b": "skipped"}
    # a changed output of a re-runs what reads it
    doc["runs"][0]["parameters"] = {"x": 3}
    cfg = write_config(doc)
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "ok", "b": "ok"}
    assert "a 3" in (outputs / "reports" / "executed" / "b.ipynb").read_text()
    # changed helper code re-runs everything
    real_hash = keys.code_hash  # hashes (and caches) every helper file, which the end-of-run check compares with
    monkeypatch.setattr(keys, "code_hash", lambda cache=None, sources=None: "edited" + real_hash(cache, sources))
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "ok", "b": "ok"}
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "skipped", "b": "skipped"}
    # --force re-runs everything; a deleted output re-runs its notebook
    assert status(pipeline.run(cfg, force=True, echo=quiet)) == {"a": "ok", "b": "ok"}
    (outputs / "reports" / "executed" / "b.ipynb").unlink()
    assert status(pipeline.run(cfg, echo=quiet)) == {"a": "skipped", "b": "ok"}
    manifest = json.loads((outputs / "reports" / "run_manifest.json").read_text())
    assert all(len(r["key"]) == 64 for r in manifest["runs"])
    assert manifest["runs"][0]["effective_parameters"] == {"x": 3}
    assert manifest["runs"][1]["reads"]["processed/a/a.txt"] == manifest["runs"][0]["outputs"]["processed/a/a.txt"]


@pytest.mark.slow
def test_independent_runs_overlap_with_two_workers_and_failures_stay_isolated(
    make_notebook, write_config, tmp_path, outputs
):
    stamp = (
        "import time, json, pathlib\nt0 = time.time(); time.sleep(5); t1 = time.time()\n"
        "pathlib.Path(r'{out}').write_text(json.dumps([t0, t1]))"
    )
    runs = [
        {"id": f"r{i}", "notebook": make_notebook(f"r{i}.ipynb", stamp.format(out=tmp_path / f"r{i}.json"))}
        for i in range(2)
    ]
    runs.append({"id": "broken", "notebook": make_notebook("broken.ipynb", "1 / 0")})
    runs.append({"id": "after_broken", "notebook": runs[0]["notebook"], "needs": ["broken"]})
    cfg = write_config({"runs": runs})
    lines = []
    res = {o.id: o.status for o in pipeline.run(cfg, workers=2, echo=lines.append)}
    assert res == {"r0": "ok", "r1": "ok", "broken": "failed", "after_broken": "blocked"}
    (s0, e0), (s1, e1) = (json.loads((tmp_path / f"r{i}.json").read_text()) for i in range(2))
    assert s1 < e0 and s0 < e1, "the two independent runs did not overlap"
    assert any("started" in line for line in lines) and any(line.startswith("[4/4") for line in lines)


def test_new_round_scaffolds_config(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(paths.config(), config)
    before = (config / "pipeline.yaml").read_text()
    done = rounds.new_round(2017, like=2011, config_dir=config)
    after = (config / "pipeline.yaml").read_text()
    assert pipeline.load_rounds(config / "pipeline.yaml")[2017] == {
        "input_path": "survey/example_survey_2017.xlsx",
        "codebook": "2017",
    }
    new_runs = [r.id for r in pipeline.load_config(config / "pipeline.yaml").runs if "2017" in r.id]
    assert [i for i in new_runs if not i.startswith("04_")] == [
        "01_clean_survey_2017",
        "02_compare_2014_2017",
        "03_model_visits_2014_2017",
        "03_model_loans_2014_2017",
    ]
    # issue 22: the adoption study dates adoption by every round in its two runs (real and synthetic loans) and
    # leaves each round out in turn inside them, so a new round adds no 04 run (it was 2 x 7 for every set of rounds)
    assert [i for i in new_runs if i.startswith("04_adoption_")] == []
    needs = {r.id: r.needs for r in pipeline.load_config(config / "pipeline.yaml").runs}
    assert (
        "01_clean_survey_2017" in needs["04_adoption_real"] and "01_clean_survey_2017" in needs["04_adoption_synthetic"]
    )
    # the file was edited, not re-dumped: every old line (comments included) is still there, in order
    assert [line for line in after.splitlines() if line in before.splitlines()] == before.splitlines()
    assert "  2017:\n    input_path: survey/example_survey_2017.xlsx\n    codebook: '2017'\n" in after
    codebook = yaml.safe_load((config / "codebooks" / "2017.yaml").read_text())
    assert codebook["year"] == 2017
    assert any("added round 2017" in line for line in done)
    assert any("does not exist yet" in line for line in done)
    with pytest.raises(ValueError, match="already"):
        rounds.new_round(2017, like=2011, config_dir=config)
    with pytest.raises(ValueError, match="accepted"):
        rounds.new_round(2020, like=1999, config_dir=config)


SPEC = {"input_path": "survey/s 2020.xlsx", "codebook": "2011"}


@pytest.mark.parametrize(
    "text",
    [
        "kernel: k\n",  # no rounds section yet
        "rounds: {}\nkernel: k\n",
        "rounds:\n  2009:  # first\n    input_path: a.csv\n    codebook: '2009'\n\n# runs follow\nkernel: k\n",
        "kernel: k\nrounds:\n  2009:\n    input_path: a.csv\n    codebook: '2009'",  # last section, no final newline
    ],
)
def test_round_entry_is_added_to_the_rounds_section(text):
    new = pipeline.add_round_entry(text, 2020, SPEC)
    doc = yaml.safe_load(new)
    assert doc["rounds"][2020] == SPEC and doc["kernel"] == "k"
    assert {y for y in doc["rounds"]} == {y for y in (yaml.safe_load(text).get("rounds") or {})} | {2020}


def test_round_entry_that_cannot_be_placed_is_refused(tmp_path):
    # a flow-style section cannot be extended line by line: say so, write nothing
    text = "rounds: {2009: {input_path: a.csv, codebook: '2009'}}\nkernel: k\n"
    with pytest.raises(pipeline.ConfigError, match="add it by hand"):
        pipeline.add_round_entry(text, 2020, SPEC)
    config = tmp_path / "config"
    shutil.copytree(paths.config(), config)
    (config / "pipeline.yaml").write_text(text.replace("a.csv", "survey/example_survey_2009.csv") + "runs: []\n")
    with pytest.raises(pipeline.ConfigError):
        rounds.new_round(2020, like=2009, config_dir=config)
    assert not (config / "codebooks" / "2020.yaml").exists()


def test_yaml_syntax_error_names_line(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("runs:\n  - id: a\n    needs: [x_{year}]\n")
    with pytest.raises(pipeline.ConfigError, match="line 3.*quote values"):
        pipeline.load_config(tmp_path / "pipeline.yaml")


def _scaling_runs(n: int) -> list[pipeline.Run]:
    """The benchmark's scaling graph: a clean per round, a compare per consecutive pair."""
    cleans = [pipeline.Run(f"clean_{y}", "01_clean_survey.ipynb") for y in range(n)]
    compares = [
        pipeline.Run(f"cmp_{a}_{a + 1}", "02_compare_rounds.ipynb", needs=[f"clean_{a}", f"clean_{a + 1}"])
        for a in range(n - 1)
    ]
    return cleans + compares


def _makespan(runs: list[pipeline.Run], seconds: dict[str, float], workers: int, expected: dict[str, float]) -> float:
    """Simulate the scheduler's choices (start_order whenever a worker is free) with known run times."""
    t, running, pending, finished = 0.0, [], list(runs), set()
    while pending or running:
        ready = [r for r in pending if all(n in finished for n in r.needs)]
        for r in pipeline.start_order(ready, pending, finished, runs, expected)[: workers - len(running)]:
            pending.remove(r)
            running.append((t + seconds[r.notebook], r.id))
        running.sort()
        t, done = running.pop(0)
        finished.add(done)
    return t


def test_start_order_opens_work_then_longest_then_deepest():
    runs = _scaling_runs(4)
    by_id = {r.id: r for r in runs}
    pending = [r for r in runs if r.id not in ("clean_0", "clean_1")]
    ready = [by_id[i] for i in ("clean_2", "clean_3", "cmp_0_1")]
    # clean_2 opens cmp_1_2; then the compare (deeper) before clean_3, which opens nothing yet
    assert [r.id for r in pipeline.start_order(ready, pending, {"clean_0", "clean_1"}, runs, {})] == [
        "clean_2",
        "cmp_0_1",
        "clean_3",
    ]
    # once clean_2 is done, clean_3 opens cmp_2_3 and goes before cmp_1_2
    pending = [r for r in pending if r.id not in ("clean_2", "cmp_0_1")]
    ready = [by_id["clean_3"], by_id["cmp_1_2"]]
    assert [r.id for r in pipeline.start_order(ready, pending, {"clean_0", "clean_1", "clean_2"}, runs, {})] == [
        "clean_3",
        "cmp_1_2",
    ]
    # with recorded times and nothing to open: never timed first, then the longest
    solo = [pipeline.Run("a", "a.ipynb"), pipeline.Run("b", "b.ipynb"), pipeline.Run("c", "c.ipynb")]
    assert [r.id for r in pipeline.start_order(solo, solo, set(), solo, {"a": 1.0, "b": 9.0})] == ["c", "b", "a"]


def test_start_order_shortens_four_rounds_on_two_workers():
    seconds = {"01_clean_survey.ipynb": 2.5, "02_compare_rounds.ipynb": 6.3}  # measured (benchmarks/README.md)
    runs = _scaling_runs(4)
    serial = 4 * 2.5 + 3 * 6.3
    config_order = 2.5 + 2.5 + 6.3 + 6.3  # cleans two by two, then the last compare alone
    got = _makespan(runs, seconds, 2, {})
    assert got == pytest.approx(2.5 + 6.3 + 6.3)  # the two workers are busy until the last compare ends together
    assert got < config_order and serial / got > 1.85
    assert _makespan(runs, seconds, 1, {}) == pytest.approx(serial)


def test_expected_seconds_from_the_manifest():
    runs = _scaling_runs(3) + [pipeline.Run("new", "new.ipynb")]
    before = {
        "clean_0": {"seconds": 2.0, "notebook": "01_clean_survey.ipynb"},
        "clean_1": {"seconds": 3.0, "notebook": "01_clean_survey.ipynb"},
        "cmp_0_1": {"seconds": 6.0, "notebook": "02_compare_rounds.ipynb"},
    }
    assert pipeline.expected_seconds(runs, before) == {
        "clean_0": 2.0,
        "clean_1": 3.0,
        "clean_2": 2.5,
        "cmp_0_1": 6.0,
        "cmp_1_2": 6.0,
    }


def test_papermill_is_imported_without_the_slow_iri_grammar():
    # a fresh interpreter: the test process may have imported jsonschema already
    code = (
        "import sys\nfrom helpers.running.pipeline import execution\nexecution.import_papermill()\nimport nbformat\n"
        "nb = nbformat.v4.new_notebook(); nbformat.validate(nb)\n"
        "nb.cells.append({'cell_type': 'code'})\n"
        "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('invalid caught')\n"
        "print('rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["invalid", "caught", "False"]


def test_run_keys_follow_each_runs_own_inputs(raw_copy, tmp_path, monkeypatch):
    from helpers.data import provenance

    config = tmp_path / "config"
    shutil.copytree(paths.config(), config)
    monkeypatch.setattr(paths, "config", lambda: config)

    def keys():
        cfg = pipeline.load_config(config / "pipeline.yaml")
        return pipeline.run_keys(cfg.runs, cfg, pipeline.input_hashes(), "code")

    def record(name, source, description):  # a synthetic survey export of data/raw, recorded in its manifest
        provenance.record(
            raw_copy / "survey" / name,
            source=source,
            licence="CC0-1.0",
            synthetic=True,
            description=description,
            provenance="test",
        )

    k0 = keys()
    # a new round (its export recorded in data/raw, its codebook, its config entry) leaves every existing key alone
    shutil.copyfile(raw_copy / "survey" / "example_survey_2014.xlsx", raw_copy / "survey" / "example_survey_2017.xlsx")
    record("example_survey_2017.xlsx", source="test copy", description="copy")
    rounds.new_round(2017, like=2014, config_dir=config)
    k1 = keys()
    # the export and the adoption runs need every round (issue 22: 04 dates adoption by every round), the new one too
    every_round = {"05_export_data"} | {i for i in k0 if i.startswith("04_adoption_")}
    assert every_round >= {"05_export_data", "04_adoption_real", "04_adoption_synthetic"}
    assert {i: k1[i] for i in k0 if i not in every_round} == {i: k for i, k in k0.items() if i not in every_round}
    assert all(k1[i] != k0[i] for i in every_round)
    adoption_runs = {
        r.id: r.needs for r in pipeline.load_config(config / "pipeline.yaml").runs if r.id.startswith("04_adoption_")
    }

    def with_round(year):  # the adoption runs whose panel holds this round (every run: they date by every round)
        return {i for i, needs in adoption_runs.items() if f"01_clean_survey_{year}" in needs}

    assert set(k1) - set(k0) == {
        "01_clean_survey_2017",
        "02_compare_2014_2017",
        "03_model_visits_2014_2017",
        "03_model_loans_2014_2017",
    }  # no new adoption run: the two runs now hold 2017 (with_round(2017) is both of them)
    assert with_round(2017) == {"04_adoption_real", "04_adoption_synthetic"}
    # an edited codebook re-runs its round and what needs it, nothing else
    with open(config / "codebooks" / "2011.yaml", "a") as f:
        f.write("\n# edited\n")
    k2 = keys()
    changed = {i for i in k1 if k2[i] != k1[i]}
    assert changed == {
        "01_clean_survey_2011",
        "02_compare_2009_2011",
        "03_model_visits_2009_2011",
        "03_model_loans_2009_2011",
        "02_compare_2011_2014",
        "03_model_visits_2011_2014",
        "03_model_loans_2011_2014",
        "05_export_data",
    } | with_round(2011)
    # an edited export likewise
    with open(raw_copy / "survey" / "example_survey_2009.csv", "ab") as f:
        f.write(b"\r\n")
    record("example_survey_2009.csv", source="test", description="edited")
    k3 = keys()
    assert {i for i in k2 if k3[i] != k2[i]} == {
        "01_clean_survey_2009",
        "02_compare_2009_2011",
        "03_model_visits_2009_2011",
        "03_model_loans_2009_2011",
        "05_export_data",
    } | with_round(2009)
    # shared inputs (municipality aliases, reference data) re-run everything
    with open(config / "aliases.yaml", "a") as f:
        f.write("\n# edited\n")
    k4 = keys()
    assert all(k4[i] != k3[i] for i in k3)
    cfg = pipeline.load_config(config / "pipeline.yaml")
    inputs = pipeline.input_hashes()
    ref = next(rel for rel in inputs if rel.startswith("reference/"))
    moved = pipeline.run_keys(cfg.runs, cfg, {**inputs, ref: "0" * 64}, "code")
    assert all(moved[i] != k4[i] for i in k4)


WRITE_O = "from helpers.core import files, paths\nfiles.write_text(paths.processed() / 'o', 'x')"
NOT_COVERED = (
    "from helpers.core.errors import NotCovered\n"
    "raise NotCovered('usage panel', 'no visits values for usage year 2018; accepted: 2009-2015')"
)


@pytest.mark.slow
def test_a_run_whose_data_do_not_cover_its_years_is_skipped_with_the_reason_not_failed(
    make_notebook, write_config, outputs
):
    ok = make_notebook(
        "ok.ipynb", "from helpers.core import files, paths\nfiles.write_text(paths.processed() / 'o', 'x')"
    )
    late = make_notebook("late.ipynb", NOT_COVERED)
    cfg = write_config(
        {
            "runs": [
                {"id": "ok", "notebook": ok},
                {"id": "visits_2014_2017", "notebook": late, "needs": ["ok"]},
                {"id": "after_it", "notebook": ok, "needs": ["visits_2014_2017"]},
            ],
            "workers": 1,
        }
    )
    lines = []
    res = pipeline.run(cfg, echo=lines.append)
    assert {o.id: o.status for o in res} == {"ok": "ok", "visits_2014_2017": "not covered", "after_it": "not covered"}
    text, code = pipeline.summary(res)
    assert code == 0, text  # not a failure: `make run` and CI stay green
    assert "2 skipped because their data do not cover their years (not a failure):" in text
    assert (
        "NOT COVERED: visits_2014_2017: NotCovered: usage panel: 1 problem(s); no visits values for usage year 2018"
        in (text)
    )
    assert any("visits_2014_2017: not covered" in line and "usage year 2018" in line for line in lines)
    manifest = json.loads((paths.reports() / pipeline.MANIFEST).read_text())
    record = {r["id"]: r for r in manifest["runs"]}
    assert record["visits_2014_2017"]["status"] == "not covered"
    assert "no visits values for usage year 2018" in record["visits_2014_2017"]["error"]
    assert "not run: needs without data for their years (visits_2014_2017:" in record["after_it"]["error"]
    assert not (paths.processed_root() / "after_it").exists()
    executed = paths.reports() / record["visits_2014_2017"]["executed"].removeprefix("reports/")
    stamp = executed.stat().st_mtime_ns
    again = {o.id: (o.status, o.error) for o in pipeline.run(cfg, echo=lambda *_: None)}
    assert again["visits_2014_2017"][0] == "not covered" and "usage year 2018" in again["visits_2014_2017"][1]
    assert again["ok"][0] == "skipped" and executed.stat().st_mtime_ns == stamp  # the same data: not run again


@pytest.mark.slow
def test_a_failed_optional_need_does_not_block_the_run_that_reads_the_others(make_notebook, write_config, outputs):
    ok = make_notebook("ok.ipynb", WRITE_O)
    clean = make_notebook(
        "clean.ipynb",
        "if year == 2017:\n    raise RuntimeError('the 2017 export cannot be read')\n" + WRITE_O,
        params="year = 0  # survey round",
    )
    export = make_notebook("export.ipynb", "from helpers.core import paths\nprint(paths.reads())")
    rounds_ = {2011: {"input_path": "survey/a.xlsx", "codebook": "2011"}, 2017: {"input_path": "b", "codebook": "x"}}
    cfg = write_config(
        {
            "runs": [
                {"id": "panel", "notebook": ok},
                {"id": "export", "notebook": export, "needs": ["panel"], "optional_needs": ["clean_{year}"]},
                {"id": "strict", "notebook": ok, "needs": ["clean_{year}"]},
            ],
            "per_round": [{"id": "clean_{year}", "notebook": clean, "parameters": {"year": "{year}"}}],
            "workers": 1,
        },
        rounds_,
    )
    run = next(r for r in pipeline.load_config(cfg).runs if r.id == "export")
    assert run.needs == ["panel", "clean_2011", "clean_2017"] and run.optional == ["clean_2011", "clean_2017"]
    lines = []
    outcomes = pipeline.run(cfg, echo=lines.append)
    res = {o.id: o.status for o in outcomes}
    assert res == {"panel": "ok", "clean_2011": "ok", "clean_2017": "failed", "export": "ok", "strict": "blocked"}
    assert "export: runs without clean_2017 (optional; did not succeed)" in lines
    assert pipeline.summary(outcomes)[1] == 1  # the failed clean is still a failure of the command
