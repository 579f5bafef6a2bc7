"""The data dictionary of the exports, generated from the codebooks, the schemas and helpers.outputs.variables.

Never written by hand: :func:`markdown` builds ``docs/data_dictionary.md`` (committed; a test
fails when it is stale) and :func:`html` the same content for the report site. Run
``borgerservice export --dictionary`` after changing a codebook, a schema or an exported variable.

Sources of each part:

* variables, labels, kinds and missing-value rules: :data:`helpers.outputs.variables.TABLES`;
* value labels and the source column of each variable in each round's export: the round's
  codebook (read by :func:`helpers.data.survey.load_codebook`), for the rounds in ``config/pipeline.yaml``;
* processed types and allowed values: the pandera schemas (:func:`helpers.data.survey.clean_schema`,
  the usage panel schema in :mod:`helpers.data.usage`);
* the Fanø/Esbjerg rule and the flagged values: :mod:`helpers.data.usage` (``SERVED_BY``, ``QUALITY_FLAGS``).

The document is a list of blocks (heading, paragraph, list, table) rendered twice, as Markdown
(:func:`render_markdown`) and as HTML (the templates ``templates/dictionary/``), so the two cannot
drift apart. The content is our own tables and short text, whose inline code, strong and emphasis
:func:`inline` reads; it needs no Markdown parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from helpers.core import cooperation, files, paths
from helpers.core.cooperation import DEFAULT_ORDERING
from helpers.core.vocabulary import VariableKind
from helpers.data import usage
from helpers.outputs import render, variables

DOC_PATH = ("docs", "data_dictionary.md")
REGENERATE = "borgerservice export --dictionary"


def path() -> Path:
    """The committed Markdown dictionary: docs/data_dictionary.md."""
    return paths.root().joinpath(*DOC_PATH)


@dataclass(frozen=True)
class Block:
    kind: str  # h1 | h2 | h3 | p | ul | table
    text: str = ""
    items: tuple = ()  # ul: strings; table: rows (tuples of strings)
    header: tuple = ()  # table header


def _h(level: int, text: str) -> Block:
    return Block(f"h{level}", text)


def _p(text: str) -> Block:
    return Block("p", text)


def _ul(*items: str) -> Block:
    return Block("ul", items=tuple(items))


def _table(header, rows) -> Block:
    return Block("table", header=tuple(header), items=tuple(tuple(str(c) for c in r) for r in rows))


# --------------------------------------------------------------------------------------------
# Facts from the schemas and codebooks
# --------------------------------------------------------------------------------------------


def _dtype_word(dtype) -> str:
    """A pandera dtype in words that do not depend on the pandas version ("string[pyarrow]" -> text)."""
    name = str(dtype)
    if name.startswith(("string", "str", "object")):
        return "text"
    if name in ("Int64", "Int32"):
        return "integer (nullable)"
    if name.startswith("int"):
        return "integer"
    if name.startswith(("float", "Float")):
        return "float"
    if name in ("bool", "boolean"):
        return "boolean" if name == "bool" else "boolean (nullable)"
    if name.startswith("datetime"):
        return "datetime"
    if name == "category":
        return "ordered categorical"
    return name


def _check_words(check) -> str:
    st = check.statistics or {}
    name = check.name
    if name == "in_range":
        return f"{st['min_value']} to {st['max_value']}"
    if name == "isin":
        values = list(st["allowed_values"])
        if len(values) > 8:
            return f"one of {len(values)} codes"
        return "one of " + ", ".join(f"`{v}`" for v in values)
    words = {
        "greater_than_or_equal_to": "≥",
        "greater_than": ">",
        "less_than_or_equal_to": "≤",
        "less_than": "<",
        "equal_to": "=",
    }
    if name in words:
        return f"{words[name]} {st.get('min_value', st.get('max_value', st.get('value')))}"
    if name == "str_length":
        return f"at least {st['min_value']} character(s)" if st.get("min_value") else "text"
    return name


def _schema_facts(schema) -> dict[str, str]:
    """Column -> "type; allowed values" from a pandera schema."""
    out = {}
    for name, col in schema.columns.items():
        parts = [_dtype_word(col.dtype)]
        parts += [_check_words(c) for c in col.checks]
        if col.unique:
            parts.append("unique")
        out[name] = "; ".join(parts)
    return out


def _schemas() -> dict[str, dict[str, str]]:
    from helpers.data import survey

    return {"survey": _schema_facts(survey.clean_schema()), "usage_panel": _schema_facts(usage._panel_schema())}


_KIND_WORDS: dict[VariableKind, str] = {
    "integer": "integer",
    "float": "float",
    "string": "text",
    "datetime": "datetime",
    "yesno": "integer 1/0",
    "code": "integer code",
}


def _values(v: variables.Variable, sets: dict) -> str:
    if not v.labels:
        return ""
    labels = sets[v.labels]
    if len(labels) > 12:
        return f"{len(labels)} codes, labelled with their names ({v.labels})"
    return "; ".join(f"{k} = {t}" for k, t in labels.items())


def _round_source(cb, var: str) -> str:
    """How a canonical variable appears in one round's export, from its codebook."""
    if var in variables.cb_not_asked(cb):
        return "not asked"
    spec = variables.cb_columns(cb).get(var)
    if not spec:
        return ""
    text = f"`{spec['header']}`"
    if spec.get("type") == "label":
        mapping = variables.cb_label_set(cb, var)
        codes = variables.canonical_codes()
        shown = []
        for raw, value in mapping.items():
            if isinstance(value, bool):
                value = int(value)
            else:
                value = next((c.get(value) for c in codes.values() if value in c), value)
            shown.append(f"{raw} → {value}")
        text += " (" + ", ".join(shown) + ")"
    elif spec.get("type") == "model":
        text += " (crosswalk below)" if _crosswalk_changes(cb) else " (codes as in the 2011 legend)"
    elif spec.get("type") == "text":
        policy = variables.cb_free_text(cb)
        text += {
            "redact": " (free text redacted: CPR numbers, e-mails, phone numbers and person names → [CPR], [e-mail], "
            "[telefon], [navn])",
            "keep": " (free text kept as written: not checked for personal data)",
        }.get(policy, " (free text dropped: always empty)")
    elif spec.get("type") == "kommune":
        text += " (name matched to kommunekode)"
    if spec.get("required", True) is False:
        text += "; optional column"
    return text


