"""Regression tables in the usual layout, written as CSV (full precision), HTML, LaTeX and Word.

One column per model; per term the estimate (incidence-rate ratio, or coefficient) with its 95 %
interval beneath; then which controls are in, N, dispersion, fit statistics, and the type of the
standard errors as the fit itself reports it (``models.covariance_label`` when the models module
has it, else the fit's ``cov_type``), so a relabelled covariance shows up here without an edit.

Layout and HTML/LaTeX come from great_tables (Posit's table library, MIT); Word from python-docx.
great_tables writes no .docx, and statsmodels' ``summary_col`` neither exponentiates nor shows
intervals, so the cells are built here from the fits and handed to those two writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import files, paths
from .cooperation import SHORT_NAMES

# Controls are shown as yes/no rows, not as coefficients: label -> prefix of their parameter names.
CONTROLS = {"kommunegruppe (Statistics Denmark)": "C(kommunegruppe)", "merged in the 2007 reform": "merged_2007"}
ORDINAL_CONTROLS = {"kommunegruppe (Statistics Denmark)": "kommunegruppe_", "merged in the 2007 reform": "merged_2007"}
FIT_ROWS = ("N", "NB dispersion \u03b1", "Pearson \u03c7\u00b2/df", "log-likelihood", "AIC", "R\u00b2", "standard errors")


def term_label(term: str) -> str:
    """A readable name for a parameter: model codes get their names, internal prefixes go."""
    if "[T." in term and term.startswith("C(model"):
        m = int(term.split("[T.")[1].rstrip("]"))
        return f"model {m} ({SHORT_NAMES[m]})"
    return {"score": "cooperation score (per level)", "Intercept": "constant", "const": "constant",
            "d_score": "change in cooperation score", "log_population_vs_50000": "log population (vs 50,000)"}.get(term, term)


def covariance_label(result) -> str:
    """The type of standard errors, as the fit reports it."""
    from . import models

    label = getattr(models, "covariance_label", None)
    if label is not None:
        return label(result)
    kind = getattr(result, "cov_type", "nonrobust")
    return "model-based" if kind == "nonrobust" else str(kind)


def _fit_stats(result) -> dict[str, float | str]:
    stats: dict[str, float | str] = {"N": int(result.nobs)}
    alpha = getattr(result, "alpha", None)
    if alpha is not None:
        stats["NB dispersion \u03b1"] = float(alpha)
    if hasattr(result, "resid_pearson") and hasattr(result, "df_resid") and hasattr(result, "family"):
        stats["Pearson \u03c7\u00b2/df"] = float(np.sum(np.asarray(result.resid_pearson) ** 2) / result.df_resid)
    if np.isfinite(getattr(result, "llf", np.nan)):
        stats["log-likelihood"] = float(result.llf)
    if np.isfinite(getattr(result, "aic", np.nan)):
        stats["AIC"] = float(result.aic)
    if hasattr(result, "rsquared"):
        stats["R\u00b2"] = float(result.rsquared)
    stats["standard errors"] = covariance_label(result)
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

    def latex(self) -> str:
        return self.gt().as_latex()

    def docx(self, target: Path) -> None:
        import docx
        from docx.shared import Pt

        doc = docx.Document()
        doc.add_heading(self.title, level=2)
        models = [c for c in self.cells.columns if c not in ("section", "row")]
        table = doc.add_table(rows=1, cols=1 + len(models))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ["", *models]):
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
            for cell, text in zip(row, [r["row"], *[r[m] for m in models]]):
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


def regression_table(fits: dict, *, title: str, exponentiate: bool = True, controls: dict[str, str] = CONTROLS,
                     cut_points: dict[str, pd.Series] | None = None, digits: int = 3, notes: list[str] | None = None) -> RegressionTable:
    """A table of several fits (dict name -> statsmodels result) side by side.

    ``exponentiate``: show exp(coefficient) and its interval (IRR for count models, odds ratio for
    logits); otherwise the coefficient. Parameters matching a ``controls`` prefix are summarised as
    yes/no rows. ``cut_points`` (fit name -> series) adds an ordinal model's cut points, which are
    shown on their own scale without intervals.
    """
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
            rows.append({"model": name, "term": term_label(term), "parameter": term, "control": control,
                         "coefficient": coef, "std_error": float(bse[i]), "ci_low": float(ci[i][0]), "ci_high": float(ci[i][1]),
                         "p_value": float(pvalues[i]),
                         "estimate": float(np.exp(coef)) if exponentiate else coef,
                         "estimate_low": float(np.exp(ci[i][0])) if exponentiate else float(ci[i][0]),
                         "estimate_high": float(np.exp(ci[i][1])) if exponentiate else float(ci[i][1])})
        for label, value in (cut_points or {}).get(name, pd.Series(dtype=float)).items():
            rows.append({"model": name, "term": f"cut point {label}", "parameter": f"cut {label}", "control": None,
                         "coefficient": float(value), "estimate": float(value)})
        stats[name] = _fit_stats(res)
    est = pd.DataFrame(rows)
    names = list(fits)
    # tidy: estimates, then fit statistics, one row per model and statistic
    fit_rows = [{"model": n, "term": k, "statistic": v if isinstance(v, str) else np.nan,
                 "estimate": v if not isinstance(v, str) else np.nan} for n in names for k, v in stats[n].items()]
    tidy = pd.concat([est.assign(kind="estimate"), pd.DataFrame(fit_rows).assign(kind="fit")], ignore_index=True)

    scale = "IRR" if exponentiate else "coefficient"
    cells = []
    shown = est[est["control"].isna()]
    for term in dict.fromkeys(shown["term"]):
        sub = shown[shown["term"] == term].set_index("model")
        section = "cut points (logit scale)" if term.startswith("cut point") else f"{scale} [95 % interval]"
        cells.append({"section": section, "row": term, **{n: _fmt(sub["estimate"].get(n, np.nan), digits) if n in sub.index else "" for n in names}})
        if not term.startswith("cut point"):
            cells.append({"section": section, "row": "", **{
                n: f"[{_fmt(sub.loc[n, 'estimate_low'], digits)}, {_fmt(sub.loc[n, 'estimate_high'], digits)}]" if n in sub.index else ""
                for n in names}})
    for label in controls:
        has = {n: bool(((est["model"] == n) & (est["control"] == label)).any()) for n in names}
        if any(has.values()):
            cells.append({"section": "controls", "row": label, **{n: "yes" if has[n] else "no" for n in names}})
    for stat in FIT_ROWS:
        if any(stat in stats[n] for n in names):
            cells.append({"section": "fit", "row": stat, **{n: _stat_text(stats[n].get(stat)) for n in names}})
    se_note = "; ".join(f"{n}: {stats[n]['standard errors']}" for n in names)
    all_notes = [f"{scale}s with 95 % confidence intervals in brackets. Standard errors: {se_note}.", *(notes or [])]
    return RegressionTable(title, tidy, pd.DataFrame(cells), all_notes)


def _stat_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.split(" (")[0]  # the short name; the note gives the full description
    if isinstance(value, (int, np.integer)) or float(value).is_integer() and abs(value) > 10:
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def save(table: RegressionTable, name: str, *, synthetic: bool) -> list[Path]:
    """Write ``reports/tables/<name>[_synthetic]`` as .csv (tidy, full precision), .html, .tex and .docx."""
    from .reports import SYNTHETIC_MARK

    stem = f"{name}_synthetic" if synthetic and not name.endswith("_synthetic") else name
    if synthetic:
        table = RegressionTable(f"{table.title} [{SYNTHETIC_MARK}]", table.tidy, table.cells, [*table.notes, SYNTHETIC_MARK])
    folder = paths.tables()
    out = [files.write_csv(folder / f"{stem}.csv", table.tidy.assign(synthetic=bool(synthetic)), index=False)]
    out.append(files.write_text(folder / f"{stem}.html", table.html()))
    out.append(files.write_text(folder / f"{stem}.tex", table.latex()))
    target = folder / f"{stem}.docx"
    with files.atomic_path(target) as tmp:
        table.docx(tmp)
    out.append(target)
    return out
