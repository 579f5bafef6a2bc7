"""config/pipeline.yaml through its typed model: each kind of error names the file, the key path, what
was found and what is accepted, in words (never a pydantic dump with its URLs)."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from helpers.core import paths
from helpers.running import pipeline
from helpers.running.pipeline import config

SHIPPED = yaml.safe_load((paths.config() / "pipeline.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def refused(tmp_path):
    """The ConfigError of the shipped config changed by ``change(doc)``, without the file's name (checked here)."""

    def refuse(change) -> str:
        doc = copy.deepcopy(SHIPPED)
        change(doc)
        path = tmp_path / "pipeline.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        with pytest.raises(pipeline.ConfigError) as info:
            pipeline.load_config(path)
        message = str(info.value)
        assert message.startswith(f"{paths.relative(path)}: ")
        assert "pydantic" not in message and "http" not in message and "Input should" not in message
        return message.removeprefix(f"{paths.relative(path)}: ")

    return refuse


def test_the_shipped_config_is_valid_and_typed():
    model = pipeline.read_file(paths.config() / "pipeline.yaml")
    assert model.pairs == "consecutive" and model.workers == "auto" and model.timeout_seconds == 1200
    assert model.rounds[2011] == config.RoundEntry(input_path="survey/example_survey_2011.xlsx", codebook="2011")
    assert model.per_pair[1].parameters["usage_source"] == "synthetic"
    cfg = pipeline.load_config()
    assert {r.id: r.entry for r in cfg.runs}["03_model_loans_2011_2014"] == "per_pair[2]"
    with pytest.raises(Exception, match="frozen"):
        model.pairs = "all"  # the model of the file is read-only


def test_a_relative_path_names_the_file_inside_the_project():
    with pytest.raises(pipeline.ConfigError, match=r"^config/nope\.yaml: pipeline config not found$"):
        pipeline.load_config(paths.config() / "nope.yaml")


def test_an_unknown_key_is_named_with_the_keys_accepted(refused):
    assert refused(lambda d: d.update(paris="all")) == (
        "unknown key 'paris' in the pipeline config; accepted keys: kernel, timeout_seconds, cell_timeout_seconds, "
        "workers, pairs, defaults, rounds, runs, per_round, per_pair, per_round_set; did you mean 'pairs'?"
    )
    assert refused(lambda d: d["per_pair"][1].update(paramters={"outcome": "loans"})) == (
        "per_pair[1]: unknown key 'paramters' in a run; accepted keys: id and notebook (required), parameters, needs, "
        "optional_needs; did you mean 'parameters'?"
    )


def test_a_value_of_the_wrong_type_says_what_was_found_and_what_is_accepted(refused):
    assert refused(lambda d: d.update(timeout_seconds="ten")) == (
        "timeout_seconds must be a whole number of seconds above 0 (the limit on one whole notebook); "
        "found the text 'ten'"
    )
    assert (
        refused(lambda d: d.update(workers=0))
        == "workers must be auto (one per core) or a whole number above 0; found 0"
    )
    assert refused(lambda d: d.update(defaults=["language", "da"])) == (
        "defaults must map parameter names to values, e.g. 'defaults: {language: da}'; found a list ['language', 'da']"
    )
    assert refused(lambda d: d["runs"][2].update(needs="01_usage_panel")) == (
        "runs[2].needs must list the ids of the runs that must succeed first, e.g. [00_reference]; "
        "found the text '01_usage_panel'"
    )
    assert refused(lambda d: d["runs"][0].pop("id")) == (
        "runs[0] lacks 'id'; the keys of a run: id and notebook (required), parameters, needs, optional_needs"
    )
    both = refused(lambda d: d.update(timeout_seconds=-1, pairs="every"))
    assert both.splitlines() == [
        "2 problems",
        "  - timeout_seconds must be a whole number of seconds above 0 (the limit on one whole notebook); found -1",
        "  - pairs 'every' is not accepted; accepted: 'consecutive', 'all'",
    ]


def test_a_parameter_value_outside_the_vocabulary_names_the_run_and_where_it_is_set(refused):
    assert refused(lambda d: d["defaults"].update(languages=["en", "de"])) == (
        "run '00_reference': language 'de' is not supported; accepted: 'en' (English), 'da' (Danish); "
        "set in defaults.languages"
    )
    assert refused(lambda d: d["runs"][0]["parameters"].update(languages=None)) == (
        "run '00_reference': language None is not supported; accepted: 'en' (English), 'da' (Danish); "
        "set in runs[0].parameters.languages"
    )
    assert refused(lambda d: d["per_pair"][1]["parameters"].update(usage_source="cache")) == (
        "run '03_model_visits_2009_2011': usage_source 'cache' is not accepted; accepted: 'synthetic', 'real', "
        "'statbank'; set in per_pair[1].parameters.usage_source"
    )