def _crosswalk_changes(cb) -> bool:
    codes = (variables.cb_doc(cb).get("models") or {}).get("codes") or {}
    return any(int(k) != int(v) for k, v in codes.items())


_DERIVED_FROM = {"kommunekode": "kommune_navn", "answered_by_kommunekode": "kommune_navn", "model_level": "model"}


def _survey_var(name: str) -> str:
    """The codebook variable behind an exported survey variable (or "")."""
    name = _DERIVED_FROM.get(name, name)
    return name if name in variables.SURVEY_BY_NAME else ""


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------


def _variable_table(table: str, described, sets, cbs, schema: dict[str, str] | None) -> Block:
    years = list(cbs)
    header = [
        "variable",
        "label",
        "type in the exports",
        "values and labels",
        "source",
        "provenance",
        *[f"column in the {y} export" for y in years],
        "missing",
    ]
    if schema is not None:
        header.insert(3, "processed type and allowed values")
    rows = []
    for v in described:
        var = _survey_var(v.name) if table not in ("usage_panel", "kommune_year") else ""
        per_round = [_round_source(cb, var) if var else "" for cb in cbs.values()]
        source = v.source or ("the survey export (codebook)" if any(per_round) else "")
        if any(per_round) and table == "analysis":
            source = f"`survey_<round>.{var}`"
        row = [
            f"`{v.name}`",
            v.label,
            _KIND_WORDS[v.kind],
            _values(v, sets),
            source,
            variables.provenance_rule(v),
            *[r or "–" for r in per_round],
            v.missing,
        ]
        if schema is not None:
            row.insert(3, schema.get(v.name, "derived in the export"))
        rows.append(row)
    return _table(header, rows)


