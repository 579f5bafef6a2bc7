"""One language per figure: every figure function draws its texts from helpers.outputs.labels in the language asked for.

Each plots/maps function is drawn on small real frames (the real kommuner, loans and boundaries,
the example survey rounds cleaned into a temporary folder) with language="en" and "da". Every word
on the figure (titles, axis and tick labels, legend texts and titles, annotations, inset titles,
colour-bar labels, figure texts) must be a word of that language's table, and none may be a word
that only the other language's table has. Names that are the same in both languages (the official
Danish names of models 1-4, estimator names given by the caller) are taken out first.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import string
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from matplotlib.text import Text
from survey_raw import cleaned_rounds

from helpers.analysis import compare, models, simulation
from helpers.core import cooperation, paths
from helpers.data import reference, survey, usage
from helpers.outputs import labels, maps, plots, reports, style
from helpers.running import pipeline

LANGUAGES = ("en", "da")
NAMES = [cooperation.LABELS[c] for c in (1, 2, 3, 4)] + ["Fælles indgang"]  # the same in both languages


def _words(text: str) -> set[str]:
    text = re.sub(r"\$[^$]*\$", " ", text)  # mathtext ticks of log axes ($\mathdefault{10^{2}}$)
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text) if len(w) >= 2}


def _vocabulary(language: str) -> set[str]:
    words: set[str] = set()
    for entry in labels.entries(language).values():
        words |= _words(re.sub(r"\{[^}]*\}", " ", entry))
    return words


VOCABULARY = {lang: _vocabulary(lang) for lang in LANGUAGES}
ONLY = {lang: VOCABULARY[lang] - VOCABULARY[other] for lang, other in (("en", "da"), ("da", "en"))}


def figure_texts(fig: plt.Figure) -> list[str]:
    """Every visible, non-empty text drawn on ``fig`` (after a draw, so tick labels exist)."""
    fig.canvas.draw()
    hidden = {
        id(x)
        for ax in fig.findobj(plt.Axes)
        if not ax.axison
        for axis in (ax.xaxis, ax.yaxis)
        for x in axis.findobj(Text)
    }
    return [x.get_text() for x in fig.findobj(Text) if x.get_visible() and x.get_text().strip() and id(x) not in hidden]


def assert_one_language(
    fig: plt.Figure, language: str, *, names: tuple[str, ...] = (), expect: tuple[str, ...] = ()
) -> None:
    assert_texts_in(figure_texts(fig), language, names=names, expect=expect)


def assert_texts_in(
    texts: list[str], language: str, *, names: tuple[str, ...] = (), expect: tuple[str, ...] = ()
) -> None:
    """Every word of ``texts`` is a word of ``language``'s table and none is only the other language's."""
    other = "da" if language == "en" else "en"
    words: set[str] = set()
    for t in texts:
        flat = " ".join(t.split())
        for name in sorted([*NAMES, *names], key=len, reverse=True):
            flat = flat.replace(name, " ")
        words |= _words(flat)
    assert len(words) >= 4, f"too few words on the figure to judge its language: {texts}"
    foreign = sorted(words & ONLY[other])
    assert not foreign, f"{language} figure has {other} words {foreign} in {texts}"
    unknown = sorted(words - VOCABULARY[language])
    assert not unknown, (
        f"{language} figure has words from no {language} entry of helpers.outputs.labels: {unknown} in {texts}"
    )
    shown = [" ".join(t.split()) for t in texts]
    decimal = r"\d\.\d{1,2}(?!\d)" if language == "da" else r"\d,\d{1,2}(?!\d)"  # 0.95 in Danish, 0,95 in English
    wrong = [x for x in shown if re.search(decimal, x)]
    assert not wrong, f"{language} figure writes numbers the other language's way: {wrong}"
    for e in expect:
        assert any(" ".join(e.split()) in t for t in shown), f"{e!r} not on the {language} figure: {shown}"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The example survey rounds 2009 and 2011 cleaned into a temporary folder, with what the figures need."""
    with cleaned_rounds(tmp_path_factory.mktemp("language"), (2009, 2011)):
        municipalities = reference.load_municipalities()
        aligned = compare.align_rounds({y: survey.load_clean(y) for y in (2009, 2011)}, municipalities)
        inputs = models.model_inputs([2009, 2011], "loans", "real")
        fits = models.round_models(inputs.frames[2011], "loans")
        yield {
            "summary": survey.model_table(survey.load_clean(2011)),
            "aligned": aligned,
            "inputs": inputs,
            "table": fits.table,
            "fits": fits.fits,
            "boundaries": reference.load_boundaries(with_attributes=True),
        }


