"""Every text drawn on a figure, in English and Danish: one table, one lookup.

A figure is in one language, chosen by the notebooks' ``language`` parameter ("en" or "da"; the
pipeline sets it for every run in ``config/pipeline.yaml`` under ``defaults``). The plot and map
functions take ``language`` and look up each axis label, title, legend entry, category name,
source line and synthetic mark here; notebooks look up the titles they pass in.

What stays the same in both languages:

* the official Danish names of cooperation models 1-4 ("Den spæde start", ...), which are names,
  not descriptions; models 0 and 5 have an English and a Danish name (``model_name``);
* place names, table ids of Statistics Denmark (BIB1, FOLK1A) and the names of estimators
  ("Callaway & Sant'Anna", "Wald").

In Danish, numbers that the package formats itself take a decimal comma and a thousands point
(``number``; axis ticks by ``localize_ticks``).
"""

from __future__ import annotations

import difflib
import re

from helpers.core.vocabulary import MODEL_NAMES, Language, check_choice

MODEL_LABELS = MODEL_NAMES  # the official Danish names of the models (declared once, in helpers.core.vocabulary)

LANGUAGES: dict[Language, str] = {"en": "English", "da": "Danish"}  # the name of each Language, in its order
DEFAULT_LANGUAGE: Language = "en"