def test_a_default_that_no_notebook_declares_is_named(refused):
    message = refused(lambda d: d["defaults"].update(langauge="da"))
    assert message.startswith("defaults: 'langauge' is a parameter of none of the notebooks run; known: [")
    assert "'usage_source'" in message and message.endswith("; did you mean 'languages'?")


def test_a_bad_placeholder_is_named_with_the_placeholders_accepted(refused):
    assert refused(lambda d: d["per_pair"][1]["parameters"].update(rounds=["{year_a}", "{yr}"])) == (
        "per_pair[1].parameters.rounds[1] '{yr}': unknown placeholder 'yr'; accepted: {year_a}, {year_b}"
    )
    assert refused(lambda d: d["per_round"][0].update(id="01_clean_survey_{year")) == (
        "per_round[0].id '01_clean_survey_{year': not a template (expected '}' before end of string); write a "
        "placeholder as {name} and a brace as {{ or }}; accepted: {year}, {input_path}, {codebook}"
    )


def test_bad_pairs_are_refused_with_the_vocabulary(refused):
    assert refused(lambda d: d.update(pairs="every")) == "pairs 'every' is not accepted; accepted: 'consecutive', 'all'"


def test_a_bad_round_is_named(refused):
    assert refused(lambda d: d["rounds"].update({"abc": {"input_path": "x.csv", "codebook": "x"}})) == (
        "rounds: 'abc' is not a survey year; accepted: a year from 1900 to 2100, e.g. 2011"
    )
    assert refused(lambda d: d["rounds"].update({2017: {"input_path": "survey/x.csv"}})) == (
        "rounds.2017 lacks 'codebook'; the keys of a round: input_path and codebook (required)"
    )
    assert refused(lambda d: d["rounds"].update({2017: "survey/x.csv"})) == (
        "rounds.2017 must be a round, a mapping with the keys input_path and codebook (required); "
        "found the text 'survey/x.csv'"
    )
    assert refused(lambda d: d["rounds"][2009].update(codebok="2009")) == (
        "rounds.2009: unknown key 'codebok' in a round; accepted keys: input_path and codebook (required); "
        "did you mean 'codebook'?"
    )


def test_empty_sections_and_unquoted_codebooks_are_read_as_before(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "rounds:\n  2009:\n    input_path: survey/example_survey_2009.csv\n    codebook: 2009\n"
        "defaults:\nruns:\n  - id: a\n    notebook: 00_reference.ipynb\n    parameters:\n    needs:\n",
        encoding="utf-8",
    )
    cfg = pipeline.load_config(path)
    assert cfg.rounds == {2009: {"input_path": "survey/example_survey_2009.csv", "codebook": "2009"}}
    assert [(r.id, r.parameters, r.needs, r.entry) for r in cfg.runs] == [("a", {}, [], "runs[0]")]
    assert pipeline.load_rounds(path) == cfg.rounds


def test_an_unchanged_config_is_taken_from_its_last_check_without_importing_pydantic(
    tmp_path, make_notebook, write_config
):
    notebook = make_notebook("a.ipynb", "print(language)", params='language = "en"  # figure texts')
    path = write_config({"runs": [{"id": "a", "notebook": notebook}], "defaults": {"language": "da"}})
    store = tmp_path / "checked.json"
    cfg = config.load_checked(path, store)
    assert store.is_file() and cfg == pipeline.load_config(path)
    assert cfg.runs[0].parameters == {"language": "da"}
    code = (
        "import sys; from helpers.running.pipeline import config; "
        f"c = config.load_checked({str(path)!r}, {str(store)!r}); "
        "print(c.runs[0].parameters, 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "{'language': 'da'} False"


def test_a_config_is_checked_again_when_it_or_its_notebooks_changed(tmp_path, make_notebook, write_config):
    notebook = make_notebook("a.ipynb", "print(language)", params='language = "en"  # figure texts')
    path = write_config({"runs": [{"id": "a", "notebook": notebook}], "defaults": {"language": "da"}})
    store = tmp_path / "checked.json"
    config.load_checked(path, store)
    path.write_text(path.read_text().replace("language: da", "language: de"))  # the config: a refused value
    with pytest.raises(pipeline.ConfigError, match="'de'"):
        config.load_checked(path, store)
    path.write_text(path.read_text().replace("language: de", "language: da"))
    assert config.load_checked(path, store).runs[0].parameters == {"language": "da"}
    make_notebook("a.ipynb", "print(1)")  # the notebook: it no longer declares the default's parameter
    with pytest.raises(pipeline.ConfigError, match="defaults: 'language' is a parameter of none of the notebooks"):
        config.load_checked(path, store)
    store.write_text("{not json")  # a damaged record is not used
    make_notebook("a.ipynb", "print(language)", params='language = "en"  # figure texts')
    assert config.load_checked(path, store).runs[0].parameters == {"language": "da"}