def _cooperation_blocks(cbs, sets) -> list[Block]:
    ordering = cooperation.parse_ordering(DEFAULT_ORDERING)
    swapped = cooperation.swap(ordering)
    level = cooperation.level_scores(ordering)
    level_sw = cooperation.level_scores(swapped)
    orders = {y: cooperation.format_ordering(variables.cb_model_order(cb)) for y, cb in cbs.items()}
    rows = []
    for code in [cooperation.NO_ANSWER, *cooperation.MODELS]:
        answered = code in cooperation.MODELS
        rows.append(
            [
                code,
                sets["model"].get(code, cooperation.LABELS[code]),
                level[code] + 1 if answered else "missing",
                level[code] if answered else "missing",
                level_sw[code] if answered else "missing",
                (1 if code in cooperation.COOPERATING else 0) if answered else "missing",
            ]
        )
    blocks = [
        _h(2, "Codings of cooperation and how they relate"),
        _p(
            "Every survey round is coded into the **2011 legend** (`model`, codes 0-5) when it is cleaned; the other "
            "codings "
            "are functions of `model`. A kommune that did not submit a response at all has no row in `survey_<year>` "
            "and "
            "`responded = 0` (every coding missing) in `analysis`."
        ),
        _ul(
            "`model`: nominal, 0 = the model question was left blank, 1-5 the models. Use it for categories "
            "(models compare each model with 5, no cooperation).",
            "`model_level`: 1-5, the position of `model` in the round's codebook `model_order` (lowest first); "
            "missing for 0. "
            "Orderings in the codebooks: " + ", ".join(f"{y}: `{o}`" for y, o in orders.items()) + ".",
            "`score` (analysis file): 0-4, the position of `model` in the analysis ordering (default "
            f"`{cooperation.format_ordering(ordering)}`), "
            "as `helpers.analysis.models.score`; with equal orderings `score = model_level - 1`.",
            "`score_swap23` (analysis file): the same with models 2 and 3 exchanged "
            f"(`{cooperation.format_ordering(swapped)}`): "
            "2 (co-location) and 3 (library staff do the tasks) are not obviously ordered, so results on `score` "
            "should be "
            "checked on it.",
            "`cooperating` (analysis file): 1 for models 1-4, 0 for model 5, missing for 0 (as the McNemar test of "
            "`helpers.analysis.compare`).",
        ),
        _table(["model", "label", "model_level", "score", "score_swap23", "cooperating"], rows),
    ]
    for year, cb in cbs.items():
        if not _crosswalk_changes(cb):
            continue
        doc = variables.cb_doc(cb).get("models") or {}
        scheme = {int(k): str(t) for k, t in (doc.get("scheme_labels") or {}).items()}
        header = variables.cb_columns(cb).get("model", {}).get("header", "model")
        blocks.append(_h(3, f"The {year} numbering and its crosswalk"))
        blocks.append(
            _p(
                f"The {year} export (column `{header}`) used an earlier numbering; its codebook maps each code to "
                "a 2011 model. A blank answer becomes "
                + f"{doc.get('blank', 0)}. Only the crosswalked `model` is exported."
            )
        )
        blocks.append(
            _table(
                [f"{year} code", f"{year} label", "model", "model label"],
                [
                    [k, scheme.get(int(k), "not stated in the codebook"), v, sets["model"].get(int(v), "")]
                    for k, v in sorted((doc.get("codes") or {}).items(), key=lambda kv: int(kv[0]))
                ],
            )
        )
    return blocks


def _fanoe_blocks() -> list[Block]:
    served = ", ".join(f"{k} by {v}" for k, v in usage.SERVED_BY.items())
    return [
        _h(2, "Fanø and Esbjerg"),
        _p(
            "Statistics Denmark reports library use for 97 **library units**, not 98 kommuner: Fanø (563) has no "
            "library "
            f"system of its own and is served by Esbjerg (561) (`helpers.data.usage.SERVED_BY`: {served}). In the "
            "usage panel, "
            "unit 561 stands for Esbjerg and Fanø together: their populations are added, and the loans reported for "
            "Esbjerg "
            "(which include Fanø's borrowers) are divided by the joint population; `unit_members` is `561,563`."
        ),
        _ul(
            "`survey_<year>`: Fanø keeps its own row when it answered; when Esbjerg answered for it, "
            "`answered_by_kommunekode = 561` (config/aliases.yaml).",
            "`analysis`: Fanø has its survey answers, `library_unit = 561` and **no usage values** (they are in "
            "Esbjerg's "
            "row), so sums over rows count Esbjerg's use once. The models leave Fanø out for the same reason.",
            "`usage_panel`: there is no row for 563.",
        ),
    ]


