"""Progress of `borgerservice run`: counts, elapsed and expected remaining time from recorded durations;
plain lines under CI, lines that fit the terminal otherwise."""

from __future__ import annotations

import io

from helpers.running import progress as prog


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_remaining_time_comes_from_recorded_durations_shared_over_workers():
    clock = Clock()
    p = prog.Progress(io.StringIO(), live=False, clock=clock)
    p.plan(["a", "b", "c"], {"a": 10.0, "b": 30.0, "c": 20.0}, workers=2)
    p.started("a")
    p.started("b")
    clock.t += 4
    assert p.counts() == (0, 2, 1)
    assert p.remaining() == ((10 - 4) + (30 - 4) + 20) / 2  # 26 s
    p.finished("a", "ok")
    assert p.counts() == (1, 1, 1)
    assert p.headline() == "1/3 done, 1 running, 1 waiting; 0:04 elapsed, about 0:23 left"


def test_a_run_never_timed_makes_the_remaining_time_unknown():
    p = prog.Progress(io.StringIO(), live=False)
    p.plan(["a", "new_round"], {"a": 10.0}, workers=1)
    assert p.remaining() is None and "remaining unknown" in p.headline()


def test_plain_mode_prints_one_line_per_finished_run_and_no_escape_codes(monkeypatch):
    monkeypatch.setenv("CI", "true")
    out = io.StringIO()
    p = prog.Progress(out)
    assert not p.live
    p.plan(["a", "b"], {"a": 1.0, "b": 1.0}, workers=1)
    p.started("a")
    p.echo("[1/2] a: ok in 1.0 s")
    p.finished("a", "ok")
    p.started("b")
    p.finished("b", "failed")
    p.close()
    text = out.getvalue()
    assert "\x1b" not in text
    assert text.splitlines() == [
        "[1/2] a: ok in 1.0 s",
        "  progress: 1/2 done, 0 running, 1 waiting; 0:00 elapsed, about 0:01 left",
        "  progress: 2/2 done, 0 running, 0 waiting; 0:00 elapsed, finished",
    ]


def test_live_lines_fit_the_terminal_and_are_cleared_at_the_end(monkeypatch):
    monkeypatch.setattr(
        prog.shutil, "get_terminal_size", lambda fallback=None: __import__("os").terminal_size((40, 20))
    )
    clock = Clock()
    out = io.StringIO()
    p = prog.Progress(out, live=True, interval=60, clock=clock)
    p.plan(["03_model_visits_2009_2011", "02_compare_2009_2011"], {"03_model_visits_2009_2011": 70.0}, workers=2)
    p.started("03_model_visits_2009_2011")
    clock.t += 5
    lines = p.lines(40)
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].startswith("  running  03_model_visits_2009_2011")
    assert lines[2].startswith("  waiting  02_compare")
    p.echo("a message")
    p.close()
    text = out.getvalue()
    assert "a message\n" in text and text.endswith("\x1b[J")  # the status lines are gone when the run ends


def test_pipeline_reports_each_run_to_the_progress(make_notebook, write_config, outputs):
    from helpers.running import pipeline

    a = make_notebook("a.ipynb", "print('a')")
    cfg = write_config({"runs": [{"id": "a", "notebook": a}], "workers": 1})
    seen = []

    class Spy(prog.Progress):
        def started(self, run_id):
            seen.append(("started", run_id))

        def finished(self, run_id, status):
            seen.append((status, run_id))

    pipeline.run(cfg, echo=lambda *_: None, progress=Spy(io.StringIO(), live=False))
    assert seen == [("started", "a"), ("ok", "a")]
