"""Every LaTeX regression table compiles in a plain article with pdflatex and with lualatex (Debian's TeX Live,
installed by .ci/run), with the documented preamble ``tables.LATEX_PREAMBLE``: no error, no character lost (æ ø å,
α, χ², ≤, −), no table wider than the text block. The tables are those the pipeline writes (notebook 03's per-round,
change and ordinal tables, notebook 04's two-way fixed-effects table), built by the same helpers from the example
data; the .tex files of a real `make run` are compiled as well when there are any."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from helpers.core import paths
from helpers.outputs import tables

ENGINES = ("pdflatex", "lualatex")
# \tracinglostchars=3 makes a character missing from the font an error in both engines (TeX Live 2021 and later):
# lualatex without fontspec drops æ silently otherwise.
STRICT = "\\tracinglostchars=3\n"


def _engine(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} not installed: .ci/run installs TeX Live (texlive-latex-base, texlive-luatex, ...)")
        pytest.skip(f"{name} not installed (apt-get install texlive-latex-recommended texlive-luatex lmodern)")
    return found


def compile_tables(engine: str, texs: list[Path], folder: Path) -> tuple[str, Path]:
    """One article that inputs every table in ``texs``, compiled with ``engine``; returns its log and PDF."""
    body = "\n\\clearpage\n".join(f"\\input{{{t.resolve().as_posix()}}}" for t in texs)
    doc = folder / f"tables_{engine}.tex"
    doc.write_text(
        tables.LATEX_PREAMBLE + STRICT + "\\begin{document}\n" + body + "\n\\end{document}\n", encoding="utf-8"
    )
    done = subprocess.run(
        [_engine(engine), "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = (folder / f"tables_{engine}.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, f"{engine} failed:\n{log[-3000:]}"
    return log, folder / f"tables_{engine}.pdf"


@pytest.fixture(scope="module")
def pipeline_tables(tmp_path_factory) -> list[Path]:
    """The .tex tables of notebooks 03 and 04 as the pipeline writes them (tables.save), from the example rounds."""
    from helpers.analysis import adoption, models
    from helpers.data import survey
    from helpers.running import pipeline

    base = tmp_path_factory.mktemp("latex")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BORGERSERVICE_PROCESSED", str(base / "processed"))
        mp.setenv("BORGERSERVICE_REPORTS", str(base / "reports"))
        rounds = pipeline.load_rounds()
        for year in (2009, 2011, 2014):
            survey.clean_to_files(year, rounds[year]["input_path"], rounds[year]["codebook"])
        ordering = "5<1<2<3<4"
        inputs = models.model_inputs([2009, 2011], "loans", "real")
        fits = models.fit_rounds(inputs, ordering)
        change = models.change_between(inputs, ordering)
        ordinal = models.fit_ordinal(inputs.frames_with_flagged[2011], ordering, year=2011)
        written = []
        for name, table in tables.model_usage_tables(fits, change, ordinal).named("loans_2009_2011").items():
            written += tables.save(table, name, synthetic=True)
        spec = adoption.Specification(rounds=(2009, 2011, 2014), estimator="twfe")
        estimates = adoption.estimate(adoption.build_panel(spec.panel), spec.estimation)
        written += tables.save(
            tables.adoption_twfe_table(estimates, spec.panel), f"model_table_twfe_{spec.tag}", synthetic=True
        )
        written += tables.save(_symbols_table(), "model_table_symbols", synthetic=False)
    return [p for p in written if p.suffix == ".tex"]


def _symbols_table() -> tables.RegressionTable:
    """Five models side by side with every symbol and letter the tables may print in titles, rows and notes."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"model": np.tile([5, 1, 2, 3, 4], 20), "population": rng.integers(10_000, 100_000, 100)})
    df["y"] = rng.poisson(df["population"] * 0.005 * df["model"].map({5: 1.0, 1: 1.1, 2: 1.2, 3: 1.2, 4: 1.3}))
    fit = smf.glm(
        "y ~ C(model, Treatment(reference=5))", data=df, family=sm.families.Poisson(), exposure=df["population"]
    )
    res = fit.fit()
    return tables.regression_table(
        {f"model {k} (Ærø, Ødsted, Århus)": res for k in range(5)},
        title="Den spæde start: α, χ², ≤ −1, ≥ +1, 95 % & 100 $ #1 x_y ~ ^ {} 2009–2014 — æ ø å Æ Ø Å é ü ±×→·",
        notes=["Notes: θ = 1/α; event time \u2264 \u22123 (binned)."],
    )


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_every_table_compiles_keeps_its_letters_and_fits_the_text_block(pipeline_tables, engine, tmp_path):
    from pypdf import PdfReader

    assert len(pipeline_tables) == 6  # 2 rounds, change, ordinal, two-way fixed effects, the symbols table
    log, pdf = compile_tables(engine, pipeline_tables, tmp_path)
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
    assert "Missing character" not in log
    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    words = " ".join(text.split())
    assert "Den spæde start" in words and "Århus" in words and "Ødsted" in words  # Danish letters kept
    assert "baseline rate (reference categories)" in words  # the constant of a rate model is named what it is
    if engine == "lualatex":  # OpenType fonts map every glyph back to Unicode: the symbols are in the text
        assert "α" in text and "χ" in text and "≤" in text


@pytest.mark.parametrize("engine", ENGINES)
def test_the_tables_of_a_run_compile(engine, tmp_path):
    """The .tex files of the project's own last `make run` (skipped when there are none)."""
    texs = sorted((paths.root() / "reports" / "tables").rglob("*.tex"))
    if not texs:
        pytest.skip("no reports/tables/**/*.tex: run `make run` first")
    log, _ = compile_tables(engine, texs, tmp_path)
    assert "Overfull \\hbox" not in log


def test_latex_text_escapes_and_refuses_what_it_cannot_print():
    assert tables.latex_text("Pearson χ²/df -407.2 in 2009-2011, 95 % x_y") == (
        "Pearson $\\chi$\\textsuperscript{2}/df $-$407.2 in 2009-2011, 95 \\% x\\_y"
    )
    assert tables.latex_text("[-0.5, -1.2]") == "[$-$0.5, $-$1.2]" and tables.latex_text("æøå") == "æøå"
    with pytest.raises(ValueError, match=r"no LaTeX macro for '☃' \(U\+2603\)"):
        tables.latex_text("snow ☃")


def test_word_tables_are_a4_and_wide_ones_landscape(tmp_path):
    import docx

    table = _symbols_table()
    table.docx(tmp_path / "wide.docx")
    page = docx.Document(str(tmp_path / "wide.docx")).sections[0]
    assert (round(page.page_width.mm), round(page.page_height.mm)) == (297, 210)  # five models: landscape A4
    narrow = tables.regression_table({"one": _one_fit()}, title="narrow")
    narrow.docx(tmp_path / "narrow.docx")
    page = docx.Document(str(tmp_path / "narrow.docx")).sections[0]
    assert (round(page.page_width.mm), round(page.page_height.mm)) == (210, 297)  # A4, not US Letter


def _one_fit():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=50)})
    df["y"] = df["x"] + rng.normal(size=50)
    return smf.ols("y ~ x", data=df).fit()