# key -> {language -> text}; texts with {placeholders} are filled by ``text(key, language, **values)``.
TEXTS: dict[str, dict[str, str]] = {
    # --- general words -----------------------------------------------------------------------
    "kommuner": {"en": "kommuner", "da": "kommuner"},
    "year": {"en": "year", "da": "år"},
    "round": {"en": "survey round", "da": "undersøgelsesrunde"},
    "per_inhabitant": {"en": "per inhabitant", "da": "pr. indbygger"},
    "no_data": {"en": "no data", "da": "ingen data"},
    "did_not_answer": {"en": "did not answer", "da": "svarede ikke"},
    "did_not_answer_one_or_both": {
        "en": "did not answer in one or both rounds",
        "da": "svarede ikke i den ene eller begge runder",
    },
    # --- outcomes ------------------------------------------------------------------------------
    "outcome.usage": {"en": "usage", "da": "brug"},
    "outcome.loans": {"en": "loans", "da": "udlån"},
    "outcome.visits": {"en": "visits", "da": "besøg"},
    "outcome.downloads": {"en": "downloads", "da": "downloads"},
    "outcome.service_points": {"en": "service points", "da": "betjeningssteder"},
    "outcome.expenditure": {"en": "expenditure", "da": "udgifter"},
    # --- models (codes 0 and 5; 1-4 keep their official Danish names) -------------------------
    "model.0": {"en": "did not answer", "da": MODEL_LABELS[0]},
    "model.5": {"en": "no cooperation", "da": MODEL_LABELS[5]},
    "model_short.0": {"en": "did not answer", "da": "ikke svaret"},
    "model_short.4": {"en": "Fælles indgang", "da": "Fælles indgang"},
    "model_short.5": {"en": "no cooperation", "da": "intet samarbejde"},
    "model_term": {"en": "model {code} ({name})", "da": "model {code} ({name})"},
    "score_term": {"en": "cooperation score (per level)", "da": "samarbejdsscore (pr. niveau)"},
    # --- regions and kommunegrupper (the data hold the Danish names) ---------------------------
    "region.Region Hovedstaden": {"en": "Capital Region", "da": "Region Hovedstaden"},
    "region.Region Sjælland": {"en": "Region Zealand", "da": "Region Sjælland"},
    "region.Region Syddanmark": {"en": "Region of Southern Denmark", "da": "Region Syddanmark"},
    "region.Region Midtjylland": {"en": "Central Denmark Region", "da": "Region Midtjylland"},
    "region.Region Nordjylland": {"en": "North Denmark Region", "da": "Region Nordjylland"},
    "kommunegruppe.Hovedstadskommuner": {"en": "Capital municipalities", "da": "Hovedstadskommuner"},
    "kommunegruppe.Storbykommuner": {"en": "Metropolitan municipalities", "da": "Storbykommuner"},
    "kommunegruppe.Provinsbykommuner": {"en": "Provincial municipalities", "da": "Provinsbykommuner"},
    "kommunegruppe.Oplandskommuner": {"en": "Commuter municipalities", "da": "Oplandskommuner"},
    "kommunegruppe.Landkommuner": {"en": "Rural municipalities", "da": "Landkommuner"},
    "group.regionsnavn": {"en": "region", "da": "region"},
    "group.kommunegruppe_navn": {"en": "kommunegruppe", "da": "kommunegruppe"},
    # --- sources and synthetic marks -----------------------------------------------------------
    "source.loans": {
        "en": "Source: Statistics Denmark, Statistikbanken (BIB1, BIB3A; population FOLK1A)",
        "da": "Kilde: Danmarks Statistik, Statistikbanken (BIB1, BIB3A; befolkning FOLK1A)",
    },
    "source.statbank": {
        "en": "Source: Statistics Denmark, Statistikbanken (BIB1, SBS1, BIB2B, BIB6, FOLK1A)",
        "da": "Kilde: Danmarks Statistik, Statistikbanken (BIB1, SBS1, BIB2B, BIB6, FOLK1A)",
    },
    "source.synthetic_usage": {
        "en": "Usage: synthetic example panel (helpers.data.synthetic)",
        "da": "Brug: syntetisk eksempelpanel (helpers.data.synthetic)",
    },
    "source.other_usage": {"en": "Usage: {source}", "da": "Brug: {source}"},
    "source.rounds_synthetic": {
        "en": "survey rounds: synthetic example data",
        "da": "undersøgelsesrunder: syntetiske eksempeldata",
    },
    "source.rounds_real": {
        "en": "survey rounds: library survey",
        "da": "undersøgelsesrunder: bibliotekernes undersøgelse",
    },
    "source.density": {
        "en": "Sources: Statistics Denmark (FOLK1A/BEF1A07); DAGI boundaries, Geodatastyrelsen 2014",
        "da": "Kilder: Danmarks Statistik (FOLK1A/BEF1A07); DAGI-grænser, Geodatastyrelsen 2014",
    },
    "source.survey_file": {"en": "Source: {path}", "da": "Kilde: {path}"},
    "source.compare_synthetic": {
        "en": "Survey rounds (synthetic example data); reference: DAGI, Statistics Denmark",
        "da": "Undersøgelsesrunder (syntetiske eksempeldata); reference: DAGI, Danmarks Statistik",
    },
    "source.compare_real": {
        "en": "Survey rounds (library survey); reference: DAGI, Statistics Denmark",
        "da": "Undersøgelsesrunder (bibliotekernes undersøgelse); reference: DAGI, Danmarks Statistik",
    },
    "synthetic_mark": {
        "en": "SYNTHETIC EXAMPLE DATA - not a finding",
        "da": "SYNTETISKE EKSEMPELDATA - ikke et resultat",
    },
    "synthetic_watermark": {"en": "SYNTHETIC", "da": "SYNTETISK"},
    # --- maps ------------------------------------------------------------------------------------
    "inset.copenhagen": {"en": "Copenhagen area (enlarged)", "da": "Københavnsområdet (forstørret)"},
    "inset.bornholm": {"en": "Bornholm", "da": "Bornholm"},
    "class.range": {"en": "{low} to {high}", "da": "{low} til {high}"},
    "class.up_to": {"en": "up to {high}", "da": "op til {high}"},
    "class.open": {"en": "above {low} (max {high})", "da": "over {low} (maks. {high})"},
    "density_title": {"en": "Inhabitants per km², 1 January {year}", "da": "Indbyggere pr. km², 1. januar {year}"},
    "density_legend": {"en": "per km²", "da": "pr. km²"},
    "loans_change_title": {
        "en": "Change in physical loans per inhabitant, {year_a}-{year_b}",
        "da": "Ændring i fysiske udlån pr. indbygger, {year_a}-{year_b}",
    },
    "loans_change_legend": {"en": "change, per cent", "da": "ændring, procent"},
    "flagged_in_source": {
        "en": "value flagged as suspicious in the source ({n})",
        "da": "værdi markeret som tvivlsom i kilden ({n})",
    },
    "served_by": {
        "en": "{name}: served by {by} (counted in {by})",
        "da": "{name}: betjenes af {by} (tælles med i {by})",
    },
    "maps_suptitle": {
        "en": "Cooperation model between library and borgerservice",
        "da": "Samarbejdsmodel mellem bibliotek og borgerservice",
    },
    "maps_legend": {"en": "model (levels {ordering})", "da": "model (niveauer {ordering})"},
    "change_title": {
        "en": "Change in cooperation level, {year_a} to {year_b} ({ordering})",
        "da": "Ændring i samarbejdsniveau, {year_a} til {year_b} ({ordering})",
    },
    "change_legend": {"en": "levels", "da": "niveauer"},
    "no_change": {"en": "no change", "da": "ingen ændring"},
    "level_step": {"en": "{step} level", "da": "{step} niveau"},
    "level_steps": {"en": "{step} levels", "da": "{step} niveauer"},
    # --- survey and comparison figures -----------------------------------------------------------
    "model_counts_title": {
        "en": "Cooperation model reported by the kommuner, survey {year}",
        "da": "Samarbejdsmodel oplyst af kommunerne, undersøgelsen {year}",
    },
    "shares_title": {"en": "Cooperation model per survey round", "da": "Samarbejdsmodel pr. undersøgelsesrunde"},
    "shares_title_by": {"en": "Cooperation model by {group}", "da": "Samarbejdsmodel efter {group}"},
    "shares_axis": {"en": "% of the {what}", "da": "% af {what}"},
    "shares_axis_by": {"en": "% of the {what} in the group", "da": "% af {what} i gruppen"},
    "shares_what.kommuner": {"en": "kommuner", "da": "kommunerne"},
    "shares_legend": {"en": "model (lowest level first)", "da": "model (laveste niveau først)"},
    "transitions_title": {
        "en": "Model in {year_a} and {year_b}: {n} kommuner that answered both",
        "da": "Model i {year_a} og {year_b}: {n} kommuner, der svarede begge gange",
    },
    "model_in": {"en": "model {year}", "da": "model {year}"},
    "weights_title": {
        "en": "Raking weights for non-response: each respondent counts for this many kommuner",
        "da": "Rakingvægte for manglende svar: hver besvarelse tæller for så mange kommuner",
    },
    "weights_axis": {
        "en": "weight (1 / implied probability of answering)",
        "da": "vægt (1 / implicit sandsynlighed for at svare)",
    },
    "answered_one": {"en": "answered {year}\n({n} kommuner)", "da": "svarede {year}\n({n} kommuner)"},
    "answered_both": {
        "en": "answered {year_a} and {year_b}\n({n} kommuner)",
        "da": "svarede {year_a} og {year_b}\n({n} kommuner)",
    },
    # --- national loans ----------------------------------------------------------------------------
    "not_published": {"en": "{years}\nnot published", "da": "{years}\nikke offentliggjort"},
    "covid_closures": {"en": "COVID-19\nclosures", "da": "COVID-19-\nnedlukninger"},
    "physical_loans_axis": {"en": "physical loans per inhabitant", "da": "fysiske udlån pr. indbygger"},
    "national_loans_title": {
        "en": "Physical library loans per inhabitant, Denmark {first}-{last}",
        "da": "Fysiske biblioteksudlån pr. indbygger, Danmark {first}-{last}",
    },
    # --- models (notebook 03) ----------------------------------------------------------------------
    "usage_axis": {"en": "{outcome} per inhabitant", "da": "{outcome} pr. indbygger"},
    "models_axis": {"en": "cooperation model (lowest level first)", "da": "samarbejdsmodel (laveste niveau først)"},
    "descriptive_title": {
        "en": "Survey {year}, {outcome} in {usage_year}",
        "da": "Undersøgelsen {year}, {outcome} i {usage_year}",
    },
    "irr_title": {"en": "Survey {year}: IRR vs no cooperation", "da": "Undersøgelsen {year}: IRR mod intet samarbejde"},
    "irr_axis": {
        "en": "incidence-rate ratio (log scale; 1 = no difference)",
        "da": "rateratio (IRR, logaritmisk skala; 1 = ingen forskel)",
    },
    "estimate_interval": {"en": "estimate, 95 % interval", "da": "estimat, 95 %-interval"},
    "true_value": {"en": "true value (generator)", "da": "sand værdi (generator)"},
    "change_score_axis": {
        "en": "change in cooperation score {first}→{last}",
        "da": "ændring i samarbejdsscore {first}→{last}",
    },
    "change_usage_axis": {
        "en": "change in log {outcome} per inhabitant",
        "da": "ændring i log {outcome} pr. indbygger",
    },
    "change_points": {"en": "kommuner (jittered sideways)", "da": "kommuner (spredt sidelæns)"},
    "change_line": {"en": "fitted change (OLS)", "da": "estimeret ændring (OLS)"},
    "fitted_count": {"en": "fitted count", "da": "forventet antal (modellen)"},
    "pearson_residual": {"en": "Pearson residual", "da": "Pearson-residual"},
    "qq_title": {
        "en": "Normal Q-Q plot of Pearson residuals",
        "da": "Normalfordelingsplot (Q-Q) af Pearson-residualer",
    },
    "qq_x": {"en": "theoretical quantiles (normal)", "da": "teoretiske kvantiler (normalfordeling)"},
    "qq_y": {"en": "ordered Pearson residuals", "da": "sorterede Pearson-residualer"},
    "power_mde": {"en": "smallest effect at {target} power: {mde}", "da": "mindste effekt ved {target} styrke: {mde}"},
    "power_x": {"en": "true rate ratio, cooperating vs not", "da": "sand rateratio, samarbejde mod intet samarbejde"},
    "power_y": {"en": "power (p < {alpha})", "da": "styrke (p < {alpha})"},
    "power_title": {"en": "Power with {n} municipalities", "da": "Styrke med {n} kommuner"},
    "power_title_reps": {
        "en": "Power with {n} municipalities, {reps} datasets per effect\n(bars: ±2 Monte Carlo standard errors)",
        "da": "Styrke med {n} kommuner, {reps} datasæt pr. effekt\n(streger: ±2 Monte Carlo-standardfejl)",
    },
    "wald": {"en": "Wald (glm.nb, z)", "da": "Wald (glm.nb, z)"},
    "profile_likelihood": {"en": "profile likelihood (R confint)", "da": "profillikelihood (R confint)"},
    "cox_reid_t": {
        "en": "Cox-Reid dispersion, t on n \u2212 p df (reported)",
        "da": "Cox-Reid-dispersion, t med n \u2212 p frihedsgrader (rapporteret)",
    },
    "coverage_target": {"en": "target {low}\u2013{high}", "da": "m\u00e5l {low}\u2013{high}"},
    "coverage_x": {
        "en": "share of {level} intervals covering the true rate ratio",
        "da": "andel af {level}-intervaller, der dækker den sande rateratio",
    },
    "coverage_datasets": {"en": "{reps} simulated datasets", "da": "{reps} simulerede datasæt"},
    # plural forms: ``plural(key, n, language)`` picks ``<key>.one`` for 1 and ``<key>.other`` for any other n
    "coverage_not_converged.one": {
        "en": " ({k} fit did not converge, left out)",
        "da": " ({k} estimation konvergerede ikke, udeladt)",
    },
    "coverage_not_converged.other": {
        "en": " ({k} fits did not converge, left out)",
        "da": " ({k} estimationer konvergerede ikke, udeladt)",
    },
    "coverage_title": {
        "en": "Coverage over {fitted}\n(bars: ±2 Monte Carlo standard errors)",
        "da": "Dækning over {fitted}\n(streger: ±2 Monte Carlo-standardfejl)",
    },
    # --- event study (notebook 04) -------------------------------------------------------------------
    "pre_periods": {"en": "pre-periods (before adoption)", "da": "perioder før indførelsen"},
    "anticipation.one": {"en": "anticipation ({k} year)", "da": "forventningseffekt ({k} år)"},
    "anticipation.other": {"en": "anticipation ({k} years)", "da": "forventningseffekt ({k} år)"},
    "series_interval": {"en": "{name} (95 % interval)", "da": "{name} (95 %-interval)"},
    "simultaneous_band": {"en": "{name}: simultaneous 95 % band", "da": "{name}: simultant 95 %-bånd"},
    "series_interval_method": {"en": "{name} (pointwise 95 %, {method})", "da": "{name} (punktvist 95 %, {method})"},
    "simultaneous_band_method": {
        "en": "{name}: simultaneous 95 % band ({method})",
        "da": "{name}: simultant 95 %-bånd ({method})",
    },
    "interval_jackknife": {"en": "normal (z), jackknife", "da": "normalfordelt (z), jackknife"},
    "interval_crv1": {"en": "normal (z), CRV1", "da": "normalfordelt (z), CRV1"},
    "band_multiplier": {
        "en": "multiplier bootstrap, {draws} draws",
        "da": "multiplikator-bootstrap, {draws} træk",
    },
    "band_sup_t": {"en": "sup-t of CRV1, {draws} draws", "da": "sup-t af CRV1, {draws} træk"},
    "honest_original": {"en": "parallel\ntrends", "da": "parallelle\ntrends"},
    "honest_rm": {
        "en": "Mbar: post-adoption violation at most Mbar x the largest pre-adoption one",
        "da": "Mbar: brud efter indførelsen højst Mbar x det største før",
    },
    "honest_sd": {
        "en": "M: change in the slope of the differential trend per year (log points)",
        "da": "M: ændring i den differentielle trends hældning pr. år (log-point)",
    },
    "honest_axis": {
        "en": "robust 95 % set of the average effect",
        "da": "robust 95 %-mængde for den gennemsnitlige effekt",
    },
    "honest_breakdown": {"en": "breakdown value {value}", "da": "nedbrudsværdi {value}"},
    "reference_period": {"en": "reference period\n(0 by construction)", "da": "referenceperiode\n(0 pr. definition)"},
    "true_effect": {"en": "true effect (synthetic)", "da": "sand effekt (syntetisk)"},
    "event_time_axis": {
        "en": "years since the first year with cooperation (event time)",
        "da": "år siden første år med samarbejde (hændelsestid)",
    },
    "event_effect_axis": {"en": "effect on log loans per inhabitant", "da": "effekt på log udlån pr. indbygger"},
    "event_title": {
        "en": "Loans per inhabitant around adoption: {treatment}; rounds {rounds}",
        "da": "Udlån pr. indbygger omkring indførelsen: {treatment}; runder {rounds}",
    },
    "treatment.any": {"en": "any cooperation (models 1-4)", "da": "ethvert samarbejde (model 1-4)"},
    "treatment.staff": {
        "en": "library staff do the tasks (models 3-4)",
        "da": "bibliotekets personale løser opgaverne (model 3-4)",
    },
    "treatment.level": {"en": "level {k} or higher", "da": "niveau {k} eller højere"},
}