def _flag_blocks() -> list[Block]:
    rows = [[f.kommunekode, f.year, f.value, f.kind, f.note] for f in usage.QUALITY_FLAGS]
    return [
        _h(2, "Flagged values"),
        _p(
            "Values of the real loans series that the source's PROVENANCE lists as suspicious are **kept as "
            "reported** and "
            "flagged: `outlier = 1` and `quality_flag` = 1 (`reporting_failure`: almost certainly not real use; the "
            "models of "
            "`03_model_usage` leave these out unless `keep_flagged` is set, and show the fit with them as a "
            "sensitivity check) "
            "or 2 (`level_shift`: a jump that may be a reporting artefact; kept in the models). The exports keep "
            "every value: "
            "filter on `quality_flag` to do as the models do. The flags apply to the loans only and only when loans "
            "come from "
            "the real file; the list is checked against the file on every load."
        ),
        _table(["kommunekode", "year", "value in the source", "kind", "note"], rows),
    ]


def _missing_blocks() -> list[Block]:
    return [
        _h(2, "Missing values"),
        _ul(
            "CSV: an empty field. Stata: system missing `.`. SPSS: system missing. Parquet and R (haven): `NA`/null. "
            "No numeric code stands for missing.",
            "Text variables are empty strings in Stata and SPSS where they are missing elsewhere (neither format has a "
            "missing string).",
            "A survey question a round did not ask (codebook `not_asked`) is missing for every kommune of that round.",
            "Usage: 2009 and 2016-2017 have no real loans (not in the source file / not published by Statistics "
            "Denmark); "
            "population, hence counts, ends in 2023; each panel row's `notes` says why its values are missing.",
        ),
    ]


def _files_blocks() -> list[Block]:
    return [
        _h(2, "Files"),
        _p(
            "The pipeline's run `05_export_data` writes `data/processed/05_export_data/exports/`; `borgerservice "
            "export` "
            "writes `data/processed/scratch/exports/` (outside the pipeline, so it never replaces the pipeline's "
            "files). Each "
            "table is written in five formats holding the same values:"
        ),
        _ul(
            "`<table>.csv`: UTF-8, comma-separated, decimal point.",
            "`<table>_excel.csv`: UTF-8 with BOM, semicolon-separated, decimal comma (Excel with Danish regional "
            "settings).",
            "`<table>.dta`: Stata 14 or later (format 118), variable labels (at most 80 characters), value labels, "
            "file label.",
            "`<table>.sav`: SPSS, variable labels, value labels, measurement levels, file label (at most 64 bytes) "
            "and a "
            "document note.",
            "`<table>.parquet`: the same columns; labels in the pandas metadata (`DataFrame.attrs`).",
        ),
        _p(
            "The CSV and parquet files are identical byte for byte when the inputs are; the `.dta` and `.sav` "
            "headers carry "
            "the time they were written (ReadStat sets it and pyreadstat offers no option), so only their values "
            "repeat."
        ),
        _p(
            "Tables: `survey_<year>` (each cleaned round: one row per responding kommune), `usage_panel` (library "
            "unit × year), `analysis` (the 98 kommuner × every round, with the usage of the paired year: round + "
            "`usage_year_offset`, default 1) and `kommune_year` (library unit × year of the loans series, with the "
            "adoption timing of notebook 04: the file to redo the event study in R or Stata). "
            "`exports_manifest.json` lists every file with rows, columns, sha256 and the synthetic flag, each "
            "table's synthetic variables, the rounds left out and why; a copy of this dictionary is written beside "
            "them. A round whose clean failed is left out and the others are exported without it: the manifest, "
            "the notebook and its results say so."
        ),
        _h(2, "Provenance: real, synthetic or derived"),
        _p(
            "Every variable has a provenance (the *provenance* column below): **real** or **synthetic** when its "
            "values are read from an input (reference data are real; a survey round is real or synthetic as "
            "`data/raw/survey/MANIFEST.yaml` records its export; a usage outcome as its source is), or **derived** "
            "when the package computes it from the variables named (a derived variable rests on synthetic input "
            "when one of them does). In every file the provenance of each variable is written out: as a Stata "
            "variable note (`notes visits`) and a line of the dataset's notes (`notes _dta`; in R "
            '`attr(haven::read_dta(f), "notes")`, which also lists Stata\'s count of notes as its last entry), '
            'in the SPSS document (`DISPLAY DOCUMENTS`; R: `attr(haven::read_sav(f), "notes")`, long notes '
            'wrapped at 80 bytes), and in the parquet metadata (`attrs["provenance"]`).'
        ),
        _h(2, "Synthetic data"),
        _p(
            "A file says *synthetic* exactly when one of its variables holds synthetic values: `_synthetic` at the "
            "end of the file name, a file label beginning `SYNTHETIC EXAMPLE DATA`, and the `synthetic` variables "
            "(1 = synthetic; per outcome `<outcome>_synthetic`, per round `survey_synthetic`; the row flag "
            "`synthetic` is 1 when any value in the row is). Numbers in such files illustrate the method; they are "
            "not findings."
        ),
        _p(
            "**Real-only exports.** The usage outcomes other than loans come from the synthetic example panel "
            "unless Statistics Denmark's are fetched (`borgerservice fetch-usage`), and they sit in every row of "
            "`usage_panel` and `analysis`. One switch leaves every usage outcome from a synthetic source out of "
            "every table (its count, rate, source and flag columns): `real_only: true` under `defaults:` in "
            "`config/pipeline.yaml` (or `borgerservice export --real-only`). A table whose remaining variables are "
            "all real is then named and labelled as real data; a synthetic survey round still makes its tables "
            "synthetic."
        ),
    ]


