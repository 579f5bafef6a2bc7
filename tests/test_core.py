"""The shared core: the vocabulary's one choice check, and typed key results that round-trip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from helpers import results
from helpers.core import files
from helpers.core.vocabulary import Language, ModelCode, check_choice


def test_check_choice_returns_an_accepted_value_and_names_the_rest():
    assert check_choice("language", "da", Language) == "da"
    with pytest.raises(ValueError, match=r"^language 'de' is not accepted; accepted: 'en', 'da'$"):
        check_choice("language", "de", Language)


def test_check_choice_does_not_take_a_bool_for_a_model_code():
    assert check_choice("model", 1, ModelCode) == 1
    with pytest.raises(ValueError, match="accepted: 0, 1, 2, 3, 4, 5"):
        check_choice("model", True, ModelCode)


def test_check_choice_takes_a_runtime_collection():
    assert check_choice("round", 2011, [2009, 2011]) == 2011
    with pytest.raises(ValueError, match="accepted: 2009, 2011"):
        check_choice("round", 2014, (2009, 2011))


@dataclass(frozen=True)
class _Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class _Family(results.KeyResults):
    prefix = "99_test_family"
    n: int
    interval: _Interval
    shares: dict[str, float] = field(default_factory=dict)
    years: tuple[int, ...] = ()


def test_key_results_round_trip_through_json(tmp_path):
    r = _Family(
        n=np.int64(3), interval=_Interval(np.float64(0.5), 0.25, 0.75), shares={"2011": 0.6}, years=(2009, 2011)
    )
    data = r.to_json()
    assert data == {"n": 3, "interval": {"estimate": 0.5, "low": 0.25, "high": 0.75}, "shares": {"2011": 0.6},
                    "years": [2009, 2011]}  # fmt: skip
    f = tmp_path / "99_test_family_a.json"
    f.write_text(json.dumps({"name": f.stem, "synthetic": True, "note": "x", "parameters": {"a": 1}, "results": data}))
    doc = results.read(f)
    assert doc.results == _Family(n=3, interval=_Interval(0.5, 0.25, 0.75), shares={"2011": 0.6}, years=(2009, 2011))
    assert doc.synthetic is True and doc.parameters == {"a": 1}
    assert results.family("99_test_family_2011") is _Family


def test_a_results_file_with_a_wrong_field_is_an_error_naming_the_field(tmp_path):
    f = tmp_path / "99_test_family_b.json"
    bad = {"n": "three", "interval": {"estimate": 0.5, "low": 0.25, "high": 0.75}}
    f.write_text(json.dumps({"name": f.stem, "synthetic": False, "note": "", "parameters": {}, "results": bad}))
    with pytest.raises(ValueError, match=r"(?s)99_test_family_b.json: not a valid results document.*\nn\n"):
        results.read(f)
    missing = {"n": 1}
    f.write_text(json.dumps({"name": f.stem, "synthetic": False, "note": "", "parameters": {}, "results": missing}))
    with pytest.raises(ValueError, match="interval"):
        results.read(f)


def test_no_results_class_for_an_unknown_run():
    with pytest.raises(ValueError, match="no key-results class for 'zz_unknown'"):
        results.family("zz_unknown")


def test_the_json_writer_knows_dataclasses_and_numpy(tmp_path):
    target = files.write_json(tmp_path / "x.json", {"i": _Interval(1.0, 0.5, 2.0), "a": np.arange(3), "s": {2, 1}})
    assert json.loads(target.read_text()) == {
        "i": {"estimate": 1.0, "low": 0.5, "high": 2.0},
        "a": [0, 1, 2],
        "s": [1, 2],
    }


def test_write_results_accepts_only_the_family_declared_for_the_name(outputs):
    from helpers.outputs import reports

    r = _Family(n=1, interval=_Interval(1.0, 0.5, 2.0))
    path = reports.write_results("99_test_family_c", r, synthetic=True)
    assert results.read(path).results == r
    with pytest.raises(TypeError, match="declared: _Family"):

        @dataclass(frozen=True)
        class _Other(results.KeyResults):
            x: int = 0

        reports.write_results("99_test_family_d", _Other(), synthetic=True)