class UnknownLabel(KeyError):
    """A key that is not in ``TEXTS``; the message names the nearest keys."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def check_language(language) -> Language:
    """``language`` if :data:`~helpers.core.vocabulary.Language` admits it; otherwise a ValueError naming the
    accepted values with their names (``vocabulary.check_choice``; kept because plots, maps, reports and
    the pipeline all check the figure language through it)."""
    return check_choice("language", language, Language, names=LANGUAGES, verb="supported")


def text(key: str, language: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text of ``key`` in ``language``, its {placeholders} filled from ``values``."""
    check_language(language)
    try:
        entry = TEXTS[key]
    except KeyError:
        near = difflib.get_close_matches(key, TEXTS, n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
        raise UnknownLabel(
            f"no figure text {key!r} in helpers.outputs.labels.TEXTS{hint} ({len(TEXTS)} keys, e.g. "
            f"{', '.join(map(repr, list(TEXTS)[:4]))})"
        ) from None
    template = entry[language]
    try:
        return template.format(**values) if values or "{" in template else template
    except KeyError as exc:
        raise KeyError(f"figure text {key!r} needs the value {exc}; given: {sorted(values)}") from None


def has(key: str) -> bool:
    return key in TEXTS


def plural(key: str, n: int, language: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text of ``key`` for a count ``n``: ``<key>.one`` when ``n`` is 1, ``<key>.other`` otherwise (English and
    Danish both have these two forms), filled with ``values``."""
    return text(f"{key}.{'one' if int(n) == 1 else 'other'}", language, **values)


def model_name(code: int, language: str = DEFAULT_LANGUAGE, *, short: bool = False, with_code: bool = False) -> str:
    """Name of cooperation model ``code`` for a figure: the official Danish names of 1-4 in both
    languages (``short``: "Fælles indgang" for 4), "did not answer" / "no cooperation" in English."""
    check_language(language)
    code = int(code)
    key = f"model_short.{code}" if short and has(f"model_short.{code}") else f"model.{code}"
    name = text(key, language) if has(key) else MODEL_LABELS[code]
    return f"{code} {name}" if with_code else name


def model_names(
    codes, language: str = DEFAULT_LANGUAGE, *, short: bool = False, with_code: bool = False
) -> dict[int, str]:
    return {int(c): model_name(c, language, short=short, with_code=with_code) for c in codes}


def category(value, language: str = DEFAULT_LANGUAGE, prefixes: tuple[str, ...] = ("region", "kommunegruppe")) -> str:
    """A Danish category value of the data (a region, a kommunegruppe) in ``language``; other values unchanged."""
    check_language(language)
    for prefix in prefixes:
        key = f"{prefix}.{value}"
        if key in TEXTS:
            return TEXTS[key][language]
    return str(value)


def term(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A model term as ``models.irr_table`` names it ("model 4 (Fælles indgang)", "cooperation score
    (per level)") in ``language``; other terms unchanged."""
    m = re.fullmatch(r"model (\d) \(.*\)", str(name))
    if m:
        code = int(m.group(1))
        return text("model_term", language, code=code, name=model_name(code, language, short=True))
    if name == TEXTS["score_term"]["en"]:
        return text("score_term", language)
    return str(name)


def treatment(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The adoption treatment ("any", "staff", "level>=3" / "level3+") in words."""
    t = str(name).strip().replace(" ", "")
    if has(f"treatment.{t}"):
        return text(f"treatment.{t}", language)
    m = re.fullmatch(r"level>=([1-4])", t) or re.fullmatch(r"level([1-4])\+", t)
    return text("treatment.level", language, k=int(m.group(1))) if m else str(name)


def level_changes(steps, language: str = DEFAULT_LANGUAGE) -> dict[int, str]:
    """Legend names of changes in cooperation level: "no change", "+1 level", "−2 levels" (Danish: "niveau(er)"), with
    a typographic minus as on the axes."""
    return {
        int(s): text("no_change", language)
        if s == 0
        else text("level_steps" if abs(s) > 1 else "level_step", language, step=f"{int(s):+d}".replace("-", "\u2212"))
        for s in steps
    }


def number(formatted: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A number formatted the English way ("1,234.5") in ``language``: Danish swaps the two marks ("1.234,5")."""
    check_language(language)
    if language == "da":
        return str(formatted).translate(str.maketrans({",": ".", ".": ","}))
    return str(formatted)


def percent(share: float, language: str = DEFAULT_LANGUAGE, digits: int = 0) -> str:
    """A share as a per cent: "80%" in English, "80 %" in Danish."""
    value = number(f"{share * 100:.{digits}f}", language)
    return f"{value} %" if language == "da" else f"{value}%"


def localize_ticks(ax, language: str = DEFAULT_LANGUAGE) -> None:
    """Danish decimal commas on the axes' plain number ticks (matplotlib's default formatter)."""
    if check_language(language) == "en":
        return
    from matplotlib.ticker import ScalarFormatter

    class DanishScalarFormatter(ScalarFormatter):
        def __call__(self, x, pos=None):
            return number(super().__call__(x, pos), "da")

    for axis in (ax.xaxis, ax.yaxis):
        if type(axis.get_major_formatter()) is ScalarFormatter:
            axis.set_major_formatter(DanishScalarFormatter())


def entries(language: str) -> dict[str, str]:
    """Every text of ``language`` by key (the tests compare a figure's texts with these)."""
    check_language(language)
    return {key: entry[language] for key, entry in TEXTS.items()}
