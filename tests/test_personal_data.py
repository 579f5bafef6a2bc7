"""No respondent's name, e-mail or phone number reaches data/processed or reports.

The pipeline's survey notebooks (cleaning for every round, then the comparison) run on the
synthetic exports, which carry fake personal data; every file they write is then searched for it.
"""

import pytest

from helpers import pipeline
from helpers.synthetic import survey as gen


@pytest.mark.slow
def test_no_personal_data_in_any_output(outputs):
    rounds = pipeline.load_rounds()
    personal = set()
    for year in rounds:
        r = gen.responses(year)
        personal |= {v for col in ("person", "email", "phone") for v in r[col].dropna().astype(str) if len(v) > 4}
    assert any("@" in p for p in personal) and len(personal) > 100
    outcomes = pipeline.run(only=["01_clean_survey", "02_compare"], workers=2, echo=lambda *_: None)
    assert {o.status for o in outcomes} == {"ok"}
    written = [f for f in outputs.rglob("*") if f.is_file()]
    assert any(f.suffix == ".parquet" for f in written) and any(f.suffix == ".html" for f in written)
    leaks = {}
    for f in written:
        text = f.read_bytes().decode("utf-8", errors="ignore")
        found = sorted(p for p in personal if p in text)
        if found:
            leaks[str(f.relative_to(outputs))] = found[:3]
    assert leaks == {}
