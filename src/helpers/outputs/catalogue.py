"""What each kind of figure and table of the pipeline shows: a title and a sentence for the report's gallery,
tables page and short report, read from the output's file name (which the notebooks compute from their
parameters: years, outcome, rounds, usage source).

One entry per kind, matched against the file stem without its marks (``_synthetic``, ``_real``, the language
``_en``/``_da``). ``key`` marks the kinds the short report shows (a regular expression the stem must match too, so
that, say, only the real loans' models are key). An output of a kind not listed here is still shown, titled by its
file name; ``tests/test_site.py`` checks that every kind the shipped pipeline writes is listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROUNDS = r"(?P<rounds>\d{4}(?:_\d{4})+)"


@dataclass(frozen=True)
class Kind:
    """A kind of output: ``pattern`` (a regular expression with named groups, matched against the whole stem
    without marks), ``title`` and ``description`` (formatted with the groups; ``rounds`` reads "2009, 2011"),
    ``key`` (a regular expression: the stems of this kind that the short report shows; None: none)."""

    pattern: str
    title: str
    description: str
    key: str | None = None


FIGURES: tuple[Kind, ...] = (
    Kind(
        r"reference_density_(?P<year>\d{4})",
        "Population density by kommune, {year}",
        "Inhabitants per km² on 1 January (Statistics Denmark; DAGI boundaries): the 98 units of the study.",
    ),
    Kind(
        r"survey_(?P<year>\d{4})_models",
        "Cooperation models reported in the {year} survey",
        "Kommuner by the model of cooperation between library and borgerservice they reported.",
    ),
    Kind(
        r"usage_national_loans",
        "Physical library loans per inhabitant, Denmark",
        "The real national series of Statistics Denmark, with the years it has no figures for.",
        key=".*",
    ),
    Kind(
        r"usage_loans_change_(?P<a>\d{4})_(?P<b>\d{4})",
        "Change in physical loans per inhabitant by kommune, {a} to {b}",
        "Per cent change of the real loans; values the source flags as suspicious are marked.",
        key=".*",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_distribution",
        "Cooperation models in {a} and {b}",
        "Share of the 98 kommuner in each model, those that did not answer included.",
        key=".*",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_by_region",
        "Cooperation models by region, {a} and {b}",
        "Share of the kommuner of each region in each model.",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_by_kommunegruppe",
        "Cooperation models by kommunegruppe, {a} and {b}",
        "Share of the kommuner of each of Statistics Denmark's kommunegrupper in each model.",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_transitions",
        "Moves between models, {a} to {b}",
        "Kommuner that answered both rounds, by their model in each: the paired table the symmetry tests read.",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_maps",
        "Maps of the cooperation models, {a} and {b}",
        "The model each kommune reported in each round, on one colour scale.",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_weights",
        "Non-response weights, {a} and {b}",
        "Raking weights of the kommuner that answered, one row per response pattern: how far the answers are "
        "reweighted to stand for the kommuner that did not answer.",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_change",
        "Change in cooperation level, {a} to {b}",
        "Levels moved up or down by each kommune that answered both rounds.",
    ),
    Kind(
        rf"model_descriptive_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "{Outcome} per inhabitant by cooperation model, rounds {rounds}",
        "The distribution per model in the usage year paired with each round.",
    ),
    Kind(
        rf"model_coefficients_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Rate ratios of {outcome} by cooperation model, rounds {rounds}",
        "Incidence-rate ratios against no cooperation with 95 % intervals, per round (negative binomial).",
        key=r"model_coefficients_loans_.*",
    ),
    Kind(
        rf"model_change_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Change in {outcome} against change in cooperation, rounds {rounds}",
        "First differences per kommune with the fitted change model (OLS).",
    ),
    Kind(
        rf"model_residuals_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Residuals of the count model of {outcome}, rounds {rounds}",
        "Pearson residuals against fitted counts, and their normal Q-Q plot.",
    ),
    Kind(
        rf"model_coverage_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Coverage of the 95 % intervals, {outcome}, rounds {rounds}",
        "Simulated datasets at the real design: how often the Wald, profile-likelihood and reported Cox-Reid t "
        "intervals cover the truth.",
    ),
    Kind(
        rf"model_power_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Power to detect an effect on {outcome}, rounds {rounds}",
        "Simulated power against the true rate ratio, and the smallest effect detectable with 80 % power.",
        key=r"model_power_loans_.*",
    ),
    Kind(
        rf"adoption_event_study_(?P<source>real|synthetic)_{_ROUNDS}",
        "Loans per inhabitant around adoption ({source} loans), rounds {rounds}",
        "Event study: effect by year since the first usage year with cooperation, against units not yet "
        "cooperating, with 95 % intervals.",
        key=rf"adoption_event_study_real_{_ROUNDS}",
    ),
    Kind(
        rf"adoption_honest_(?P<source>real|synthetic)_{_ROUNDS}",
        "Robustness to violations of parallel trends ({source} loans), rounds {rounds}",
        "Rambachan & Roth: robust 95 % sets of the headline effect by relative magnitude and by smoothness bound, "
        "beside the original interval, with the breakdown value.",
    ),
)

TABLES: tuple[Kind, ...] = (
    Kind(r"reference_regions_(?P<year>\d{4})", "Kommuner and population by region, {year}", "Real data."),
    Kind(r"survey_(?P<year>\d{4})_models", "Cooperation models, {year} survey", "Kommuner per reported model."),
    Kind(r"usage_sources", "Sources of the usage panel", "Which source feeds each outcome, real or synthetic."),
    Kind(r"usage_national_totals", "National usage totals per year", "Sums of the usage panel per year."),
    Kind(
        r"usage_quality_flags",
        "Values flagged in the usage source",
        "Reporting failures and other values the provenance marks; the models leave reporting failures out.",
        key=".*",
    ),
    Kind(
        r"02_compare_(?P<a>\d{4})_(?P<b>\d{4})_(?P<what>[a-z0-9_]+)",
        "Comparison {a} and {b}: {what}",
        "Notebook 02's table of the two rounds.",
    ),
    Kind(
        rf"model_table_change_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Regression table: change in log {outcome} per inhabitant, rounds {rounds}",
        "First-difference model (OLS, HC3).",
        key=r"model_table_change_loans_.*",
    ),
    Kind(
        rf"model_table_ordinal_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Regression table: ordinal logit of the cooperation level (run of {outcome}, rounds {rounds})",
        "Cut points on the logit scale as MASS::polr reports them.",
    ),
    Kind(
        rf"model_table_twfe_(?P<source>real|synthetic)_{_ROUNDS}",
        "Regression table: two-way fixed-effects Poisson around adoption ({source} loans), rounds {rounds}",
        "Static effect and event study as rate ratios; kommune and year fixed effects; CRV1 clustered errors.",
        key=rf"model_table_twfe_real_{_ROUNDS}",
    ),
    Kind(
        r"model_table_(?P<outcome>[a-z_]+?)_(?P<pair>\d{4}_\d{4})_(?P<year>\d{4})",
        "Regression table: {outcome} per inhabitant by cooperation model, survey {year}",
        "Negative binomial, Poisson and the cooperation score side by side, as rate ratios with 95 % intervals.",
        key=r"model_table_loans_.*",
    ),
    Kind(
        r"model_irr_(?P<outcome>[a-z_]+?)_(?P<pair>\d{4}_\d{4})_(?P<year>\d{4})",
        "Rate ratios of {outcome}, survey {year}",
        "The models' rate ratios in one tidy table.",
    ),
    Kind(
        rf"model_intervals_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Interval methods compared: {outcome}, rounds {rounds}",
        "Wald, profile-likelihood and the reported Cox-Reid t intervals of the count model side by side.",
    ),
    Kind(
        rf"model_sensitivity_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Sensitivity of the models of {outcome}, rounds {rounds}",
        "The score rate ratio refitted under the other ordering of models 2 and 3 and without the largest units.",
    ),
    Kind(
        rf"model_nonresponse_(?P<outcome>[a-z_]+?)_{_ROUNDS}",
        "Non-response sensitivity of the score rate ratio: {outcome}, rounds {rounds}",
        "Complete cases, raking weights, imputation and Manski bounds for the kommuner that did not answer.",
    ),
    Kind(
        rf"adoption_(?P<what>[a-z_]+?)_(?P<source>real|synthetic)_{_ROUNDS}",
        "Adoption panel, {what}: {source} loans, rounds {rounds}",
        "Notebook 04's table.",
    ),
)

MARKS = re.compile(r"(?:_(?:synthetic|real|en|da))+$")


def base_stem(stem: str) -> str:
    """The stem without its trailing marks (``_synthetic``, ``_real``, ``_en``, ``_da``)."""
    return MARKS.sub("", stem)


def _fill(text: str, groups: dict) -> str:
    values = {k: v.replace("_", ", ") if k == "rounds" else v.replace("_", " ") for k, v in groups.items() if v}
    values.update({k.capitalize(): v.capitalize() for k, v in values.items()})
    return text.format(**values)


@dataclass(frozen=True)
class Described:
    """An output as the report names it: ``title``, ``description``, ``key`` (shown in the short report),
    ``known`` (a kind of :data:`FIGURES` or :data:`TABLES`)."""

    title: str
    description: str
    key: bool
    known: bool
    order: int = 10_000  # the kind's place in its list: the gallery and the short report follow it


def describe(stem: str, kinds: tuple[Kind, ...]) -> Described:
    """Title and description of the output named ``stem`` (its file name without suffix)."""
    base = base_stem(stem)
    for order, kind in enumerate(kinds):
        m = re.fullmatch(kind.pattern, base)
        if m:
            key = kind.key is not None and re.fullmatch(kind.key, base) is not None
            groups = m.groupdict()
            return Described(_fill(kind.title, groups), _fill(kind.description, groups), key, True, order)
    return Described(base.replace("_", " "), "", False, False)


def figure(stem: str) -> Described:
    return describe(stem, FIGURES)


def table(stem: str) -> Described:
    return describe(stem, TABLES)
