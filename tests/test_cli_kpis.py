"""`ccq kpis` as a manager reads it: the whole centre first, labels, units and words (the app's
formatting, ccq.display), never `nan` or `1.425e+05`, and a word when nothing matches. The values
are the hand-built scenario's (tests/fixtures/hand_calls), computed by hand in test_kpis."""
from __future__ import annotations

import re

import pytest

from orchestration import cli

pytestmark = pytest.mark.xdist_group("hand_built")


def _kpis(capsys, home, *args: str) -> tuple[int, list[str], str]:
    code = cli.main(["--home", str(home), "kpis", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_the_table_reads_like_the_app(hand_built, capsys):
    paths, _ = hand_built
    code, lines, _ = _kpis(capsys, paths.home, "--period", "2026-03-02")
    assert code == 0
    assert _cells(lines[0]) == ["KPI", "Period", "Scope", "Value", "Target", "Status", "Certified"]
    rows = {cells[0]: cells[1:] for cells in map(_cells, lines[2:])}
    assert rows["Offered"] == ["2026-03-02", "whole centre", "14", "yes"]  # no target, no status
    # 5 of 11 answered within 20 s; 150 s of waiting over 9 answered; 1,980 s handled over 9
    assert rows["Service level"] == ["2026-03-02", "whole centre", "45.5%", "≥ 80.0%", "missed", "yes"]
    assert rows["Average speed of answer"] == ["2026-03-02", "whole centre", "17s", "≤ 30s", "met", "yes"]
    assert rows["Average handle time"] == ["2026-03-02", "whole centre", "3:40", "≤ 6:00", "met", "yes"]
    assert rows["Longest wait"] == ["2026-03-02", "whole centre", "2:00", "yes"]
    text = "\n".join(lines)
    assert "nan" not in text and not re.search(r"\de[+-]\d", text) and "Q_GENERAL" not in text  # the centre only


def test_interval_periods_carry_their_utc_offset(hand_built, capsys):
    paths, _ = hand_built
    code, lines, _ = _kpis(capsys, paths.home, "--grain", "interval", "--scope", "Q_GENERAL", "--kpi", "offered")
    assert code == 0
    assert _cells(lines[0])[1] == "Period (local time, UTC offset)"
    first = _cells(lines[2])
    assert first[:3] == ["Offered", "2026-03-02 08:00 +00:00", "queue Q_GENERAL"]


def test_nothing_matching_says_so(hand_built, capsys, monkeypatch):
    import sys

    from orchestration import commands

    paths, _ = hand_built
    monkeypatch.setattr(commands, "_TERMINAL", sys.stdout)  # the command's terminal, as pytest captures it
    code, lines, _ = _kpis(capsys, paths.home, "--grain", "month", "--scope", "Q_NOWHERE")
    assert code == 1
    assert lines == ["no published KPI values at grain month for --scope Q_NOWHERE; scope types at this grain: agent, "
                     "all, call_type, direction, queue, site, supervisor, team (the whole centre is --scope all)"]


def test_scope_all_is_the_whole_centre(hand_built, capsys):
    paths, _ = hand_built
    code, lines, _ = _kpis(capsys, paths.home, "--scope", "all", "--kpi", "offered", "--period", "2026-03-02")
    assert code == 0
    assert [_cells(line)[:4] for line in lines[2:]] == [["Offered", "2026-03-02", "whole centre", "14"]]
