"""No respondent's name, e-mail or phone number reaches data/processed or reports.

The pipeline's survey notebooks (cleaning for every round, then the comparison) run on the
synthetic exports, which carry fake personal data; every file they write is then searched for it.
"""

import pytest

from helpers.data.synthetic import survey as gen
from helpers.running import pipeline


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


# ---------------------------------------------------------------------------------------------
# Free text: personal data planted in the comment of every response
# ---------------------------------------------------------------------------------------------

import re  # noqa: E402

import pandas as pd  # noqa: E402
import survey_variants as sv  # noqa: E402
from survey_raw import RawSurvey, make_raw  # noqa: E402

from helpers.core import paths  # noqa: E402
from helpers.core.errors import DataError  # noqa: E402
from helpers.data import survey  # noqa: E402
from helpers.data.survey import privacy  # noqa: E402

PHONES = ["12345678", "12 34 56 78", "1234 5678", "+45 12 34 56 78", "+4512345678", "0045 1234 5678", "+45 12-34-56-78"]
CPRS = ["240911-1234", "2409111234", "010170 1234"]


@pytest.mark.parametrize(
    "text,kind",
    [(p, "phone") for p in PHONES]
    + [(c, "cpr") for c in CPRS]
    + [("mette.hansen@kommune.dk", "email"), ("M.H+survey@sub.example.org", "email")],
)
def test_redact_finds_each_kind(text, kind):
    out, counts = privacy.redact(f"Kontakt: {text}, tak.")
    assert text not in out and counts == {kind: 1}, (out, counts)
    assert out == f"Kontakt: {privacy.PLACEHOLDERS[kind]}, tak."


def test_redact_keeps_dates_counts_and_other_words():
    text = "Evaluering 24-09-2011 og 24.09.2011; 18 kurser i 2011, 3 filialer, Hansen-udvalget ved Aarhus."
    assert privacy.redact(text) == (text, {})


def test_redact_names_from_the_rows_personal_columns():
    ident = privacy.row_identity(
        {"Respondentens navn": "Mette Bøgh Hansen", "E-mail": "mbh@x.dk", "Telefon": "+45 00 00 00 01"}
    )
    out, counts = privacy.redact(
        "Spørg mette eller HANSEN, eller Mette Bøgh Hansen selv (mbh@x.dk, +45 00 00 00 01)", ident
    )
    assert "ette" not in out and "ansen" not in out and "Bøgh" not in out and "mbh" not in out and "00 00" not in out
    assert counts["name"] == 3 and counts["email"] == 1 and counts["phone"] == 1


def _planted(g: sv.Grid) -> tuple[sv.Grid, set[str]]:
    """Every response's comment gets its respondent's name, a CPR number, a phone and an e-mail."""
    secrets = set()
    name_k, comment_k = g.col("Respondentens navn"), g.col("Kommentarer")
    for i, r in enumerate(g.data()):
        person = r[name_k]
        phone, cpr = PHONES[i % len(PHONES)], CPRS[i % len(CPRS)]
        mail = f"borger{i}@privat-mail.dk"
        r[comment_k] = f"{r[comment_k] or 'Bemærk'}: ring til {person.lower()} på {phone}, cpr {cpr}, skriv til {mail}."
        secrets |= {person, person.lower(), phone, cpr, mail, re.sub(r"\D", "", cpr)}
    return g, secrets


@pytest.fixture
def planted(tmp_path, monkeypatch):
    raw = make_raw(tmp_path, monkeypatch)
    g, secrets = _planted(sv.base(2011))
    return raw.put("example_planted_2011.xlsx", sv.to_xlsx(g)), secrets


def test_planted_personal_data_is_redacted_and_counted(planted, outputs):
    path, secrets = planted
    target, log_target = survey.clean_to_files(2011, path)
    back = pd.read_parquet(target)
    text = back.to_csv() + log_target.read_text(encoding="utf-8")
    assert not sorted(s for s in secrets if s in text)
    assert back["comment"].str.contains(r"\[navn\].*\[telefon\].*\[CPR\].*\[e-mail\]", regex=True).sum() == len(back)
    line = pd.read_csv(log_target).query("rule == 'personal_data_redacted'")
    n = len(list(sv.base(2011).data()))  # every response, counted before duplicates are dropped
    assert len(line) == 1 and f"in {n} answer(s)" in line["detail"].item()


def test_free_text_dropped_when_the_codebook_says_so(planted, outputs, tmp_path):
    import yaml

    path, secrets = planted
    doc = yaml.safe_load(paths.codebook("2011").read_text(encoding="utf-8"))
    doc["free_text"] = "drop"
    cb = tmp_path / "drop.yaml"
    cb.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    df, log = survey.clean(2011, path, cb)
    assert df["comment"].isna().all() and (log["rule"] == "free_text_dropped").sum() == 1


def test_errors_never_quote_free_text_or_personal_columns(planted, tmp_path):
    path, secrets = planted
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.cell(7, [c.value for c in ws[sv.HEADER_2011 + 1]].index("Hvilken samarbejdsmodel ligner jeres bedst?") + 1, 99)
    for r in (8, 9):  # rows with too many fields: the extra cells are not quoted either
        ws.cell(r, ws.max_column + 1, "ekstra 2409111234")
    wb.save(path)
    path = RawSurvey(paths.raw()).put(path.name)  # re-record the edited file's sha256
    with pytest.raises(DataError) as info:
        survey.clean(2011, path)
    assert not sorted(s for s in secrets if s in str(info.value))


