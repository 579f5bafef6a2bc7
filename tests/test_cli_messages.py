"""Handled errors reach the user as one message, never after a traceback."""

from helpers.data import statbank
from helpers.running import cli


def test_fetch_usage_reports_an_unreachable_api_without_a_traceback(monkeypatch, capsys):
    def unreachable(**kwargs):
        raise statbank.StatbankUnavailable(
            "Statistics Denmark gave no complete answer to POST http://127.0.0.1:9/v1/tableinfo"
        )

    monkeypatch.setattr(statbank, "fetch_usage", unreachable)
    assert cli.main(["fetch-usage", "--tables", "BIB1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Statistics Denmark gave no complete answer") and "Traceback" not in err
