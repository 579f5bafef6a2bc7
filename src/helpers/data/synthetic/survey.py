"""Synthetic survey exports, messy like real ones, that real exports replace without code changes.

``write_examples()`` writes ``data/raw/survey/example_survey_2009.csv`` (Windows-1252,
semicolons, the earlier 2009 model numbering) and ``example_survey_2011.xlsx`` (survey-tool
export with a header block above the table), records both in ``data/raw/survey/MANIFEST.yaml``
with ``synthetic: true``, and is byte-for-byte reproducible (seeded; fixed workbook dates and zip
timestamps). A later round with the 2011 questionnaire is a parameter: ``write_example(2014)``.

Every model answer encodes exactly ``truth.true_models()["model_reported"]`` (via the inverse of
the codebook's crosswalk for 2009), so the usage panel's built-in effect refers to the same
kommuner. Headers, value labels and codes are read from the codebooks in config/codebooks, so
generator and cleaner cannot drift apart.

ASSUMPTIONS (none of this was published per kommune; only the totals quoted are real):
see the module constants below, each with its reason.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from helpers.core import cooperation, paths
from helpers.data import provenance

from . import SEED
from . import truth as _truth

# --- Layouts: how an export of each questionnaire looks. A new round names one of these. -------
LAYOUTS = {
    # 2009: a CSV saved from Excel on Windows: cp1252, ';', one header line, earlier numbering.
    "2009": {
        "format": "csv",
        "codebook": "2009",
        "encoding": "cp1252",
        "delimiter": ";",
        "datetime_format": "%d-%m-%Y %H:%M",
        "checkbox": ("Ja", "Nej"),
    },
    # 2011 (and later rounds with the same questionnaire): an XLSX export from the survey tool.
    "2011": {"format": "xlsx", "codebook": "2011", "checkbox": (1, 0)},
}


def layout_for(year: int) -> str:
    """The 2009 round used its own layout; every later round the 2011 questionnaire."""
    return "2009" if year < 2011 else "2011"


def file_name(year: int, layout: str | None = None) -> str:
    ext = "csv" if LAYOUTS[layout or layout_for(year)]["format"] == "csv" else "xlsx"
    return f"example_survey_{year}.{ext}"


# --- Fieldwork and calibration (published figures in docs/published_figures.md) ----------------
# Fieldwork windows: 2011 was "September 2011" (seed article); 2009 and 2014 dates are assumed.
FIELDWORK = {2009: ("2009-10-26", "2009-11-20"), 2011: ("2011-09-01", "2011-09-30"), 2014: ("2014-09-01", "2014-10-15")}
# Responses are submitted on working hours, 08:00-16:00.
OFFICE_MINUTES = (8 * 60, 16 * 60)
# Export date shown in the XLSX header block: a few days after fieldwork closed (assumed).
EXPORT_DELAY_DAYS = 3
# "Yes" to taking part in cross-cutting municipal digital/IT/service strategy work, counted among
# the complete responses. 2011: 32 libraries = 37 % (seed article; 32/0.37 = 86 respondents,
# which equals the 86 kommuner truth.py lets answer). 2009: assumed 15 (no figure published).
# 2014: "90 % of libraries" (DB report 2015) -> 88 of 98.
STRATEGY_YES = {2009: 15, 2011: 32, 2014: 88}
# "Ved ikke" answers to the strategy item (assumed; the 63 % "not yes" lumps them with "Nej").
STRATEGY_DONT_KNOW = {2009: 6, 2011: 4, 2014: 2}
# "Several libraries expect new organisational changes in 2012" (seed article): assumed 14.
ORG_CHANGE_YES = {2011: 14, 2014: 12}
# Kommuner that did not answer but appear as a started, incomplete response (blank model, which
# the cleaner records as model 0). The rest of truth.py's non-respondents are absent from the file.
PARTIAL_ROWS = {2009: 1, 2011: 2, 2014: 0}
# Probability that a task is done in the library, by 2011 model (1 spæde start ... 5 none).
# Model 1 = only small initiatives (IT courses); 2-4 move borgerservice tasks (assumed shares).
TASK_PROBS = {
    "task_driving_licence": {1: 0.05, 2: 0.75, 3: 0.55, 4: 0.85, 5: 0.0},
    "task_passport": {1: 0.05, 2: 0.80, 3: 0.60, 4: 0.85, 5: 0.0},
    "task_nemid": {1: 0.15, 2: 0.80, 3: 0.75, 4: 0.90, 5: 0.02},
    "task_health_card": {1: 0.10, 2: 0.85, 3: 0.80, 4: 0.90, 5: 0.02},
    "task_change_of_address": {1: 0.05, 2: 0.80, 3: 0.70, 4: 0.90, 5: 0.0},
    "task_pension_benefit": {1: 0.0, 2: 0.55, 3: 0.30, 4: 0.70, 5: 0.0},
    "task_it_courses": {1: 0.90, 2: 0.80, 3: 0.85, 4: 0.90, 5: 0.55},
}
# IT courses for citizens in the past year: 1,712 "Lær mere om it" courses in 2010 (seed article),
# i.e. about 17.5 per kommune; drawn Poisson with a mean scaled by sqrt(population / mean), and 0
# where the library runs no IT courses.
IT_COURSES_TOTAL = 1712
# 2009 numbering: a 2011 model 2 answer is written as M2 ("expert" tasks at fixed times) with this
# probability, otherwise as M1; the codebook maps both to 2. Other models have one 2009 code.
M2_SHARE = 0.3
# Respondent roles (codebook `roles` labels) and their weights.
ROLES = {
    "Bibliotekschef": 0.55,
    "Afdelingsleder": 0.2,
    "Borgerservicechef": 0.1,
    "Fælles leder af bibliotek og borgerservice": 0.08,
    "Kulturchef": 0.05,
    "Andet": 0.02,
}

# --- Mess: what the cleaner must cope with --------------------------------------------------
# Name variants written instead of the official name (real respondents type the name).
NAME_VARIANTS = {
    751: "Århus",
    173: "Lyngby-Tårbæk",
    810: "Brønderslev-Dronninglund",
    400: "Bornholms Regionskommune",
    169: "Høje Taastrup",
    101: "Kbh.",
}
# Aarhus is written "Aarhus Kommune" in the 2011 export (the variant above in 2009); other kommuner
# get " Kommune" appended, or stray spaces, with these probabilities.
SUFFIX_KOMMUNE_P = 0.12
STRAY_SPACE_P = 0.05
NAME_OVERRIDES = {2011: {751: "Aarhus Kommune"}}
# Fanø (563) has no library system: Esbjerg's libraries answer for it. Fanø's row names Esbjerg
# (see config/aliases.yaml, `answered_by`, for how cleaning treats it).
FANOE_ROW_NAME = {"2009": "Esbjerg (for Fanø)", "2011": "Esbjerg Bibliotekerne for Fanø"}
# One kommune submitted twice: an earlier draft with another model, placed LATER in the file than
# the final answer (so keeping the last row would be wrong; the latest submission is right).
DUPLICATES = 1
# Yes/no answers typed or exported inconsistently ("ja.", "JA", " nej"): share of yes/no cells.
LABEL_VARIANT_P = 0.08
LABEL_VARIANTS = {
    "Ja": ["ja.", "JA", "ja", " Ja"],
    "Nej": ["nej", "NEJ", "Nej."],
    "Ved ikke": ["ved ikke", "Ved ikke."],
}
# Blank rows in the middle of the table (copy-paste in Excel).
BLANK_ROWS = 2
# XLSX only: numeric cells stored as text ("12" instead of 12) in this share of the count column.
NUMBER_AS_TEXT_P = 0.1
# Free-text comments (generic; never containing names) in this share of complete responses.
COMMENT_P = 0.25
COMMENTS = [
    "Vi har haft borgerservice i biblioteket siden kommunesammenlægningen.",
    "Samarbejdet evalueres i foråret.",
    "Bibliotekets personale er ved at blive uddannet i pas og kørekort.",
    "Borgerservice flytter ind på hovedbiblioteket næste år.",
    "Vi tilbyder hjælp til borger.dk og digital post.",
    "Filialerne er ikke omfattet.",
    "Åbningstiderne er udvidet med selvbetjening.",
]
# Personal data (to be dropped by cleaning): clearly fake names and @example.dk addresses.
FAKE_FIRST = ["Testa", "Fiktiv", "Eksempel", "Prøve", "Dummy", "Demo"]
FAKE_LAST = ["Testesen", "Fiktivsen", "Eksempelsen", "Prøvesen", "Dummysen"]

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Fixed timestamps so that the XLSX bytes never depend on when it was written.
ZIP_DATE_TIME = (2011, 10, 3, 9, 15, 0)


def _codebook(name: str) -> dict:
    return yaml.safe_load((paths.codebooks() / f"{name}.yaml").read_text(encoding="utf-8"))


def _inverse_models(cb: dict) -> dict[int, list[int]]:
    inv: dict[int, list[int]] = {}
    for code, new in cb["models"]["codes"].items():
        inv.setdefault(int(new), []).append(int(code))
    return inv


def _label(labels: dict, canonical) -> str:
    return next(k for k, v in labels.items() if v == canonical)


def _messy_yes_no(rng, text: str) -> str:
    if rng.random() < LABEL_VARIANT_P and text in LABEL_VARIANTS:
        return str(rng.choice(LABEL_VARIANTS[text]))
    return text


def _fake_person(rng, i: int) -> tuple[str, str, str]:
    first, last = FAKE_FIRST[i % len(FAKE_FIRST)], FAKE_LAST[(i // len(FAKE_FIRST)) % len(FAKE_LAST)]
    name = f"{first} {last} {i:02d}"
    ascii_ = name.lower().replace("ø", "oe").replace(" ", ".")
    phone = f"+45 00 00 {i // 100:02d} {i % 100:02d}"
    return name, f"{ascii_}@example.dk", phone


def responses(year: int, layout: str | None = None, seed: int = SEED) -> pd.DataFrame:
    """The rows of one export as canonical values plus the raw text they are written with.

    One row per written response (complete, partial and the duplicate draft), in file order,
    without blank rows. Columns: kommunekode, name_written, model (2011 code), model_code (as
    exported), tasks, n_it_courses, digital_strategy, org_change_planned, role, comment,
    submitted_at, person, email, phone, complete, draft.
    """
    layout = layout or layout_for(year)
    spec = LAYOUTS[layout]
    cb = _codebook(spec["codebook"])
    rng = np.random.default_rng([seed, year])
    t = _truth.true_models(seed=seed)
    t = t[t["year"] == year].set_index("kommunekode")
    if t.empty:
        raise ValueError(f"no synthetic truth for {year}; accepted: {sorted(_truth.TARGETS)}")
    from helpers.data import reference

    m = reference.load_municipalities().set_index("kommunekode")
    names = m["navn"]
    pop = m["population_2009"]

    answered = np.array(t.index[t["answered"]])
    silent = np.array(t.index[~t["answered"]])
    # Partial rows: non-respondents whose name variant must appear anyway come first.
    forced = [k for k in silent if k in NAME_VARIANTS]
    rest = [k for k in rng.permutation(silent) if k not in forced]
    partial = (forced + rest)[: max(PARTIAL_ROWS.get(year, 0), len(forced))]

    start, end = (pd.Timestamp(x) for x in FIELDWORK[year])
    days = (end - start).days
    inv = _inverse_models(cb)
    rows = []
    full = sorted(answered)
    # Digital strategy: exactly STRATEGY_YES "Ja" among complete responses, weighted toward higher models.
    level = cooperation.level_scores()  # the default ordering, lowest level 0
    w = np.array([1.0 + level[int(t.at[k, "model_reported"])] for k in full])
    yes = set(rng.choice(full, size=min(STRATEGY_YES.get(year, 0), len(full)), replace=False, p=w / w.sum()))
    others = [k for k in rng.permutation(full) if k not in yes]
    dont_know = set(others[: STRATEGY_DONT_KNOW.get(year, 0)])
    org_yes = (
        set(rng.choice(full, size=min(ORG_CHANGE_YES.get(year, 0), len(full)), replace=False))
        if "org_change_planned" in cb["columns"]
        else set()
    )
    mean_courses = IT_COURSES_TOTAL / len(m)
    for k in sorted(list(full) + list(partial)):
        complete = k in set(full)
        model = int(t.at[k, "model_reported"])
        r = {"kommunekode": int(k), "complete": complete, "draft": False, "model": model}
        r["submitted_at"] = start + pd.Timedelta(
            days=int(rng.integers(0, days + 1)), minutes=int(rng.integers(*OFFICE_MINUTES))
        )
        if complete:
            codes = inv[model]
            r["model_code"] = codes[0] if len(codes) == 1 else (codes[1] if rng.random() < M2_SHARE else codes[0])
            for task, probs in TASK_PROBS.items():
                r[task] = bool(rng.random() < probs[model])
            lam = mean_courses * np.sqrt(pop[k] / pop.mean())
            r["n_it_courses"] = int(rng.poisson(lam)) if r["task_it_courses"] else 0
            r["digital_strategy"] = "yes" if k in yes else ("dont_know" if k in dont_know else "no")
            r["org_change_planned"] = "yes" if k in org_yes else "no"
            r["role"] = str(rng.choice(list(ROLES), p=np.array(list(ROLES.values())) / sum(ROLES.values())))
            r["comment"] = str(rng.choice(COMMENTS)) if rng.random() < COMMENT_P else None
        else:
            r["model_code"] = None
            for task in TASK_PROBS:
                r[task] = None
            r.update(
                n_it_courses=None,
                digital_strategy=None,
                org_change_planned=None,
                comment=None,
                role=str(rng.choice(list(ROLES))),
            )
        rows.append(r)
    # Names as written.
    overrides = NAME_OVERRIDES.get(year, {})
    for r in rows:
        k = r["kommunekode"]
        if k == 563:
            r["name_written"] = FANOE_ROW_NAME[layout]
        elif k in overrides:
            r["name_written"] = overrides[k]
        elif k in NAME_VARIANTS:
            r["name_written"] = NAME_VARIANTS[k]
        else:
            name = names[k]
            u = rng.random()
            if u < SUFFIX_KOMMUNE_P:
                name = f"{name} Kommune"
            elif u < SUFFIX_KOMMUNE_P + STRAY_SPACE_P:
                name = f" {name}  "
            r["name_written"] = name
    # The duplicate: an earlier draft with another model, of a complete response without a variant name.
    pool = [
        r
        for r in rows
        if r["complete"] and r["kommunekode"] not in NAME_VARIANTS and r["kommunekode"] not in (561, 563)
    ]
    drafts = []
    for i in rng.choice(len(pool), size=DUPLICATES, replace=False):
        final = pool[int(i)]
        d = dict(final, draft=True)
        d["model"] = 5 if final["model"] != 5 else 1
        d["model_code"] = inv[d["model"]][0]
        d["submitted_at"] = final["submitted_at"] - pd.Timedelta(
            days=int(rng.integers(2, 9)), minutes=int(rng.integers(5, 60))
        )
        d["comment"] = "Foreløbig besvarelse"
        drafts.append(d)
    rows.sort(key=lambda r: r["submitted_at"])
    for d in drafts:  # drafts go in after their final answer, as if re-exported in the wrong order
        pos = next(i for i, r in enumerate(rows) if r["kommunekode"] == d["kommunekode"])
        rows.insert(int(rng.integers(pos + 1, len(rows) + 1)), d)
    for i, r in enumerate(rows, start=1):
        r["person"], r["email"], r["phone"] = _fake_person(rng, i)
    return pd.DataFrame(rows)


def _missing(v) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _cells(df: pd.DataFrame, year: int, layout: str, rng) -> tuple[list[str], list[list]]:
    """Header and rows of cells in export order, with the mess applied."""
    spec = LAYOUTS[layout]
    cb = _codebook(spec["codebook"])
    cols = cb["columns"]
    yn = cb["labels"]["yes_no"]
    yes_cell, no_cell = spec["checkbox"]
    personal = cb["personal_data"]
    xlsx = spec["format"] == "xlsx"
    header = []
    if xlsx:
        header += ["Besvarelse ID", "Startet", "Status"]
    header += [
        cols["submitted_at"]["header"],
        cols["kommune_navn"]["header"],
        *personal,
        cols["respondent_role"]["header"],
        cols["model"]["header"],
    ]
    tasks = [t for t in TASK_PROBS if t in cols]
    header += [cols[t]["header"] for t in tasks]
    tail = [v for v in ("n_it_courses", "digital_strategy", "org_change_planned", "comment") if v in cols]
    header += [cols[v]["header"] for v in tail]
    out = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        ts = r["submitted_at"]
        when = ts.to_pydatetime() if xlsx else ts.strftime(spec["datetime_format"])
        row = []
        if xlsx:
            started = (ts - pd.Timedelta(minutes=int(rng.integers(4, 40)))).to_pydatetime()
            row += [1000 + i, started, "Gennemført" if r["complete"] else "Delvist besvaret"]
        person = {"Respondentens navn": r["person"], "Navn": r["person"], "E-mail": r["email"], "Telefon": r["phone"]}
        row += [
            when,
            r["name_written"],
            *[person[p] for p in personal],
            r["role"],
            None if _missing(r["model_code"]) else (int(r["model_code"]) if xlsx else str(int(r["model_code"]))),
        ]
        for t in tasks:
            v = r[t]
            row.append(None if _missing(v) else (yes_cell if v else no_cell))
        for v in tail:
            val = r[v]
            if _missing(val):
                row.append(None)
            elif v == "n_it_courses":
                n = int(val)
                row.append((str(n) if rng.random() < NUMBER_AS_TEXT_P else n) if xlsx else str(n))
            elif v in ("digital_strategy", "org_change_planned"):
                row.append(_messy_yes_no(rng, _label(yn, val)))
            else:
                row.append(val)
        out.append(row)
    # Blank rows in the middle.
    for _ in range(BLANK_ROWS):
        out.insert(int(rng.integers(3, len(out) - 3)), [None] * len(header))
    return header, out


def _csv_bytes(header, rows, spec) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=spec["delimiter"], lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if c is None else c for c in r])
    return buf.getvalue().encode(spec["encoding"])


def _xlsx_bytes(header, rows, year: int, cb: dict) -> bytes:
    import openpyxl

    fixed = _dt.datetime(*ZIP_DATE_TIME)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Besvarelser"
    exported = pd.Timestamp(FIELDWORK[year][1]) + pd.Timedelta(days=EXPORT_DELAY_DAYS, hours=9, minutes=15)
    ws.append([f"Borgerservice på bibliotekerne – spørgeskemaundersøgelse {year}"])
    ws.append([f"Eksporteret: {exported:%d-%m-%Y %H:%M}"])
    ws.append([f"Antal besvarelser: {sum(1 for r in rows if any(c is not None for c in r))}"])
    ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    for col in ("B", header.index(cb["columns"]["submitted_at"]["header"])):
        letter = col if isinstance(col, str) else openpyxl.utils.get_column_letter(col + 1)
        for cell in ws[letter][5:]:
            cell.number_format = "DD-MM-YYYY HH:MM"
    p = wb.properties
    p.creator = "helpers.data.synthetic.survey"
    p.lastModifiedBy = "helpers.data.synthetic.survey"
    p.title = f"SYNTHETIC example survey export {year}"
    p.created = fixed
    p.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip(buf.getvalue())


def _fix_zip(data: bytes) -> bytes:
    """Rewrite an XLSX zip with fixed entry timestamps and fixed docProps dates (byte-for-byte reproducible)."""
    y, mo, d, h, mi, s = ZIP_DATE_TIME
    stamp = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\g<3>", text)
                content = text.encode("utf-8")
            if info.filename.endswith((".xml", ".rels")):
                # openpyxl serialises with lxml when it is installed (pyfixest brings it) and with
                # et_xmlfile otherwise; canonical XML (C14N 2.0) makes the bytes the same either way.
                content = (_XML_DECLARATION + ET.canonicalize(content.decode("utf-8"))).encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 0
            zout.writestr(zi, content)
    return out.getvalue()


def export_bytes(year: int, layout: str | None = None, seed: int = SEED) -> bytes:
    """The bytes of one example export (nothing is written)."""
    layout = layout or layout_for(year)
    spec = LAYOUTS[layout]
    rng = np.random.default_rng([seed, year, 1])
    header, rows = _cells(responses(year, layout, seed), year, layout, rng)
    if spec["format"] == "csv":
        return _csv_bytes(header, rows, spec)
    return _xlsx_bytes(header, rows, year, _codebook(spec["codebook"]))


def write_example(year: int, layout: str | None = None, seed: int = SEED) -> Path:
    """Write ``data/raw/survey/example_survey_<year>.<csv|xlsx>`` and record it in the manifest."""
    from helpers.core import files

    layout = layout or layout_for(year)
    target = paths.survey_raw() / file_name(year, layout)
    files.write_bytes(target, export_bytes(year, layout, seed))
    spec = LAYOUTS[layout]
    provenance.record(
        target,
        source=f"synthetic: helpers.data.synthetic.survey, seed {seed}",
        licence="CC0-1.0 (synthetic data generated by this package)",
        synthetic=True,
        description=(
            f"SYNTHETIC example export of the {year} survey round ({spec['format'].upper()}, layout {layout}, "
            f"codebook config/codebooks/{spec['codebook']}.yaml); models encode helpers.data.synthetic.truth "
            "model_reported; fake respondents at example.dk"
        ),
        provenance="src/helpers/data/synthetic/survey.py",
    )
    return target


def write_examples(years=(2009, 2011, 2014), seed: int = SEED) -> list[Path]:
    """Regenerate the example exports (byte for byte the same for the same seed) and their manifest entries."""
    return [write_example(int(y), seed=seed) for y in years]
