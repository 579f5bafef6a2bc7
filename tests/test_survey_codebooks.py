"""Codebooks are validated by a typed model: every kind of mistake is an error in the house style
(the codebook relative to the project, the key path, what was found, what is accepted)."""

from __future__ import annotations

import copy

import pytest
import yaml

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.data import survey


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(paths.codebook("2011").read_text(encoding="utf-8"))


def _problem(tmp_path, doc, edit):
    """The one problem of the 2011 codebook after ``edit``, read from a file as a researcher would write it."""
    d = copy.deepcopy(doc)
    edit(d)
    f = tmp_path / "edited.yaml"
    f.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError) as info:
        survey.load_codebook(f)
    err = info.value
    assert err.file == "edited.yaml (outside the project)"  # a temporary file: never its absolute path
    assert len(err.problems) == 1, str(err)
    return err.problems[0]


def test_shipped_codebooks_are_valid():
    for name in survey.available_codebooks():
        cb = survey.load_codebook(name)
        assert cb.spec.columns["model"].header and cb.model_order == (5, 1, 2, 3, 4)
    assert survey.load_codebook("2009").spec.models.codes == {1: 2, 2: 2, 3: 3, 5: 4, 6: 1, 7: 5}


def test_a_project_codebook_is_named_relative_to_the_project(doc):
    d = copy.deepcopy(doc)
    d["free_text"] = "shred"
    with pytest.raises(DataError) as info:
        survey.validate_codebook(paths.codebook("2011"), d)
    assert str(info.value).startswith("config/codebooks/2011.yaml: 1 problem(s)")
    assert str(paths.root()) not in str(info.value)


def test_a_misspelt_key_is_unknown_and_the_known_keys_are_listed(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d.update(free_txt="drop"))
    assert (p.column, p.message, p.value) == ("free_txt", "unknown key", "drop")
    assert "free_text" in p.accepted and "max_rows" in p.accepted


def test_a_misspelt_key_inside_a_column(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["columns"]["model"].update(hedaer="x"))
    assert p.column == "model" and p.message == "`columns.model.hedaer`: unknown key"
    assert p.accepted == "header, type, labels, required, min, max"


def test_a_value_outside_its_vocabulary(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["columns"]["model"].update(type="modell"))
    assert (p.column, p.message, p.value) == ("model", "`columns.model.type`: unknown column type", "modell")
    assert p.accepted == "'kommune', 'datetime', 'label', 'model', 'integer', 'text'"


def test_an_unknown_canonical_variable(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["columns"].update(favourite_colour={"header": "Farve", "type": "text"}))
    assert p.column == "favourite_colour" and "unknown canonical variable" in p.message
    assert "'kommune_navn'" in p.accepted and "'submitted_at'" in p.accepted


def test_a_wrong_type_and_a_number_out_of_range(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d.update(max_rows="many"))
    assert (p.column, p.value, p.accepted) == ("max_rows", "many", "a whole number >= 1")
    assert "valid integer" in p.message
    p = _problem(tmp_path, doc, lambda d: d.update(max_responses_per_kommune=0))
    assert (p.column, p.value) == ("max_responses_per_kommune", 0) and "greater than or equal to 1" in p.message


def test_a_missing_required_key(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d.pop("models"))
    assert (p.column, p.message) == ("models", "missing key") and "codes" in p.accepted


def test_a_model_code_mapped_to_no_model(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["models"]["codes"].update({7: 9}))
    assert (p.column, p.value, p.accepted) == ("models.codes.7", 9, "1, 2, 3, 4, 5")


def test_an_ordering_that_is_not_a_permutation(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d.update(model_order=[5, 1, 2, 3]))
    assert p.column == "model_order" and "missing [4]" in p.message and "5<1<2<3<4" in p.accepted


def test_a_fieldwork_window_that_ends_before_it_starts(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d.update(fieldwork={"start": "2011-12-01", "end": "2011-09-01"}))
    assert p.column == "fieldwork" and "start <= end" in p.message and "2011-09-01" in p.accepted


def test_a_label_set_that_is_not_defined(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["columns"]["digital_strategy"].update(labels="ja_nej"))
    assert p.column == "digital_strategy" and "label set not defined" in p.message
    assert p.value == "ja_nej" and set(p.accepted.split(", ")) == {"'yes_no'", "'checkbox'", "'roles'"}


def test_canonical_values_outside_the_vocabulary(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["labels"]["roles"].update({"Direktør": "director"}))
    assert p.column == "labels.roles" and p.value == ["director"] and "'library_head'" in p.accepted


def test_a_variable_neither_mapped_nor_not_asked(tmp_path, doc):
    p = _problem(tmp_path, doc, lambda d: d["columns"].pop("comment"))
    assert p.column == "columns" and p.value == ["comment"] and "not_asked" in p.message


def test_model_labels_that_name_no_export_code(tmp_path, doc):
    def edit(d):
        d["columns"]["model"] = {"header": d["columns"]["model"]["header"], "type": "label", "labels": "models"}
        d["labels"]["models"] = {"Den spæde start": 1, "Ukendt": 9}

    p = _problem(tmp_path, doc, edit)
    assert p.column == "labels.models" and p.value == {"Ukendt": 9} and "models.codes" in p.message


def test_yaml_that_does_not_parse_names_its_line(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("year: 2011\ncolumns: {model: [\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        survey.load_codebook(f)
    p = info.value.problems[0]
    assert p.message.startswith("not valid YAML") and p.row == 3
