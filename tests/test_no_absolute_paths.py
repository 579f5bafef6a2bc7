"""No output names the machine it was made on: the absolute project path appears in no report,
executed notebook, HTML copy, results JSON, table, figure, processed file or export, nor in the
report site and its PDF.

Every notebook of the shipped pipeline runs once (module fixture): the shipped config with the
simulations of notebooks 03 and 04 shortened (which changes how long they take, not what they
write), and of the per-pair and per-round-set runs only those of the last pair of rounds. (All
rounds stay in the config: 05_export_data exports every round of config/pipeline.yaml.) Every file
is searched as bytes, and the formats that compress or encode their text are opened: .docx/.xlsx
(zip of XML), .pdf (every object and stream, the pages' text, link targets), .parquet (file and
schema metadata, and the data), .dta/.sav (labels, notes and data through pyreadstat), PNG text
chunks (also the compressed ones)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml

from helpers.core import paths
from helpers.outputs import site
from helpers.running import pipeline

SHORT = {
    "03_model_usage.ipynb": {"coverage_reps": 40, "power_reps": 20},
    "04_adoption_panel.ipynb": {"simulation_reps": 20, "honest_points": 20, "bootstrap_draws": 199},
}
ZIPPED = {".docx", ".xlsx", ".zip", ".odt", ".ods"}


def _pdf_texts(f: Path) -> list[str | bytes]:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    reader = PdfReader(str(f))
    out: list[str | bytes] = [page.extract_text() for page in reader.pages]
    seen: set[tuple[int, int]] = set()
    todo = [reader.trailer]
    while todo:  # every object reachable from the trailer: metadata, annotations (link URIs), fonts, content streams
        obj = todo.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, StreamObject) and obj.get("/Subtype") != "/Image":
            out.append(obj.get_data())
        if isinstance(obj, DictionaryObject):
            todo.extend(v for k, v in obj.items() if k != "/Parent")
        elif isinstance(obj, ArrayObject):
            todo.extend(obj)
        else:
            out.append(str(obj))
    return out


def _readstat_texts(f: Path) -> list[str]:
    import pyreadstat

    df, meta = (pyreadstat.read_dta if f.suffix == ".dta" else pyreadstat.read_sav)(str(f))
    return [
        str(meta.file_label),
        str(meta.column_names_to_labels),
        str(meta.variable_value_labels),
        str(meta.value_labels),
        str(getattr(meta, "notes", "")),
        df.to_csv(),
    ]


def _parquet_texts(f: Path) -> list[str | bytes]:
    import pyarrow.parquet as pq

    meta = pq.read_metadata(f)
    kv = meta.metadata or {}
    return [*kv.keys(), *kv.values(), str(meta.schema), pq.read_table(f).to_pandas().to_csv()]


def contents(f: Path) -> list[str | bytes]:
    """What a file says, as bytes and as decoded text: the raw bytes always (file headers of .dta and
    .sav, PNG text chunks, every text format), plus what its format compresses or encodes."""
    out: list[str | bytes] = [f.read_bytes()]
    suffix = f.suffix.lower()
    if suffix in ZIPPED or (suffix not in {".pdf", ".parquet"} and zipfile.is_zipfile(f)):
        with zipfile.ZipFile(f) as z:
            out += [z.read(name) for name in z.namelist()] + z.namelist()
    elif suffix == ".pdf":
        out += _pdf_texts(f)
    elif suffix == ".parquet":
        out += _parquet_texts(f)
    elif suffix in {".dta", ".sav"}:
        out += _readstat_texts(f)
    elif suffix == ".png":
        from PIL import Image

        with Image.open(f) as im:
            out += [f"{k}={v}" for k, v in im.text.items()]
    return out


def offending(folder, needle: str) -> list[str]:
    """Output files that contain ``needle``. Hidden files are machine-local state, not outputs (the
    pipeline's stat cache, .hash_cache.json, maps this machine's paths and mtimes to sha256s; the
    lock file names the process holding the folders)."""
    hits = []
    for f in sorted(Path(folder).rglob("*")):
        if (
            not f.is_file()
            or f.name.startswith(".")
            or any(p.startswith(".") for p in f.relative_to(folder).parts[:-1])
        ):
            continue
        if any((needle.encode() if isinstance(c, bytes) else needle) in c for c in contents(f)):
            hits.append(f.relative_to(folder).as_posix())
    return hits


def _short_config(target: Path) -> Path:
    """The shipped pipeline config with the simulations shortened."""
    doc = yaml.safe_load((paths.config() / "pipeline.yaml").read_text(encoding="utf-8"))
    for section in ("runs", "per_round", "per_pair", "per_round_set"):
        for item in doc.get(section) or []:
            item["parameters"] = {**(item.get("parameters") or {}), **SHORT.get(item["notebook"], {})}
    target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """Every notebook of the shipped pipeline run once into temporary outputs, then the report site and its PDF."""
    base = tmp_path_factory.mktemp("full_run")
    with pytest.MonkeyPatch.context() as mp:
        for env, name in (("BORGERSERVICE_PROCESSED", "processed"), ("BORGERSERVICE_REPORTS", "reports")):
            (base / name).mkdir()
            mp.setenv(env, str(base / name))
        config = _short_config(base / "pipeline.yaml")
        cfg = pipeline.load_config(config)
        last = tuple(sorted(cfg.rounds)[-2:])  # e.g. (2011, 2014): one run of each pair and round-set template
        only = [r.id for r in cfg.runs if len(r.rounds) < 2 or r.rounds == last]
        runs = pipeline.run(config=config, only=only, workers=1, echo=lambda *_: None)
        built = site.build()
        pdf = site.pdf(built) if site.CHROMIUM.is_file() else None
        yield {
            "runs": runs,
            "config": config,
            "reports": base / "reports",
            "processed": base / "processed",
            "site": built,
            "pdf": pdf,
        }


@pytest.mark.slow
def test_every_notebook_of_the_shipped_pipeline_ran(full_run):
    shipped = {r.notebook for r in pipeline.load_config().runs}
    ran = {o.id: o.status for o in full_run["runs"]}
    assert set(ran.values()) == {"ok"}, {o.id: o.error for o in full_run["runs"] if o.status != "ok"}
    notebooks = {r.notebook for r in pipeline.load_config(full_run["config"]).runs if r.id in ran}
    assert notebooks == shipped and len(shipped) == 7  # 00, 01 (survey, usage panel), 02, 03, 04, 05


@pytest.mark.slow
def test_outputs_of_the_whole_pipeline_hold_no_absolute_project_path(full_run):
    """Reports (executed notebooks, HTML, results, figures, tables, the manifest, the site, the PDF) and processed
    data.
    """
    root = str(paths.root())
    written = [f for folder in ("reports", "processed") for f in full_run[folder].rglob("*") if f.is_file()]
    kinds = {f.suffix for f in written}
    assert {".ipynb", ".html", ".json", ".csv", ".svg", ".png", ".tex", ".docx", ".parquet", ".dta", ".sav"} <= kinds, (
        kinds
    )
    assert offending(full_run["reports"], root) == []
    assert offending(full_run["processed"], root) == []


@pytest.mark.slow
@pytest.mark.skipif(not site.CHROMIUM.is_file(), reason="/usr/bin/chromium not installed")
def test_the_report_site_and_pdf_were_checked_and_the_pdf_links_are_relative(full_run):
    reports = full_run["reports"]
    assert (
        full_run["site"] == reports / "site" and full_run["pdf"] == reports / "report.pdf"
    )  # inside the folder checked above
    assert (
        full_run["pdf"].stat().st_size > 100_000 and (full_run["site"] / "notebooks" / "05_export_data.html").is_file()
    )
    texts = _pdf_texts(full_run["pdf"])  # what the check reads of the PDF: the site's links are there, relative
    assert any(c.startswith("site/notebooks/04_adoption_") for c in texts if isinstance(c, str))
    assert not any(c.startswith("file:") for c in texts if isinstance(c, str))


def test_the_check_finds_an_absolute_path(tmp_path):
    (tmp_path / "a.json").write_text('{"path": "/home/someone/project/reports/x.json"}')
    (tmp_path / "b.csv").write_text("x\n1\n")
    (tmp_path / ".hash_cache.json").write_text('{"/home/someone/project/data/raw/x": "ab"}')
    assert offending(tmp_path, "/home/someone/project") == ["a.json"]


def test_the_check_opens_compressed_and_binary_formats(tmp_path):
    """A path inside a .docx, a PDF link, parquet metadata, a .dta/.sav label or a compressed PNG chunk is found."""
    import docx
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat
    from PIL import Image, PngImagePlugin
    from pypdf import PdfWriter
    from pypdf.annotations import Link

    needle = "/home/someone/project"
    found = tmp_path / "found"
    found.mkdir()
    d = docx.Document()
    d.add_paragraph(f"written from {needle}/reports")
    d.save(str(found / "t.docx"))
    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_annotation(0, Link(rect=(10, 10, 50, 50), url=f"file://{needle}/reports/site/index.html"))
    with open(found / "r.pdf", "wb") as fh:
        w.write(fh)
    table = pa.Table.from_pandas(pd.DataFrame({"x": [1]})).replace_schema_metadata({"origin": f"{needle}/data"})
    pq.write_table(table, found / "p.parquet", compression="zstd")
    pyreadstat.write_dta(pd.DataFrame({"x": [1.0]}), str(found / "s.dta"), file_label=f"{needle}/x")
    pyreadstat.write_sav(
        pd.DataFrame({"x": [1.0]}), str(found / "s.sav"), column_labels=[f"from {needle}"], compress=True
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("Source", f"{needle}/fig.py", zip=True)  # zTXt: compressed, not visible in the raw bytes
    Image.new("RGB", (4, 4)).save(found / "f.png", pnginfo=info)
    assert (
        needle.encode() not in (found / "f.png").read_bytes() and needle.encode() not in (found / "t.docx").read_bytes()
    )
    assert offending(found, needle) == ["f.png", "p.parquet", "r.pdf", "s.dta", "s.sav", "t.docx"]
    clean = tmp_path / "clean"
    clean.mkdir()
    docx.Document().save(str(clean / "t.docx"))
    pyreadstat.write_dta(pd.DataFrame({"x": [1.0]}), str(clean / "s.dta"), file_label="relative/x")
    assert offending(clean, needle) == []
