from pathlib import Path

from ccq.contract import render_markdown, tables

DOC = Path(__file__).resolve().parent.parent / "docs" / "raw_contract.md"


def test_every_source_system_has_its_raw_tables():
    systems = {t.system for t in tables().values()}
    assert systems == {"pbx", "acd", "ivr", "crm", "survey", "qa", "wfm", "hr", "finance"}
    assert len(tables()) == 16
    for t in tables().values():
        assert t.key and all(k in t.column_names for k in t.key), t.name
        assert all(c.description for c in t.columns), t.name


def test_personal_data_is_marked():
    pii = {(t.name, c.name) for t in tables().values() for c in t.columns if c.pii}
    assert ("acd_queue_events", "caller_number") in pii
    assert ("hr_roster", "agent_name") in pii
    assert ("crm_cases", "customer_id") in pii


def test_readable_page_is_current():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run: ccq contract --write docs/raw_contract.md"
