"""Regression tables in the usual layout, written as CSV (full precision), HTML, LaTeX and Word.

One column per model; per term the estimate (incidence-rate ratio, or coefficient) with its 95 %
interval beneath; then which controls are in, N, dispersion, fit statistics, and the type of the
standard errors as the fit itself reports it (``models.covariance_label``), so a relabelled
covariance shows up here without an edit.

statsmodels fits are read as notebook 03's typed fits (``helpers.analysis.models``: NegBinFit,
PoissonHC3Fit, ChangeFit, OrdinalFit) or as bare statsmodels results: estimates, standard errors,
p-values and intervals from the fit (a typed fit's from the covariance it carries, e.g. the true
HC3 of the Poisson check, or the negative binomial's Cox-Reid t intervals), the NB dispersions
from ``NegBinFit.alpha`` (ML) and ``alpha_cox_reid``, the reference distribution of the intervals
(``models.interval_label``), the Pearson statistic, R² and AIC from the statsmodels result inside.
With ``family``, the CSV has the Holm and Benjamini-Hochberg adjusted p-values of each fit's
family of tests beside the raw ones. :func:`model_usage_tables` builds notebook 03's tables.

Layout and HTML/LaTeX come from great_tables (Posit's table library, MIT); Word from python-docx.
great_tables writes no .docx, and statsmodels' ``summary_col`` neither exponentiates nor shows
intervals, so the cells are built here from the fits and handed to those two writers.

pyfixest fits (``feols``/``fepois``, notebook 04's PPML two-way fixed-effects models) are read
through :class:`FixestFit`: estimates, standard errors, p-values and intervals from ``fit.tidy()``
(pyfixest's own: **normal (z)** for ``fepois`` and ``feglm``, t with the fit's ``_df_t`` degrees of
freedom for ``feols``, as pyfixest's ``get_inference`` decides by the fit's ``_method``; the column
``Pr(>|t|)`` keeps its name either way, so the label says which), N
from ``_N``, the covariance as pyfixest records it (``_vcov_type_detail``, ``_clustervar``), the
fixed effects as yes/no rows, the log-likelihood and deviance (both equal statsmodels' Poisson GLM
with the fixed effects as dummies). pyfixest's ``_pseudo_r2`` is not shown: its null model is a
constant *without* the offset (tests/test_tables.py checks), so with log population as offset it
credits the model with explaining population size (in one test panel 0.94, where McFadden's R²
against the offset-only null is 0.14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import files, paths
from helpers.core.cooperation import SHORT_NAMES

# Controls are shown as yes/no rows, not as coefficients: label -> prefix of their parameter names.
CONTROLS = {"kommunegruppe (Statistics Denmark)": "C(kommunegruppe)", "merged in the 2007 reform": "merged_2007"}
ORDINAL_CONTROLS = {"kommunegruppe (Statistics Denmark)": "kommunegruppe_", "merged in the 2007 reform": "merged_2007"}
FIT_ROWS = (
    "N",
    "clusters",
    "NB dispersion \u03b1",
    "NB dispersion \u03b1 (Cox-Reid)",
    "Pearson \u03c7\u00b2/df",
    "log-likelihood",
    "deviance",
    "AIC",
    "R\u00b2",
    "standard errors",
    "intervals",
)
# The cooperation terms of a count model: one family of tests (helpers.analysis.models.FAMILY_IN_WORDS)
COOPERATION_FAMILY = r"^C\(model|^score$|^d_score$"
# The event-time dummies of one TWFE event study (notebook 04, ``pre4`` ... ``post8``): one family of tests
EVENT_TIME_FAMILY = r"^(?:pre|post)\d+$"
# Fixed effects (pyfixest's ``| a + b``) are shown as yes/no rows: variable -> label.
FIXED_EFFECTS = {"kommunekode": "kommune (library unit)", "year": "year"}
# The constant of a model of rates with an exposure, exponentiated, is not a ratio but the rate of the reference
# categories (no cooperation, the reference kommunegruppe, not merged): a row and section of its own.
CONSTANTS = ("Intercept", "const")
BASELINE_ROW = "baseline rate (reference categories)"
BASELINE_NOTE = (
    "The baseline is exp(constant): the rate per unit of exposure (per inhabitant when the exposure is the "
    "population) in the reference categories of every term; the rows below it are ratios to it."
)
WORD_PORTRAIT_MODELS = 3  # a Word table of more models is set on a landscape A4 page


# The preamble the .tex tables are written for (README, *Regression tables*): a plain article compiles every table
# with pdflatex (T1 fonts and Latin Modern print æ ø å) and with lualatex (fontspec's Latin Modern OpenType; without
# it lualatex silently drops æ ø å). Debian: texlive-latex-base, texlive-latex-recommended, texlive-fonts-recommended,
# lmodern, and texlive-luatex for lualatex. tests/test_tables_latex.py compiles every table kind with both engines.
LATEX_PREAMBLE = r"""\documentclass[a4paper]{article}
\usepackage{iftex}
\ifPDFTeX
  \usepackage[T1]{fontenc}
  \usepackage[utf8]{inputenc}
  \usepackage{lmodern}