def blocks() -> list[Block]:
    """The dictionary as blocks, from the codebooks of the rounds in config/pipeline.yaml and the schemas."""
    cbs = variables.codebooks()
    sets = variables.value_label_sets(cbs)
    schemas = _schemas()
    out = [
        _h(1, "Data dictionary"),
        _p(
            f"Generated by `{REGENERATE}` from the codebooks (`config/codebooks/`, rounds "
            + ", ".join(str(y) for y in cbs)
            + " of `config/pipeline.yaml`), the pandera schemas and `helpers.outputs.variables`. "
            "Do not edit by hand: a test fails when this file differs from what the code generates."
        ),
        *_files_blocks(),
        *_missing_blocks(),
        *_cooperation_blocks(cbs, sets),
        *_fanoe_blocks(),
        *_flag_blocks(),
        _h(2, "Variables: survey_<year>"),
        _p(
            "One row per kommune that submitted a response (among several: the complete one, then the latest; "
            "helpers.data.survey logs the others). Columns of "
            "personal data (names, e-mails, phone numbers) were removed during cleaning and exist in no export; in "
            "the free-text "
            "`comment`, personal data the cleaning recognises are replaced by placeholders "
            "(helpers.data.survey.privacy), so a "
            "comment is still worth reading before a file is shared. The *column in the <year> export* cells give the "
            "header in each round's raw export and how its values were coded (export value → exported code)."
        ),
        _variable_table("survey", variables.SURVEY_VARIABLES, sets, cbs, schemas["survey"]),
        _h(2, "Variables: usage_panel"),
        _p("One row per library unit (97) and year."),
        _variable_table("usage_panel", variables.PANEL_VARIABLES, sets, {}, schemas["usage_panel"]),
        _h(2, "Variables: analysis"),
        _p(
            "One row per kommune (98) and survey round. Survey variables are those of `survey_<round>`; usage "
            "variables "
            "are those of `usage_panel` for the library unit and the usage year."
        ),
        _variable_table("analysis", variables.ANALYSIS_VARIABLES, sets, cbs, None),
        *_kommune_year_blocks(cbs, sets),
    ]
    return out


