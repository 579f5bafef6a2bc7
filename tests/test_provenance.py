"""The data manifest lists every raw file with a correct sha256, and notices changes."""

from helpers.core import files
from helpers.data import provenance


def test_shipped_raw_data_matches_manifest():
    assert provenance.check() == []


def test_reference_files_are_real():
    entries = provenance.load()
    ref = {k: e for k, e in entries.items() if k.startswith("reference/")}
    assert len(ref) == 7
    assert not any(e.synthetic for e in ref.values())
    assert all(e.licence and e.source for e in ref.values())


def test_every_synthetic_file_says_so_in_its_name():
    for rel, e in provenance.load().items():
        if e.synthetic:
            assert "example" in rel.split("/")[-1], rel


def test_check_notices_changed_unlisted_and_missing_files(raw_copy):
    (raw_copy / "reference" / "geo" / "kommuner_regioner.csv").write_text("changed")
    (raw_copy / "reference" / "stray.csv").write_text("a,b\n")
    (raw_copy / "reference" / "dst" / "population_1jan_kommune_2005-2023.csv").unlink()
    problems = "\n".join(provenance.check(raw_copy))
    assert "kommuner_regioner.csv: sha256 differs" in problems
    assert "reference/stray.csv: not in any MANIFEST.yaml" in problems
    assert "population_1jan_kommune_2005-2023.csv: listed in the manifest but missing" in problems


def test_record_adds_entry_with_hash(raw_copy):
    f = raw_copy / "usage" / "example_thing.csv"
    f.parent.mkdir(exist_ok=True)
    f.write_text("x\n1\n")
    provenance.record(f, source="test", licence="none", synthetic=True)
    entry = provenance.load(raw_copy)["usage/example_thing.csv"]
    assert entry.sha256 == files.sha256(f)
    assert provenance.is_synthetic(f)