def t(key, language, **values):
    return labels.text(key, language, **values)


# --- every figure function, in both languages -------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_model_counts(real, language):
    fig = plots.model_counts(real["summary"], 2011, language=language)
    assert_one_language(
        fig,
        language,
        expect=(t("model_counts_title", language, year=2011), labels.model_name(5, language, with_code=True)),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_national_loans(language):
    fig, ax = plt.subplots()
    plots.national_loans(usage.load_real_national(), usage.REAL_LOANS_GAPS, ax, language=language)
    assert_one_language(
        fig,
        language,
        expect=(
            t("physical_loans_axis", language),
            t("covid_closures", language),
            t("not_published", language, years="2016-2017"),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("by", [None, "regionsnavn", "kommunegruppe_navn"])
def test_model_shares(real, language, by):
    fig, ax = plt.subplots(figsize=(10, 4))
    plots.model_shares(compare.distribution(real["aligned"], by=by), ax, by=by, language=language)
    group = {"regionsnavn": "region.Region Sjælland", "kommunegruppe_navn": "kommunegruppe.Landkommuner"}.get(by)
    expect = [t("shares_legend", language), labels.model_name(0, language, with_code=True)]
    if group:
        expect.append(t(group, language))
    assert_one_language(fig, language, expect=tuple(expect))


@pytest.mark.parametrize("language", LANGUAGES)
def test_transitions(real, language):
    a, b = compare.models_of(real["aligned"], 2009), compare.models_of(real["aligned"], 2011)
    fig, ax = plt.subplots(figsize=(8.5, 7))
    plots.transitions(compare.transition_matrix(a, b, cooperation.DEFAULT_ORDERING), 2009, 2011, ax, language=language)
    assert_one_language(fig, language, expect=(t("model_in", language, year=2011), labels.model_name(5, language)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_response_weights(language):
    weights = pd.DataFrame({"rounds": [(2009,)] * 3 + [(2009, 2011)] * 2, "weight": [0.95, 1.1, 1.3, 1.2, 1.6]})
    fig, ax = plt.subplots(figsize=(9, 3))
    plots.response_weights(weights, ax, language=language)
    assert_one_language(
        fig,
        language,
        expect=(
            t("weights_axis", language),
            t("answered_one", language, year=2009, n=3),
            t("answered_both", language, year_a=2009, year_b=2011, n=2),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_usage_by_model(real, language):
    fig, ax = plt.subplots()
    plots.usage_by_model(
        real["inputs"].frames[2011],
        None,
        ax,
        outcome="loans",
        language=language,
        title=t(
            "descriptive_title", language, year=2011, outcome=plots.outcome_name("loans", language), usage_year=2012
        ),
    )
    assert_one_language(
        fig,
        language,
        expect=(
            t("usage_axis", language, outcome=t("outcome.loans", language)),
            labels.model_name(5, language, short=True),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_coefficients(real, language):
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    truth = {term: 1.05 for term in real["table"].loc["negative binomial"].index}
    plots.coefficients(
        real["table"].loc["negative binomial"],
        ax,
        truth=truth,
        title=t("irr_title", language, year=2011),
        language=language,
    )
    assert_one_language(
        fig, language, expect=(t("irr_axis", language), t("true_value", language), "model 4 (Fælles indgang)")
    )
    ticks = [x.get_text() for x in ax.get_xticklabels()]
    assert all(("." in x) == (language == "en") for x in ticks if not x.isdigit()), ticks  # Danish decimal commas


@pytest.mark.parametrize("language", LANGUAGES)
def test_change(real, language):
    frames = real["inputs"].frames
    changes = models.change_frame(frames[2009], frames[2011])
    fig, ax = plt.subplots()
    plots.change(models.fit_change(changes, first=2009, last=2011), ax, outcome="loans", language=language)
    assert_one_language(fig, language, expect=(t("change_score_axis", language, first=2009, last=2011),))


@pytest.mark.parametrize("language", LANGUAGES)
def test_residuals(real, language):
    fig, axes = plt.subplots(1, 2)
    plots.residuals(models.pearson_residuals(real["fits"]["negative binomial"]), axes, language=language)
    assert_one_language(fig, language, expect=(t("qq_x", language), t("qq_y", language), t("qq_title", language)))


@pytest.fixture(scope="module")
def simulated(real):
    base = real["inputs"].frames[2011]
    nb = real["fits"]["negative binomial"]
    rate = float(base["loans"].sum() / base["population"].sum())
    cov = simulation.coverage_study(base, {1: 1.05, 2: 1.1, 3: 1.1, 4: 1.2}, alpha=nb.alpha, rate=rate, reps=30)
    curve = simulation.power_curve(base, [1.0, 1.1, 1.2, 1.3], alpha=nb.alpha, rate=rate, reps=30)
    # the minimal detectable effect is drawn whatever 30 datasets gave, so its label is checked too
    return {"coverage": cov, "power": dataclasses.replace(curve, minimal_detectable=curve.minimal_detectable or 1.2)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_power(simulated, language):
    fig, ax = plt.subplots()
    plots.power(simulated["power"], ax, language=language)
    assert_one_language(fig, language, expect=(t("power_x", language),))


@pytest.mark.parametrize("language", LANGUAGES)
def test_coverage(simulated, language):
    fig, ax = plt.subplots()
    plots.coverage(simulated["coverage"], ax, language=language)
    assert_one_language(fig, language, expect=(t("profile_likelihood", language), "model 4 (Fælles indgang)"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_event_study(language):
    events = range(-3, 4)
    table = pd.DataFrame(
        {"estimate": [0.01, -0.02, 0.0, 0.05, 0.07, 0.08, 0.06], "reference": [e == -2 for e in events]},
        index=pd.Index(list(events), name="event_time"),
    )
    table["low"], table["high"] = table["estimate"] - 0.03, table["estimate"] + 0.04
    fig, ax = plt.subplots()
    plots.event_study(
        {"Callaway & Sant'Anna": table, "TWFE Poisson": table},
        ax,
        anticipation=1,
        truth=table["estimate"],
        language=language,
        title=t("event_title", language, treatment=labels.treatment("level3+", language), rounds="2009, 2011"),
    )
    assert_one_language(
        fig,
        language,
        names=("Callaway & Sant'Anna", "TWFE Poisson"),
        expect=(
            labels.plural("anticipation", 1, language, k=1),
            t("reference_period", language),
            t("true_effect", language),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_honest(language):
    from types import SimpleNamespace

    rm = pd.DataFrame({"lb": [0.01, -0.02, -0.1], "ub": [0.08, 0.1, 0.2]}, index=pd.Index([0.5, 1.0, 2.0], name="Mbar"))
    sd = pd.DataFrame({"lb": [0.02, -0.01], "ub": [0.07, 0.12]}, index=pd.Index([0.0, 0.01], name="M"))
    h = SimpleNamespace(
        relative_magnitudes=rm, smoothness=sd, original=(0.02, 0.06), breakdown_rm=0.8, breakdown_sd=None
    )
    fig, axes = plt.subplots(1, 2)
    plots.honest(h, axes, language=language)
    assert_one_language(
        fig,
        language,
        expect=(
            t("honest_rm", language),
            t("honest_axis", language),
            t("honest_breakdown", language, value=labels.number("0.8", language)),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_choropleth_density(real, language):
    b = real["boundaries"].assign(density=lambda d: d["population_2011"] / d["areal_km2"])
    fig, ax = plt.subplots()
    maps.choropleth(
        b,
        "density",
        ax=ax,
        bins=[50, 100, 200, 500, 1000],
        cmap="YlGnBu",
        title=t("density_title", language, year=2011),
        legend_title=t("density_legend", language),
        language=language,
    )
    big = labels.number(f"{round(float(b['density'].max())):,}", language)
    assert_one_language(
        fig,
        language,
        expect=(
            t("inset.copenhagen", language),
            t("class.open", language, low=labels.number("1,000", language), high=big),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_rounds_side_by_side_and_change_map(real, language):
    aligned = real["aligned"]
    order = cooperation.parse_ordering(None)
    b = reference.load_boundaries().merge(compare.wide_models(aligned), on="kommunekode", validate="one_to_one")
    fig = maps.rounds_side_by_side(
        b,
        ["model_2009", "model_2011"],
        titles=["2009", "2011"],
        categories=order,
        labels=labels.model_names(order, language, with_code=True),
        colours=style.MODEL_COLOURS,
        legend_title=t("maps_legend", language, ordering="5<1<2<3<4"),
        missing_label=t("did_not_answer", language),
        suptitle=t("maps_suptitle", language),
        language=language,
    )
    assert_one_language(
        fig,
        language,
        expect=(
            t("maps_suptitle", language),
            t("inset.bornholm", language),
            labels.model_name(5, language, with_code=True),
        ),
    )
    ch = compare.change(compare.models_of(aligned, 2009), compare.models_of(aligned, 2011), order)
    b = b.merge(ch[["kommunekode", "change"]], on="kommunekode").astype({"change": "float64"})
    steps = list(range(-4, 5))
    fig2, ax = plt.subplots()
    maps.choropleth(
        b,
        "change",
        ax,
        categories=steps,
        labels=labels.level_changes(steps, language),
        cmap="RdBu",
        title=t("change_title", language, year_a=2009, year_b=2011, ordering="5<1<2<3<4"),
        legend_title=t("change_legend", language),
        missing_label=t("did_not_answer_one_or_both", language),
        language=language,
    )
    assert_one_language(fig2, language, expect=(t("no_change", language), t("level_steps", language, step="+2")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_loans_change_map(real, language):
    fig, ax = plt.subplots()
    served = {usage.FANOE: t("served_by", language, name="Fanø", by="Esbjerg")}
    maps.loans_change(
        usage.loans_change(2010, 2019), real["boundaries"], 2010, 2019, ax, served_elsewhere=served, language=language
    )
    assert_one_language(
        fig,
        language,
        names=("Fanø", "Esbjerg"),
        expect=(
            t("loans_change_legend", language),
            served[usage.FANOE],
            t("loans_change_title", language, year_a=2010, year_b=2019),
        ),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_saved_figure_marks_and_source_lines(tmp_path, monkeypatch, language):
    """The synthetic mark, its watermark and the source lines are in the figure's language too."""
    monkeypatch.setenv("BORGERSERVICE_REPORTS", str(tmp_path))
    fig, ax = plt.subplots()
    plots.national_loans(usage.load_real_national(), usage.REAL_LOANS_GAPS, ax, language=language)
    _, svg = reports.save_figure(
        fig, "loans", synthetic=True, source=style.usage_source_line("real", True, language), language=language
    )
    assert_one_language(
        fig,
        language,
        expect=(
            t("synthetic_mark", language),
            t("synthetic_watermark", language),
            t("source.loans", language),
            t("source.rounds_synthetic", language),
        ),
    )
    text = svg.read_text()
    assert t("synthetic_mark", language) in text and t("source.loans", language) in text


# --- the table and its lookup --------------------------------------------------------------------------


def test_unknown_language_is_refused_naming_the_accepted_ones(real):
    with pytest.raises(
        ValueError, match=r"language 'de' is not supported; accepted: 'en' \(English\), 'da' \(Danish\)"
    ):
        labels.text("year", "de")
    with pytest.raises(ValueError, match="accepted: 'en'"):
        plots.model_counts(real["summary"], 2011, language="DA")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="accepted: 'en'"):
        maps.choropleth(real["boundaries"].assign(x=1.0), "x", ax, language="dk")
    with pytest.raises(ValueError, match="accepted: 'en'"):
        reports.save_figure(plt.figure(), "x", synthetic=False, language=None)


def test_every_language_of_the_vocabulary_has_a_name_and_no_other():
    from helpers.core.vocabulary import Language, choices

    assert tuple(labels.LANGUAGES) == choices(Language) == ("en", "da")


def test_unknown_key_names_the_nearest():
    with pytest.raises(KeyError, match=r"no figure text 'inset.copenhagn'.*did you mean 'inset.copenhagen'"):
        labels.text("inset.copenhagn", "da")
    with pytest.raises(KeyError, match=r"needs the value 'year'"):
        labels.text("density_title", "en")


def test_every_entry_has_both_languages_with_the_same_placeholders():
    fields = string.Formatter()
    for key, entry in labels.TEXTS.items():
        assert set(entry) == set(labels.LANGUAGES), key
        assert all(entry[lang].strip() for lang in entry), key
        assert {f for _, f, _, _ in fields.parse(entry["en"]) if f} == {
            f for _, f, _, _ in fields.parse(entry["da"]) if f
        }, key


def test_model_names_keep_the_official_danish_names():
    assert labels.MODEL_LABELS == cooperation.LABELS
    for code in (1, 2, 3, 4):
        assert labels.model_name(code, "en") == labels.model_name(code, "da") == cooperation.LABELS[code]
    assert labels.model_name(5, "da") == "Intet samarbejde" and labels.model_name(5, "en") == "no cooperation"
    assert labels.model_name(0, "en", short=True) == cooperation.SHORT_NAMES[0]  # the English short names as before
    assert labels.model_name(4, "da", short=True) == cooperation.SHORT_NAMES[4]


def test_categories_and_numbers():
    assert [labels.category(r, "en") for r in reference.REGION_ORDER][:2] == ["Capital Region", "Region Zealand"]
    assert [labels.category(r, "da") for r in reference.REGION_ORDER] == reference.REGION_ORDER
    assert [labels.category(g, "da") for g in reference.KOMMUNEGRUPPER.values()] == list(
        reference.KOMMUNEGRUPPER.values()
    )
    assert labels.category(2011, "da") == "2011"
    assert labels.number("1,234.5", "da") == "1.234,5" and labels.number("1,234.5", "en") == "1,234.5"
    assert labels.percent(0.8, "da") == "80 %" and labels.percent(0.95, "en") == "95%"
    assert labels.term("cooperation score (per level)", "da") == "samarbejdsscore (pr. niveau)"
    assert labels.treatment("level>=3", "da") == "niveau 3 eller højere"
    assert labels.level_changes([-2, 0, 1], "da") == {-2: "\u22122 niveauer", 0: "ingen ændring", 1: "+1 niveau"}
    assert maps.class_labels([50, 1000, 7000], [50, 1000], 3.2, 7000, "da") == [
        "3,2 til 50",
        "50 til 1.000",
        "over 1.000 (maks. 7.000)",
    ]


def test_english_sources_and_mark_are_unchanged():
    """The English texts are those the package printed before the switch (other tests and the site rely on them)."""
    assert style.usage_source_line("real", False) == (
        "Source: Statistics Denmark, Statistikbanken (BIB1, BIB3A; population FOLK1A); survey rounds: library survey"
    )
    assert reports.SYNTHETIC_MARK == "SYNTHETIC EXAMPLE DATA - not a finding"
    assert t("source.loans", "en") == usage.REAL_SOURCE_NOTE
    assert t("served_by", "en", name="Fanø", by="Esbjerg") == usage.SERVED_LABELS[usage.FANOE]


def test_only_names_and_loanwords_read_the_same_in_both_languages():
    """An entry copied untranslated would pass the figure tests (its words would count as Danish): list
    the entries that are meant to be the same, so a new one has to be added here on purpose."""
    same = {k for k, e in labels.TEXTS.items() if e["en"] == e["da"]}
    assert same == {
        "group.kommunegruppe_navn",
        "group.regionsnavn",
        "inset.bornholm",
        "kommuner",
        "model_in",
        "model_short.4",
        "model_term",
        "outcome.downloads",
        "wald",
    }


# --- the parameter: config defaults and a notebook run ----------------------------------------------

FIGURE_NOTEBOOKS = (
    "00_reference",
    "01_clean_survey",
    "01_usage_panel",
    "02_compare_rounds",
    "03_model_usage",
    "04_adoption_panel",
)


def test_every_notebook_that_draws_figures_declares_language_and_the_config_sets_it_once():
    """Every notebook that draws figures declares ``languages`` (default English only) and draws each figure through
    ``reports.save_figures`` in every language of it, directly or through the ``reports.outputs`` made with them
    (whose ``figure`` and ``plot`` call ``save_figures``); every plot and map call is given the language it draws in."""
    for path in sorted(paths.notebooks().glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        draws = "save_figures(" in code or "reports.outputs(" in code
        declared = pipeline.notebook_parameters(path)
        assert draws == (path.stem in FIGURE_NOTEBOOKS), path.name
        assert "language" not in declared, f"{path.name}: the one-language parameter is gone (languages)"
        if draws:
            assert declared.get("languages") == [labels.DEFAULT_LANGUAGE], f"{path.name}: no languages parameter"
            calls = [
                node
                for c in nb.cells
                if c.cell_type == "code"
                for node in ast.walk(ast.parse(c.source))
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (
                    node.func.value.id in ("plots", "maps")
                    and node.func.attr[0] != "_"
                    or node.func.attr in ("save_figures", "outputs")
                )
                and node.func.attr not in ("outcome_name", "shared_bins")
            ]
            assert calls, path.name
            for call in calls:
                given = {k.arg for k in call.keywords}
                if call.func.attr == "outputs" and len(call.args) > 1 and ast.unparse(call.args[1]) == "languages":
                    given.add("languages")  # reports.outputs(synthetic, languages, ...)
                wanted = "languages" if call.func.attr in ("save_figures", "outputs") else "language"
                assert wanted in given, f"{path.name}: {ast.unparse(call)[:80]} without {wanted}"
        else:
            assert "languages" not in declared, path.name
    import yaml

    doc = yaml.safe_load((paths.config() / "pipeline.yaml").read_text())
    assert doc["defaults"]["languages"] == ["en", "da"]  # both languages, side by side, from one run
    cfg = pipeline.load_config()
    for r in cfg.runs:
        expected = doc["defaults"]["languages"] if r.notebook.removesuffix(".ipynb") in FIGURE_NOTEBOOKS else None
        assert r.parameters.get("languages") == expected, r.id


def test_config_defaults_reach_the_notebooks_that_declare_them(make_notebook, write_config):
    with_language = make_notebook("figures.ipynb", "print(language)", params='language = "en"  # figure texts')
    without = make_notebook("plain.ipynb", "print(1)")
    runs = [
        {"id": "a", "notebook": with_language},
        {"id": "b", "notebook": without},
        {"id": "c", "notebook": with_language, "parameters": {"language": "en"}},
    ]
    cfg = pipeline.load_config(write_config({"runs": runs, "defaults": {"language": "da"}}))
    assert {r.id: r.parameters for r in cfg.runs} == {
        "a": {"language": "da"},
        "b": {},
        "c": {"language": "en"},
    }  # a run's own value wins
    assert pipeline.effective_parameters(cfg.runs[0]) == {"language": "da"}
    with pytest.raises(
        pipeline.ConfigError,
        match=r"run 'a': language 'de' is not supported; accepted: 'en' \(English\), 'da' \(Danish\)",
    ):
        pipeline.load_config(write_config({"runs": runs, "defaults": {"language": "de"}}))
    with pytest.raises(pipeline.ConfigError, match=r"run 'c': language 'English'"):
        pipeline.load_config(write_config({"runs": [dict(runs[2], parameters={"language": "English"})]}))
    with pytest.raises(
        pipeline.ConfigError,
        match=r"defaults: 'langauge' is a parameter of none of the notebooks run; known: \['language', 'x'\]",
    ):
        pipeline.load_config(write_config({"runs": runs, "defaults": {"langauge": "da"}}))
    with pytest.raises(pipeline.ConfigError, match="defaults must map parameter names to values"):
        pipeline.load_config(write_config({"runs": runs, "defaults": ["language", "da"]}))


def _svg_texts(svg) -> list[str]:
    root = ET.parse(svg).getroot()
    return [" ".join("".join(el.itertext()).split()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.slow
def test_notebook_draws_its_figure_in_danish(outputs):
    """papermill with languages=["en", "da"], as the pipeline injects it: one run saves the figure in both languages
    side by side, and the Danish SVG (text kept as text) is Danish, the English one English."""
    executed = outputs / "00_reference.executed.ipynb"
    pm.execute_notebook(
        str(paths.notebooks() / "00_reference.ipynb"),
        str(executed),
        parameters={"languages": ["en", "da"]},
        kernel_name=paths.KERNEL_NAME,
        cwd=str(paths.notebooks()),
        progress_bar=False,
        execution_timeout=600,
    )
    svg = paths.figures() / "reference_density_2011_da.svg"
    texts = [x for x in _svg_texts(svg) if x]
    assert_texts_in(
        texts,
        "da",
        expect=(t("density_title", "da", year=2011), t("inset.copenhagen", "da"), t("source.density", "da")),
    )
    english = [x for x in _svg_texts(paths.figures() / "reference_density_2011_en.svg") if x]
    assert_texts_in(english, "en", expect=(t("density_title", "en", year=2011), t("source.density", "en")))
    shown = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in shown) == 1  # the notebook shows the first language only
    assert json.loads((paths.results() / "00_reference.json").read_text())["results"]["n_kommuner"] == 98


# --- no text on top of another, in either language ------------------------------------------------------------


def _figure_builders(real, simulated) -> dict:
    """Every figure kind of the notebooks, drawn as they draw it, by a function of the language."""

    def counts(language):
        return plots.model_counts(real["summary"], 2011, language=language)

    def loans(language):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        plots.national_loans(usage.load_real_national(), usage.REAL_LOANS_GAPS, ax, language=language)
        return fig

    def shares(language):
        fig, ax = plt.subplots(figsize=(10, 3))
        plots.model_shares(compare.distribution(real["aligned"]), ax, language=language)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        return fig

    def transitions(language):
        a, b = compare.models_of(real["aligned"], 2009), compare.models_of(real["aligned"], 2011)
        fig, ax = plt.subplots(figsize=(8.5, 7))
        plots.transitions(
            compare.transition_matrix(a, b, cooperation.DEFAULT_ORDERING), 2009, 2011, ax, language=language
        )
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        return fig

    def coefficients(language):
        fig, ax = plt.subplots(figsize=(6, 4))
        plots.coefficients(real["table"], ax, title=t("irr_title", language, year=2011), language=language)
        fig.tight_layout()
        return fig

    def residuals(language):
        return plots.residuals(models.pearson_residuals(real["fits"]["negative binomial"]), language=language)

    def coverage(language):
        return plots.coverage(simulated["coverage"], language=language)

    def power(language):
        return plots.power(simulated["power"], language=language)

    def density(language):
        b = real["boundaries"].assign(density=lambda d: d["population_2011"] / d["areal_km2"])
        fig, ax = plt.subplots(figsize=(8, 8))
        maps.choropleth(
            b,
            "density",
            ax=ax,
            bins=[50, 100, 200, 500, 1000, float(b["density"].max())],
            cmap="YlGnBu",
            title=t("density_title", language, year=2011),
            legend_title=t("density_legend", language),
            language=language,
        )
        return fig

    def change(language):
        frames = real["inputs"].frames
        fit = models.fit_change(models.change_frame(frames[2009], frames[2011]), first=2009, last=2011)
        return plots.change(fit, outcome="loans", language=language)

    def event_study(language):  # as notebook 04 draws it
        events = range(-4, 9)
        table = pd.DataFrame(
            {"estimate": [0.01 * (e + 1) for e in events], "reference": [e == -1 for e in events]},
            index=pd.Index(list(events), name="event_time"),
        )
        table["low"], table["high"] = table["estimate"] - 0.03, table["estimate"] + 0.04
        fig, ax = plt.subplots(figsize=(9, 5))
        title = t("event_title", language, treatment=labels.treatment("level3+", language), rounds="2009, 2011, 2014")
        plots.event_study(
            {"Callaway & Sant'Anna": table, "TWFE Poisson": table},
            ax,
            anticipation=1,
            truth=table["estimate"],
            title=title,
            language=language,
        )
        fig.tight_layout()
        return fig

    def honest(language):
        from types import SimpleNamespace

        index = pd.Index([0.5, 1.0, 1.5, 2.0], name="Mbar")
        rm = pd.DataFrame({"lb": [0.01, -0.02, -0.1, -0.2], "ub": [0.08, 0.1, 0.2, 0.3]}, index=index)
        sd = pd.DataFrame({"lb": [0.02, -0.01], "ub": [0.07, 0.12]}, index=pd.Index([0.0, 0.01], name="M"))
        h = SimpleNamespace(
            relative_magnitudes=rm, smoothness=sd, original=(0.02, 0.06), breakdown_rm=0.8, breakdown_sd=0.005
        )
        return plots.honest(h, language=language)

    def weights(language):  # as notebook 02 draws it
        rounds = [(2009,)] * 5 + [(2011,)] * 4 + [(2009, 2011)] * 80
        w = pd.DataFrame({"rounds": rounds, "weight": np.linspace(0.8, 1.7, len(rounds))})
        return reports.figure_of(plots.response_weights, w, figsize=(9, 3.2), rect=(0, 0.06, 1, 1))(language)

    def loans_change(language):  # as notebook 01_usage_panel draws it
        fig, ax = plt.subplots(figsize=(9, 8))
        served = {usage.FANOE: t("served_by", language, name="Fanø", by="Esbjerg")}
        maps.loans_change(
            usage.loans_change(2010, 2019),
            real["boundaries"],
            2010,
            2019,
            ax,
            served_elsewhere=served,
            language=language,
        )
        return fig

    return {
        "change": change,
        "event_study": event_study,
        "honest": honest,
        "response_weights": weights,
        "loans_change_map": loans_change,
        "model_counts": counts,
        "national_loans": loans,
        "model_shares": shares,
        "transitions": transitions,
        "coefficients": coefficients,
        "residuals": residuals,
        "coverage": coverage,
        "power": power,
        "density_map": density,
    }


FIGURE_KINDS = (
    "change",
    "event_study",
    "honest",
    "response_weights",
    "loans_change_map",
    "model_counts",
    "national_loans",
    "model_shares",
    "transitions",
    "coefficients",
    "residuals",
    "coverage",
    "power",
    "density_map",
)


def _texts_to_check(fig) -> tuple[list[Text], list[Text]]:
    """(the texts whose place the test checks: the synthetic mark, the source line, axis labels and titles;
    every text drawn on the figure but the watermark: those, tick labels that are drawn, legend texts,
    annotations, inset and colour-bar texts)."""
    renderer = fig.canvas.get_renderer()
    checked = [x for x in fig.texts if x.get_rotation() != 30]  # the watermark lies under everything on purpose
    shown = list(checked)
    for ax in fig.axes:
        labels_ = [ax.title, ax._left_title, ax._right_title]
        if ax.axison:  # maps switch their axes off: no axis labels or ticks are drawn
            labels_ += [ax.xaxis.label, ax.yaxis.label]
            for axis in (ax.xaxis, ax.yaxis):
                for tick in axis._update_ticks():  # the ticks drawn (not the spare ones beyond the view)
                    shown += [tick.label1, tick.label2]
        checked += labels_
        shown += labels_ + list(ax.texts)
        legend = ax.get_legend()
        if legend is not None:
            shown += [*legend.get_texts(), legend.get_title()]
    if fig._suptitle is not None:
        checked.append(fig._suptitle)
        shown.append(fig._suptitle)
    if fig.legends:
        shown += [x for legend in fig.legends for x in legend.get_texts()]

    def drawn(x):
        return x.get_visible() and x.get_text().strip() and x.get_window_extent(renderer).width > 0

    return [x for x in checked if drawn(x)], list(dict.fromkeys(x for x in shown if drawn(x)))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", FIGURE_KINDS)
def test_no_text_overlaps_another(real, simulated, language, kind, outputs):
    """The synthetic caption, the source line, the axis labels and titles do not overlap any other text, in either
    language, on the figure as it is saved (synthetic, with the longest source line the notebooks print)."""
    fig = _figure_builders(real, simulated)[kind](language)
    source = style.usage_source_line("real", True, language) + "; " + t("source.density", language)
    reports.save_figure(fig, f"overlap_{kind}", synthetic=True, source=source, language=language)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    checked, shown = _texts_to_check(fig)
    assert len(checked) >= 3
    found = []
    for a in checked:
        box = a.get_window_extent(renderer)
        for b in shown:
            if b is a or (b in checked and id(b) < id(a)):
                continue
            other = b.get_window_extent(renderer)
            if box.overlaps(other) and min(box.x1, other.x1) - max(box.x0, other.x0) > 1:
                found.append((a.get_text(), b.get_text()))
    assert not found, f"{kind} ({language}): texts on top of each other: {found}"