def _kommune_year_blocks(cbs, sets) -> list[Block]:
    rounds = list(cbs)
    example = variables.treatment_suffix("level3+")
    return [
        _h(2, "Variables: kommune_year"),
        _p(
            "One row per library unit (97; 561 = Esbjerg + Fanø, whose answer is Esbjerg's) and year of the loans "
            "series, with the survey rounds of `config/pipeline.yaml` ("
            + ", ".join(map(str, rounds))
            + ") as columns `model_<round>`. It is the file to redo notebook 04 in R (`fixest`, `did`) or Stata "
            "(`csdid`): the adoption timing under every treatment definition comes from the functions notebook 04 "
            "uses (`helpers.analysis.adoption.dating`), so nothing has to be rebuilt. Per treatment (`any`, "
            "`staff`, and `levelkplus` for `levelk+`): `adoption_<t>` (never treated, adopter, always treated, no "
            "answer, start unknown: first seen treated after unanswered rounds, censored: untreated at every "
            "answered round but a later round unanswered), `g_<t>` (first treated year by the pairing rule: the "
            "round of the first treated report + "
            "`usage_year_offset`; 0 = never treated, as `csdid`'s `gvar` wants), `g_earliest_<t>` (the earlier "
            "bound of the interval-censored adoption: the year after the usage year of the last untreated round), "
            "`untreated_until_<t>` (a censored unit's last usage year known untreated; 0 otherwise), `treated_<t>` "
            "(absorbing; missing where the status is not known) and `reversal_<t>`."
        ),
        _p(
            "Notebook 04's estimation sample with its defaults is: `adoption_<t>` = 1, 2 or 6 (never treated, "
            "adopter or censored), not a censored unit's years after `untreated_until_<t>`, `has_population = 1`, "
            "`quality_flag` not 1 (reporting failures) and `loans > 0`; its cohorts are the units per `g_<t>` in "
            "that sample (a test re-derives them from this file). In Stata, e.g. "
            f"`csdid loans_per_inhabitant if inlist(adoption_{example}, 1, 2, 6) & !(untreated_until_{example} > 0 "
            f"& year > untreated_until_{example}) & has_population & quality_flag != 1 & loans > 0, "
            f"ivar(kommunekode) time(year) gvar(g_{example}) notyet` (notebook 04 uses the log of loans per 1,000)."
        ),
        _p(
            "**How `loans` is counted.** Statistics Denmark publishes loans *per inhabitant*, not counts; `loans` "
            "is that rate × the kommune's own 1 January population, summed over the library unit (and for the "
            "synthetic adoption panel, the panel's own counts). It is therefore **not a whole number**. Poisson "
            "pseudo-likelihood (Stata `poisson`, `ppmlhdfe`; R `fixest::fepois`, as notebook 04) takes it as it is; "
            "`MASS::glm.nb` and Stata's `nbreg` warn about non-integer counts (round it there, and say so), or model "
            "`loans_per_inhabitant` with `log(population)` as offset."
        ),
        _variable_table("kommune_year", variables.kommune_year_variables(rounds), sets, {}, None),
    ]


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: list[Block]) -> str:
    lines: list[str] = []
    for b in doc:
        if b.kind.startswith("h"):
            lines += ["#" * int(b.kind[1]) + " " + b.text, ""]
        elif b.kind == "p":
            lines += [b.text, ""]
        elif b.kind == "ul":
            lines += [f"- {i}" for i in b.items] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
            lines.append("|" + "---|" * len(b.header))
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.items]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_INLINE = re.compile(r"`(?P<code>[^`]+)`|\*\*(?P<strong>[^*]+)\*\*|(?<![\w*])\*(?P<em>[^*]+)\*(?![\w*])")


def inline(text) -> list[tuple[str, str]]:
    """A text's inline Markdown as (kind, text) segments: ``text``, ``code`` (`` `x` ``), ``strong`` (``**x**``)
    or ``em`` (``*x*``, not inside a word); the templates render them (``templates/_inline.html.j2``).

    Only these three, never nested: the dictionary's texts are our own, and a Markdown library's
    output would be a second rendering to keep equal to :func:`render_markdown`'s.
    """
    text, out, at = str(text), [], 0
    for m in _INLINE.finditer(text):
        if m.start() > at:
            out.append(("text", text[at : m.start()]))
        out.append((m.lastgroup, m.group(m.lastgroup)))
        at = m.end()
    if at < len(text):
        out.append(("text", text[at:]))
    return out


def render_html(doc: list[Block]) -> str:
    """The blocks as HTML, one line each (``templates/dictionary/blocks.html.j2``; markup, so a page
    template includes it as it is)."""
    return render.render("dictionary/blocks.html.j2", blocks=doc, inline=inline)


def markdown() -> str:
    """The data dictionary as Markdown (the content of docs/data_dictionary.md)."""
    return render_markdown(blocks())


def html(fragment: bool = False) -> str:
    """The data dictionary as HTML: a whole page, or with ``fragment=True`` the body only (for the report site)."""
    body = render_html(blocks())
    if fragment:
        return body
    return render.render("dictionary/page.html.j2", body=body)


def write(target: Path | None = None) -> Path:
    """Regenerate docs/data_dictionary.md (atomically)."""
    return files.write_text(Path(target) if target is not None else path(), markdown())


def stale() -> str | None:
    """None when docs/data_dictionary.md is what the code generates; else a message saying how to fix it."""
    f = path()
    if not f.is_file():
        return f"{paths.relative(f)} is missing; run `{REGENERATE}` and commit it"
    if f.read_text(encoding="utf-8") != markdown():
        return (
            f"{paths.relative(f)} is stale (a codebook, schema or exported variable changed); "
            f"run `{REGENERATE}` and commit the result"
        )
    return None