@pytest.mark.slow
def test_full_clean_notebook_on_a_planted_export_leaks_nothing(planted, outputs):
    """01_clean_survey executed with papermill and exported to HTML, as the pipeline runs it."""
    from helpers.running import pipeline

    path, secrets = planted
    run = pipeline.Run(
        "01_clean_survey_2011",
        "01_clean_survey.ipynb",
        parameters={"year": 2011, "input_path": f"survey/{path.name}", "codebook": "2011"},
    )
    outcome = pipeline.execute(run, paths.KERNEL_NAME, 300)
    assert outcome.status == "ok", outcome.error
    written = [f for f in outputs.rglob("*") if f.is_file() and "raw" not in f.relative_to(outputs).parts]
    kinds = {f.suffix for f in written}
    assert {".parquet", ".csv", ".json", ".ipynb", ".html"} <= kinds, kinds
    leaks = {}
    for f in written:
        text = f.read_bytes().decode("utf-8", errors="ignore")
        if f.suffix == ".parquet":
            text += pd.read_parquet(f).to_csv()
        found = sorted(s for s in secrets if s in text)
        if found:
            leaks[str(f.relative_to(outputs))] = found[:3]
    assert leaks == {}


def test_planted_free_text_reaches_no_export_file(planted, outputs):
    """The Stata/SPSS/CSV/parquet exports (issue 17) carry the comment: only redacted, in every format."""
    from helpers.data import usage
    from helpers.outputs import exports
    from helpers.running import pipeline

    path, secrets = planted
    for year, spec in pipeline.load_rounds().items():
        survey.clean_to_files(year, path if year == 2011 else spec["input_path"], spec["codebook"])
    with pytest.MonkeyPatch.context() as mp:  # the usage data from the real data/raw (make_raw only links them)
        mp.setenv("BORGERSERVICE_RAW", str(paths.root() / "data" / "raw"))
        usage.write_panel()
    listing = exports.write_exports()
    assert {"csv", "excel.csv", "dta", "sav", "parquet"} <= set(listing["format"])
    folder = exports.folder()
    s2011 = pd.read_parquet(next(folder.glob("survey_2011*.parquet")))
    assert s2011["comment"].str.contains("[CPR]", regex=False).all()  # the planted round is the one exported
    leaks = {}
    for f in folder.iterdir():
        text = f.read_bytes().decode("utf-8", errors="ignore")
        if f.suffix == ".parquet":
            text += pd.read_parquet(f).to_csv()
        found = sorted(s for s in secrets if s in text)
        if found:
            leaks[f.name] = found[:3]
    assert leaks == {}


# ---------------------------------------------------------------------------------------------
# Third parties' names: measured on the labelled comments, and docs/survey_exports.md states the figures
# ---------------------------------------------------------------------------------------------

import free_text_eval  # noqa: E402


def test_name_redaction_figures_are_measured_and_stated_in_the_docs():
    dev, held = free_text_eval.evaluate("comments_dev.txt"), free_text_eval.evaluate("comments_test.txt")
    assert dev.comments + held.comments >= 200 and dev.names + held.names >= 120
    assert held.recall >= 0.90 and held.precision >= 0.95 and dev.recall >= 0.95
    readme = (paths.root() / "docs" / "survey_exports.md").read_text(encoding="utf-8")  # moved from the README
    for label, s in (("development", dev), ("held out", held)):
        shares = " | ".join(f"{100 * x:.1f} %" for x in (s.recall, s.precision, s.name_recall))
        row = f"| {s.comments} | {s.names} | {shares} |"
        assert row in next(line for line in readme.splitlines() if line.startswith(f"| {label}")), (label, row)


@pytest.mark.parametrize(
    "text,kept",
    [
        ("Kontakt Mette Hansen i borgerservice.", "Kontakt [navn] i borgerservice."),
        ("Tak for skemaet. Hilsen Birthe", "Tak for skemaet. Hilsen [navn]"),
        ("Tovholder: Xiaoling Wu", "Tovholder: [navn]"),
        ("fru Jensen og Borgmester Nielsen deltager.", "fru [navn] og Borgmester [navn] deltager."),
        ("Bemærkning fra H.C. Møller: tallet er skønnet.", "Bemærkning fra [navn]: tallet er skønnet."),
        ("Talk to Anne-Marie Poulsen in the citizen service.", "Talk to [navn] in the citizen service."),
        ("Skriv til kirsten.holm (at) odense.dk", "Skriv til [e-mail]"),
        ("mail lars at randers dot dk", "mail [e-mail]"),
        ("cpr 2409111234 og 240911.1234", "cpr [CPR] og [CPR]"),
        ("Per uge kommer 300 borgere. Hans kontor er i Aarhus Kommune.", None),
        ("Borgerservice i Silkeborg og Jobcenteret deler skranke med Udbetaling Danmark.", None),
    ],
)
def test_redact_finds_third_party_names_and_leaves_other_capitalised_words(text, kept):
    assert privacy.redact(text)[0] == (text if kept is None else kept)


def test_an_error_value_is_quoted_only_when_it_cannot_hold_personal_data():
    assert privacy.shown_value("Skivee") == "Skivee" and privacy.shown_value(7) == 7
    hidden = privacy.shown_value("Bibliotekar Mette Hansen")
    assert "Mette" not in hidden and "24 characters" in hidden
    assert "Bibliotek" not in privacy.shown_value("Bibliotekschef og leder af borgerservice siden 2009")