\else
  \usepackage{fontspec}
\fi
\usepackage{booktabs}
\usepackage{caption}
\usepackage{graphicx}
"""
# Characters the tables use that LaTeX's text fonts do not have, as macros that print them with either engine.
LATEX_SYMBOLS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\u03b1": r"$\alpha$",
    "\u03b8": r"$\theta$",
    "\u03c7": r"$\chi$",
    "\u00b2": r"\textsuperscript{2}",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u2212": r"$-$",
    "\u00b1": r"$\pm$",
    "\u00d7": r"$\times$",
    "\u2192": r"$\rightarrow$",
    "\u2013": "--",
    "\u2014": "---",
    "\u00a0": "~",
    "\u00b7": r"\textperiodcentered{}",
}
_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")  # a minus sign written as a hyphen before a number: "-407.2"


def latex_text(text: str) -> str:
    """``text`` for LaTeX: special characters escaped and symbols as macros (:data:`LATEX_SYMBOLS`); a hyphen
    before a number is a minus. Letters (æ ø å) stay as they are. Raises ValueError naming a character outside
    Latin-1 that has no macro here, so a new symbol cannot reach a .tex file that would not compile."""
    text = _NEGATIVE.sub("\u2212", str(text))
    out = "".join(LATEX_SYMBOLS.get(ch, ch) for ch in text)
    unknown = sorted({ch for ch in text if ord(ch) > 0xFF and ch not in LATEX_SYMBOLS})
    if unknown:
        raise ValueError(
            f"no LaTeX macro for {', '.join(f'{c!r} (U+{ord(c):04X})' for c in unknown)} in {text!r}; "
            "add it to helpers.outputs.tables.LATEX_SYMBOLS"
        )
    return out


@dataclass(frozen=True, eq=False)
class FixestFit:
    """A pyfixest fit as :func:`regression_table` reads it (the statsmodels attributes it uses, and the rest).

    Fields: ``params`` (estimates by term), ``bse``, ``pvalues``, ``ci`` (95 % interval, one row per term),
    ``nobs``, ``llf`` and ``deviance`` (NaN when the fit has none), ``fixed_effects`` and ``clustervar`` (variable
    names), ``clusters`` (G, None when not clustered), ``df_t`` (the fit's t degrees of freedom), ``vcov_type``
    (pyfixest's name of the covariance, e.g. "CRV1"), ``distribution`` of the intervals and p-values ("z" for a
    Poisson or other GLM fit, "t" for OLS, as pyfixest computes them).

    Made by :meth:`read` from the fit, and only there: ``tidy()`` for the estimates and intervals, ``_N``,
    ``_G``, ``_vcov_type_detail``/``_clustervar``, ``_fixef``, ``_loglik``, ``deviance``, ``_df_t``. pyfixest has
    no public accessor for N, the clusters or the covariance type (``summary`` prints them from the same
    attributes), hence the underscores; a pyfixest release that renames them fails tests/test_tables.py rather
    than giving a wrong table. The fit itself is only read.
    """

    params: pd.Series
    bse: np.ndarray
    pvalues: np.ndarray
    ci: np.ndarray
    nobs: int
    llf: float
    deviance: float
    fixed_effects: tuple[str, ...]
    clustervar: tuple[str, ...]
    clusters: int | None
    df_t: int
    vcov_type: str
    distribution: str = "t"

    @classmethod
    def read(cls, fit) -> FixestFit:
        """Read a pyfixest fit (``feols``/``fepois``), or a result holding one as ``fit`` (the adoption fits)."""
        fit = _fixest_of(fit)
        tidy = fit.tidy()
        params = tidy["Estimate"].astype(float)
        params.index = [str(i) for i in tidy.index]
        fixef = getattr(fit, "_fixef", None)
        clustervar = tuple(getattr(fit, "_clustervar", None) or ())
        loglik = getattr(fit, "_loglik", None)
        deviance = getattr(fit, "deviance", None)
        return cls(
            params=params,
            bse=tidy["Std. Error"].to_numpy(float),
            pvalues=tidy["Pr(>|t|)"].to_numpy(float),
            ci=tidy[["2.5%", "97.5%"]].to_numpy(float),
            nobs=int(fit._N),
            llf=float(loglik) if loglik is not None else np.nan,
            deviance=float(np.asarray(deviance).squeeze()) if deviance is not None else np.nan,
            fixed_effects=tuple(v.strip() for v in fixef.split("+")) if fixef and fixef != "0" else (),
            clustervar=clustervar,
            clusters=int(np.min(fit._G)) if clustervar and len(getattr(fit, "_G", [])) else None,
            df_t=int(fit._df_t),
            vcov_type=str(fit._vcov_type_detail),
            distribution="z" if str(getattr(fit, "_method", "feols")).startswith(("fepois", "feglm")) else "t",
        )

    def conf_int(self):
        return self.ci

    @property
    def interval_words(self) -> str:
        """What the intervals and p-values are: "normal (z)" or "t with 35 df"."""
        return "normal (z)" if self.distribution == "z" else f"t with {self.df_t} df"

    @property
    def covariance(self) -> str:
        interval = f"(pyfixest; intervals and p-values {self.interval_words})"
        if self.clustervar:
            return f"{self.vcov_type} clustered by {', '.join(self.clustervar)} {interval}"
        names = {"iid": "model-based (iid)", "hetero": "heteroskedasticity-robust (HC1)"}
        return f"{names.get(self.vcov_type, self.vcov_type)} {interval}"


def _fixest_of(result):
    """The pyfixest fit ``result`` is or holds as ``fit`` (``adoption.EventStudy``, ``adoption.StaticFit``), or None."""
    for candidate in (result, getattr(result, "fit", None)):
        if type(candidate).__module__.startswith("pyfixest"):
            return candidate
    return None


def _is_fixest(result) -> bool:
    return _fixest_of(result) is not None


def _adapt(result):
    return FixestFit.read(result) if _is_fixest(result) else result


def term_label(term: str) -> str:
    """A readable name for a parameter: model codes get their names, internal prefixes go."""
    if "[T." in term and term.startswith("C(model"):
        m = int(term.split("[T.")[1].rstrip("]"))
        return f"model {m} ({SHORT_NAMES[m]})"
    event = re.fullmatch(r"(pre|post)(\d+)", term)  # helpers.analysis.adoption's event-time dummies
    if event:
        k = int(event.group(2))
        sign = "\u2212" if event.group(1) == "pre" else "+" if k else ""
        return f"event time {sign}{k}"
    return {
        "treated_a": "adopted (static: one effect for all years from adoption)",
        "score": "cooperation score (per level)",
        "Intercept": "constant",
        "const": "constant",
        "d_score": "change in cooperation score",
        "log_population_vs_50000": "log population (vs 50,000)",
    }.get(term, term)


def event_time_labels(window) -> dict[str, str]:
    """Labels of the event-time dummies of ``window`` (lo, hi) whose endpoints bin all earlier/later years."""
    lo, hi = int(window[0]), int(window[1])
    return {f"pre{-lo}": f"event time \u2264 \u2212{-lo} (binned)", f"post{hi}": f"event time \u2265 +{hi} (binned)"}


def adoption_twfe_table(estimates, spec, wild: dict | None = None) -> RegressionTable:
    """Notebook 04's two-way fixed-effects Poisson fits side by side, as rate ratios: the static effect and the
    event study of ``estimates`` (``adoption.Estimates``), titled with the treatment and rounds of ``spec``
    (``adoption.PanelSpec``); the notes state the estimand in words and, given ``wild`` (``adoption.twfe_wild``),
    the wild score bootstrap interval of the static effect beside its CRV1 one."""
    from helpers.analysis.adoption import ESTIMANDS
    from helpers.results.adoption import TREATMENT_WORDS

    event = estimates.twfe
    extra = [f"Estimand: {ESTIMANDS['twfe']}."]
    if wild and "static" in wild:
        w = wild["static"]
        r = w.table.iloc[0]
        extra.append(
            f"Few clusters: the {w.method}, gives the static effect a 95 % interval of "
            f"[{np.exp(r['low_wild']):.3f}, {np.exp(r['high_wild']):.3f}] (rate ratio) and p = {r['p_wild']:.3f}, "
            f"against CRV1 [{np.exp(r['low']):.3f}, {np.exp(r['high']):.3f}], p = {r['p']:.3f}."
        )
    return regression_table(
        {"static (one effect)": estimates.static, "event study": event},
        scale="rate ratio",
        family=EVENT_TIME_FAMILY,
        family_words="the event times of the event study",
        term_labels=event_time_labels(event.window),
        title=f"Loans per inhabitant around adoption ({TREATMENT_WORDS[spec.treatment]}; "
        f"rounds {', '.join(map(str, spec.rounds))}): two-way fixed-effects Poisson",
        notes=[
            "Poisson (PPML) of the loans count with kommune and year fixed effects and log population as offset: "
            f"rate ratios of loans per inhabitant. Event time {-1 - event.anticipation} (the last year before "
            "adoption) is the reference (rate ratio 1); the endpoints bin all earlier or later years.",
            *extra,
        ],
    )


def covariance_label(result) -> str:
    """The type of standard errors, as the fit reports it."""
    if isinstance(result, FixestFit) or _is_fixest(result):
        return _adapt(result).covariance
    from helpers.analysis.models import covariance_label as label

    return label(result)


def _fit_stats(result) -> dict[str, float | str]:
    stats: dict[str, float | str] = {"N": int(result.nobs)}
    if isinstance(result, FixestFit):
        if result.clusters is not None:
            stats["clusters"] = result.clusters
        if np.isfinite(result.llf):
            stats["log-likelihood"] = result.llf
        if np.isfinite(result.deviance):
            stats["deviance"] = result.deviance
        stats["standard errors"] = result.covariance
        return stats
    from helpers.analysis.models import NegBinFit, interval_label

    fit = getattr(result, "result", result)  # the statsmodels result, inside a typed fit or bare
    if isinstance(result, NegBinFit):
        stats["NB dispersion \u03b1"] = float(result.alpha)
        stats["NB dispersion \u03b1 (Cox-Reid)"] = float(result.alpha_cox_reid)
    if hasattr(fit, "resid_pearson") and hasattr(fit, "df_resid") and hasattr(fit, "family"):
        stats["Pearson \u03c7\u00b2/df"] = float(np.sum(np.asarray(fit.resid_pearson) ** 2) / fit.df_resid)
    if np.isfinite(getattr(fit, "llf", np.nan)):
        stats["log-likelihood"] = float(fit.llf)
    if np.isfinite(getattr(fit, "aic", np.nan)):
        stats["AIC"] = float(fit.aic)
    if hasattr(fit, "rsquared"):
        stats["R\u00b2"] = float(fit.rsquared)
    stats["standard errors"] = covariance_label(result)
    stats["intervals"] = interval_label(result)
    return stats


def _is_threshold(name: str) -> bool:
    return "/" in name  # statsmodels' OrderedModel names its thresholds "5/1", "1/2", ...


@dataclass
class RegressionTable:
    """``tidy``: one row per model and term or statistic, full precision; ``cells``: the display strings."""

    title: str
    tidy: pd.DataFrame
    cells: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def gt(self):
        from great_tables import GT

        t = GT(self.cells, rowname_col="row", groupname_col="section").tab_header(title=self.title)
        for note in self.notes:
            t = t.tab_source_note(note)
        return t

    def html(self) -> str:
        return self.gt().as_raw_html()

    def latex(self, label: str | None = None) -> str:
        """The table as a LaTeX ``table`` float that compiles with pdflatex and lualatex (:data:`LATEX_PREAMBLE`).

        Written here from the same cells as the HTML, not by great_tables' ``as_latex``: that passes Unicode
        through (pdflatex stops on α, χ, ≤ and −; lualatex without fontspec drops them and æ silently) and sets a
        ``tabular*`` of the text width that runs off the page when the columns need more. Here every symbol is a
        LaTeX macro (:func:`latex_text`), Danish letters stay as they are (the preamble makes both engines
        print them), and a table wider than the text block is scaled down to its width (graphicx). ``label``:
        ``\\label`` of the caption (``tab:<label>``).
        """
        models = [c for c in self.cells.columns if c not in ("section", "row")]
        ncol = 1 + len(models)
        lines = [
            f"% {latex_text(self.title)}",
            "% Written by helpers.outputs.tables. Needs booktabs, caption and graphicx; the preamble for pdflatex",
            "% and lualatex is helpers.outputs.tables.LATEX_PREAMBLE (README, Regression tables).",
            "\\begin{table}[htbp]",
            "\\centering",
            f"\\caption{{{latex_text(self.title)}}}" + (f"\\label{{tab:{label}}}" if label else ""),
            "\\small",
            "\\ifdefined\\borgerservicetablebox\\else\\newsavebox{\\borgerservicetablebox}\\fi",
            "\\sbox{\\borgerservicetablebox}{%",
            f"\\begin{{tabular}}{{l{'c' * len(models)}}}",
            "\\toprule",
            " & ".join(["", *(latex_text(m) for m in models)]) + " \\\\",
        ]
        section = None
        for _, r in self.cells.iterrows():
            if r["section"] != section:
                section = r["section"]
                lines.append("\\midrule")
                lines.append(f"\\multicolumn{{{ncol}}}{{l}}{{\\textit{{{latex_text(section)}}}}} \\\\")
            lines.append(" & ".join(latex_text(str(v)) for v in [r["row"], *(r[m] for m in models)]) + " \\\\")
        lines += [
            "\\bottomrule",
            "\\end{tabular}}%",
            "\\ifdim\\wd\\borgerservicetablebox>\\linewidth",
            "\\resizebox{\\linewidth}{!}{\\usebox{\\borgerservicetablebox}}%",
            "\\else\\usebox{\\borgerservicetablebox}\\fi",
        ]
        if self.notes:
            lines += ["", "\\smallskip", "\\begin{minipage}{\\linewidth}\\footnotesize"]
            lines += [f"{latex_text(n)}\\par" for n in self.notes]
            lines.append("\\end{minipage}")
        lines.append("\\end{table}")
        return "\n".join(lines) + "\n"

    def docx(self, target: Path) -> None:
        import docx
        from docx.enum.section import WD_ORIENT
        from docx.shared import Mm, Pt

        doc = docx.Document()
        models = [c for c in self.cells.columns if c not in ("section", "row")]
        page = doc.sections[0]  # python-docx's template is US Letter: A4, landscape for more than three models
        landscape = len(models) > WORD_PORTRAIT_MODELS
        page.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        page.page_width, page.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
        page.left_margin = page.right_margin = page.top_margin = page.bottom_margin = Mm(20)
        doc.add_heading(self.title, level=2)
        table = doc.add_table(rows=1, cols=1 + len(models))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ["", *models], strict=False):
            cell.text = text
            cell.paragraphs[0].runs[0].bold = True
        section = None
        for _, r in self.cells.iterrows():
            if r["section"] != section:
                section = r["section"]
                row = table.add_row().cells
                merged = row[0].merge(row[-1])
                merged.text = section
                merged.paragraphs[0].runs[0].italic = True
            row = table.add_row().cells
            for cell, text in zip(row, [r["row"], *[r[m] for m in models]], strict=False):
                cell.text = str(text)
        for row in table.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(9)
        for note in self.notes:
            doc.add_paragraph(note).runs[0].font.size = Pt(8)
        doc.save(str(target))


def _fmt(x: float, digits: int) -> str:
    return "" if x is None or not np.isfinite(x) else f"{x:,.{digits}f}"


def regression_table(
    fits: dict,
    *,
    title: str,
    exponentiate: bool = True,
    controls: dict[str, str] = CONTROLS,
    cut_points: dict[str, pd.Series] | None = None,
    digits: int = 3,
    notes: list[str] | None = None,
    term_labels: dict[str, str] | None = None,
    fixed_effects: dict[str, str] = FIXED_EFFECTS,
    scale: str | None = None,
    family: str | None = None,
    family_words: str = "the cooperation terms of one model",
) -> RegressionTable:
    """A table of several fits (dict name -> statsmodels result or pyfixest fit) side by side.

    ``exponentiate``: show exp(coefficient) and its interval (IRR for count models, odds ratio for
    logits); otherwise the coefficient. Parameters matching a ``controls`` prefix are summarised as
    yes/no rows, and so are a pyfixest fit's fixed effects (``fixed_effects``: variable -> label).
    ``cut_points`` (fit name -> series) adds an ordinal model's cut points, which are shown on their
    own scale without intervals. ``term_labels`` (parameter -> label) overrides :func:`term_label`;
    ``scale`` names the exponentiated estimate (default "IRR"). ``family``: a regular expression of
    the parameter names that form one family of tests in each fit (e.g. :data:`COOPERATION_FAMILY`);
    the tidy table then has their Holm (``p_holm``) and Benjamini-Hochberg (``p_bh``) adjusted
    p-values beside the raw ``p_value`` (``helpers.analysis.multiplicity``; NaN for the other terms);
    ``family_words`` says in the notes what the family is.
    """
    fits = {name: _adapt(res) for name, res in fits.items()}
    labels = term_labels or {}
    rows, stats = [], {}
    for name, res in fits.items():
        ci = np.asarray(res.conf_int())
        params = pd.Series(np.asarray(res.params), index=list(res.params.index))
        bse = np.asarray(res.bse)
        pvalues = np.asarray(res.pvalues)
        for i, term in enumerate(params.index):
            if _is_threshold(term):
                continue
            control = next((label for label, prefix in controls.items() if term.startswith(prefix)), None)
            coef = float(params.iloc[i])
            baseline = exponentiate and term in CONSTANTS
            rows.append(
                {
                    "model": name,
                    "term": BASELINE_ROW if baseline else labels.get(term, term_label(term)),
                    "parameter": term,
                    "control": control,
                    "coefficient": coef,
                    "std_error": float(bse[i]),
                    "ci_low": float(ci[i][0]),
                    "ci_high": float(ci[i][1]),
                    "p_value": float(pvalues[i]),
                    "estimate": float(np.exp(coef)) if exponentiate else coef,
                    "estimate_low": float(np.exp(ci[i][0])) if exponentiate else float(ci[i][0]),
                    "estimate_high": float(np.exp(ci[i][1])) if exponentiate else float(ci[i][1]),
                }
            )
        for label, value in (cut_points or {}).get(name, pd.Series(dtype=float)).items():
            rows.append(
                {
                    "model": name,
                    "term": f"cut point {label}",
                    "parameter": f"cut {label}",
                    "control": None,
                    "coefficient": float(value),
                    "estimate": float(value),
                }
            )
        stats[name] = _fit_stats(res)
    est = pd.DataFrame(rows)
    if family is not None:
        est = _adjust_families(est, family, family_words)
    names = list(fits)
    # tidy: estimates, then fit statistics, one row per model and statistic
    fit_rows = [
        {
            "model": n,
            "term": k,
            "statistic": v if isinstance(v, str) else np.nan,
            "estimate": v if not isinstance(v, str) else np.nan,
        }
        for n in names
        for k, v in stats[n].items()
    ]
    fit_rows += [
        {"model": n, "term": f"fixed effects: {fixed_effects.get(v, v)}", "statistic": "yes", "estimate": np.nan}
        for n in names
        for v in getattr(fits[n], "fixed_effects", [])
    ]
    tidy = pd.concat([est.assign(kind="estimate"), pd.DataFrame(fit_rows).assign(kind="fit")], ignore_index=True)

    scale = (scale or "IRR") if exponentiate else "coefficient"
    cells = []
    shown = est[est["control"].isna()]
    for term in dict.fromkeys(shown["term"]):
        sub = shown[shown["term"] == term].set_index("model")
        if term.startswith("cut point"):
            section = "cut points (logit scale)"
        elif term == BASELINE_ROW:
            section = "baseline [95 % interval]"
        else:
            section = f"{scale} [95 % interval]"
        cells.append(
            {
                "section": section,
                "row": term,
                **{n: _fmt(sub["estimate"].get(n, np.nan), digits) if n in sub.index else "" for n in names},
            }
        )
        if not term.startswith("cut point"):
            cells.append(
                {
                    "section": section,
                    "row": "",
                    **{
                        n: f"[{_fmt(sub.loc[n, 'estimate_low'], digits)}, {_fmt(sub.loc[n, 'estimate_high'], digits)}]"
                        if n in sub.index
                        else ""
                        for n in names
                    },
                }
            )
    for label in controls:
        has = {n: bool(((est["model"] == n) & (est["control"] == label)).any()) for n in names}
        if any(has.values()):
            cells.append({"section": "controls", "row": label, **{n: "yes" if has[n] else "no" for n in names}})
    used = {n: getattr(fits[n], "fixed_effects", []) for n in names}
    for var in dict.fromkeys(v for n in names for v in used[n]):
        cells.append(
            {
                "section": "fixed effects",
                "row": fixed_effects.get(var, var),
                **{n: "yes" if var in used[n] else "no" for n in names},
            }
        )
    for stat in FIT_ROWS:
        if any(stat in stats[n] for n in names):
            cells.append({"section": "fit", "row": stat, **{n: _stat_text(stats[n].get(stat)) for n in names}})
    se_note = "; ".join(
        f"{n}: {stats[n]['standard errors']}"
        + (f", intervals {stats[n]['intervals']}" if "intervals" in stats[n] else "")
        for n in names
    )
    all_notes = [f"{scale}s with 95 % confidence intervals in brackets. Standard errors: {se_note}."]
    if family is not None:
        all_notes.append(
            f"The CSV gives each p-value raw and adjusted within its family ({family_words}): "
            "Holm (familywise error) and Benjamini-Hochberg (false discovery rate)."
        )
    if (est["term"] == BASELINE_ROW).any():
        all_notes.append(BASELINE_NOTE)
    all_notes += notes or []
    return RegressionTable(title, tidy, pd.DataFrame(cells), all_notes)


def _adjust_families(est: pd.DataFrame, family: str, words: str = "the cooperation terms of one model") -> pd.DataFrame:
    """``est`` with ``p_holm`` and ``p_bh``: each fit's terms matching ``family`` adjusted as one family."""
    from helpers.analysis import multiplicity

    est = est.assign(p_holm=np.nan, p_bh=np.nan)
    member = est["parameter"].str.contains(family) & est["p_value"].notna()
    for name, rows in est[member].groupby("model", sort=False):
        adjusted = multiplicity.adjust(rows["p_value"], f"{words}: {name}").table
        est.loc[rows.index, ["p_holm", "p_bh"]] = adjusted[["p_holm", "p_bh"]].to_numpy()
    return est


def _stat_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.split(" (")[0]  # the short name; the note gives the full description
    if isinstance(value, (int, np.integer)) or float(value).is_integer() and abs(value) > 10:
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def mark(table: RegressionTable, synthetic: bool) -> RegressionTable:
    """The table with the synthetic mark in its title and notes when ``synthetic`` (as :func:`save` writes it)."""
    from helpers.outputs.reports import SYNTHETIC_MARK

    if not synthetic or SYNTHETIC_MARK in table.title:
        return table
    return RegressionTable(f"{table.title} [{SYNTHETIC_MARK}]", table.tidy, table.cells, [*table.notes, SYNTHETIC_MARK])


def save(table: RegressionTable, name: str, *, synthetic: bool) -> list[Path]:
    """Write ``reports/tables/<name>[_synthetic]`` as .csv (tidy, full precision), .html, .tex and .docx."""
    from helpers.outputs.reports import output_stem

    stem = output_stem(name, synthetic=synthetic)
    table = mark(table, synthetic)
    folder = paths.tables()
    out = [files.write_csv(folder / f"{stem}.csv", table.tidy.assign(synthetic=bool(synthetic)), index=False)]
    out.append(files.write_text(folder / f"{stem}.html", table.html()))
    out.append(files.write_text(folder / f"{stem}.tex", table.latex(label=stem)))
    target = folder / f"{stem}.docx"
    with files.atomic_path(target) as tmp:
        table.docx(tmp)
    out.append(target)
    return out


@dataclass(frozen=True)
class ModelUsageTables:
    """Notebook 03's regression tables.

    ``rounds``: per survey round, its three count models side by side; ``change``: the
    first-difference model; ``ordinal``: the ordinal logit with its cut points.
    """

    rounds: dict[int, RegressionTable]
    change: RegressionTable
    ordinal: RegressionTable

    def named(self, tag: str) -> dict[str, RegressionTable]:
        """The tables by file name (``model_table_<tag>_<round>``, ``model_table_change_<tag>``,
        ``model_table_ordinal_<tag>``)."""
        return {
            **{f"model_table_{tag}_{year}": t for year, t in self.rounds.items()},
            f"model_table_change_{tag}": self.change,
            f"model_table_ordinal_{tag}": self.ordinal,
        }


def model_usage_tables(fits, change, ordinal) -> ModelUsageTables:
    """The tables of notebook 03 from its typed fits: ``fits`` (``models.fit_rounds``), ``change``
    (``models.fit_change``, with its rounds) and ``ordinal`` (``models.fit_ordinal``, with its round)."""
    outcome = fits.outcome
    rounds = {
        year: regression_table(
            r.fits,
            title=f"{outcome.capitalize()} per inhabitant by cooperation model, survey {year} (usage {r.usage_year})",
            family=COOPERATION_FAMILY,
        )
        for year, r in fits.rounds.items()
    }
    change_table = regression_table(
        {"first difference": change},
        exponentiate=False,
        family=COOPERATION_FAMILY,
        title=f"Change in log {outcome} per inhabitant, {change.first} to {change.last}",
    )
    ordinal_table = regression_table(
        {"ordinal logit": ordinal},
        exponentiate=False,
        controls=ORDINAL_CONTROLS,
        cut_points={"ordinal logit": ordinal.cut_points["cut point"]},
        title=f"Cooperation level ({ordinal.ordering}), survey {ordinal.year}: ordinal logit",
    )
    return ModelUsageTables(rounds, change_table, ordinal_table)
