"""The owners' digests: after each refresh, one message per owner role listing what needs its
action on the last complete day: its missed and at-risk KPIs, the control-chart signals of its
KPIs, and each one's first action, with a link to the app page with the filters set.

Everything comes from the published snapshot (the numbers the app shows, never recomputed):
statuses, owners and first actions from marts.kpi_values, signals from marts.spc_points,
labels from the catalogue and the queue and site dimensions, and the recipients of each role,
with their language, from the owner_recipients seed (role mailboxes, not people). A digest is
written as HTML under reports/digests/<day>/ in each language its recipients read, and sent by
SMTP when a server is configured (SmtpSettings.from_env).

Digests go to the scopes targets are managed at (the centre, queues, sites): a team's or an
agent's status is for their leader to read in the app, not a message per agent.
"""
from __future__ import annotations

import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlencode

import duckdb
from jinja2 import Environment, select_autoescape

from ccq.display import day_label, format_value
from ccq.publish import current_snapshot
from ccq.settings import Paths

LANGS = ("en", "zh")
DIGEST_SCOPES = ("all", "queue", "site")
DEFAULT_APP_URL = "http://localhost:8501"

TEXT = {
    "en": {
        "subject": "CCQ {day}: {n} item(s) need action by {role}",
        "title": "What needs your action",
        "intro": "{role}: the KPIs of {day} that missed or are at risk of missing their target, and the "
                 "control-chart signals of your KPIs. Data through {day}; a value marked not certified may still "
                 "change (see the app's data trust page).",
        "not_certified": "not certified",
        "kpi": "KPI", "scope": "Scope", "value": "Value", "target": "Target", "status": "Status",
        "first_action": "First action", "open": "Open in the app",
        "missed": "Missed", "at_risk": "At risk", "signal": "Signal",
        "centre": "Whole centre", "queue": "Queue {name}", "site": "Site {name}",
        "signal_target": "control chart: {rules}",
        "rule_1": "one point beyond 3 sigma", "rule_2": "two of three points beyond 2 sigma",
        "rule_3": "four of five points beyond 1 sigma", "rule_4": "eight points on one side of the centre line",
        "rule_mr": "a jump between consecutive points",
        "footer": "Sent by the call-centre quality warehouse after the refresh of {day}.",
    },
    "zh": {
        "subject": "CCQ {day}：{role}有 {n} 项需要处理",
        "title": "需要您处理的事项",
        "intro": "{role}：{day} 未达标或有未达标风险的指标，以及您负责指标的控制图信号。数据截至 {day}；"
                 "标为未认证的数值仍可能变化（见应用的数据可信度页）。",
        "not_certified": "未认证",
        "kpi": "指标", "scope": "范围", "value": "数值", "target": "目标", "status": "状态",
        "first_action": "首要行动", "open": "在应用中打开",
        "missed": "未达标", "at_risk": "有风险", "signal": "信号",
        "centre": "全中心", "queue": "队列 {name}", "site": "站点 {name}",
        "signal_target": "控制图：{rules}",
        "rule_1": "一个点超出 3 倍标准差", "rule_2": "连续三点中有两点超出 2 倍标准差",
        "rule_3": "连续五点中有四点超出 1 倍标准差", "rule_4": "连续八点位于中心线同一侧",
        "rule_mr": "相邻两点之间跳变过大",
        "footer": "由呼叫中心服务质量数据仓库在 {day} 的数据刷新后发送。",
    },
}

TEMPLATE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; color: #222; max-width: 960px">
<h1 style="font-size: 20px">{{ text.title }}</h1>
<p>{{ intro }}</p>
<table style="border-collapse: collapse; width: 100%" cellpadding="6">
<thead><tr style="background: #f0f2f6; text-align: left">
<th>{{ text.status }}</th><th>{{ text.kpi }}</th><th>{{ text.scope }}</th><th>{{ text.value }}</th>
<th>{{ text.target }}</th><th>{{ text.first_action }}</th><th></th></tr></thead>
<tbody>
{% for item in items %}<tr style="border-top: 1px solid #ddd">
<td style="color: {{ colours[item.kind] }}; font-weight: bold">{{ text[item.kind] }}{% if not item.certified %}
<br><span style="color: #6a1b9a; font-weight: normal">{{ text.not_certified }}</span>{% endif %}</td>
<td>{{ item.label }}</td><td>{{ item.scope }}</td><td>{{ item.value }}</td><td>{{ item.target }}</td>
<td>{{ item.first_action }}</td><td><a href="{{ item.link }}">{{ text.open }}</a></td></tr>
{% endfor %}</tbody></table>
<p style="color: #666; font-size: 12px">{{ footer }}</p>
</body></html>
"""
COLOURS = {"missed": "#c62828", "at_risk": "#e65100", "signal": "#6a1b9a"}
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


class DigestError(RuntimeError):
    """A setting the digest cannot work with; the message names it."""


@dataclass(frozen=True)
class Item:
    kind: str  # missed | at_risk | signal
    label: str
    scope: str
    value: str
    target: str
    first_action: str
    link: str
    certified: bool = True


@dataclass(frozen=True)
class Digest:
    role: str
    lang: str
    day: date
    subject: str
    html: str
    items: tuple[Item, ...]
    recipients: tuple[str, ...] = field(default=())

    @property
    def file_name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.role.lower()).strip("-") or "owner"
        return f"{slug}.{self.lang}.html"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str | None
    password: str | None
    sender: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SmtpSettings | None:
        """CCQ_SMTP_HOST (unset: no sending), CCQ_SMTP_PORT, CCQ_SMTP_SECURITY (starttls, ssl or
        none; default starttls), CCQ_SMTP_USER and CCQ_SMTP_PASSWORD, CCQ_SMTP_FROM."""
        env = os.environ if env is None else env
        host = (env.get("CCQ_SMTP_HOST") or "").strip()
        if not host:
            return None
        security = (env.get("CCQ_SMTP_SECURITY") or "starttls").strip().lower()
        if security not in ("starttls", "ssl", "none"):
            raise DigestError(f"CCQ_SMTP_SECURITY={security!r}: use starttls, ssl or none")
        raw_port = (env.get("CCQ_SMTP_PORT") or {"starttls": "587", "ssl": "465", "none": "25"}[security]).strip()
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise DigestError(f"CCQ_SMTP_PORT={raw_port!r}: a port number from 1 to 65535")
        return cls(host=host, port=int(raw_port), security=security, user=env.get("CCQ_SMTP_USER") or None,
                   password=env.get("CCQ_SMTP_PASSWORD") or None,
                   sender=env.get("CCQ_SMTP_FROM") or "ccq@localhost")


def app_url(env: dict[str, str] | None = None) -> str:
    """Where the app is served, for the digests' links (CCQ_APP_URL)."""
    env = os.environ if env is None else env
    return (env.get("CCQ_APP_URL") or DEFAULT_APP_URL).rstrip("/")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, table]).fetchone()[0])


def _currency(con: duckdb.DuckDBPyConnection) -> str | None:
    if not _has(con, "reference", "cost_rates"):
        return None
    found = con.execute("SELECT DISTINCT currency FROM reference.cost_rates WHERE currency IS NOT NULL").fetchall()
    return found[0][0] if len(found) == 1 else None


def _scope_names(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], str]:
    """(scope_type, scope_id, lang) -> the name a reader knows it by."""
    names = {}
    for q in _rows(con, "SELECT queue_id, queue_name, queue_name_zh FROM marts.dim_queues"):
        names[("queue", q["queue_id"], "en")] = q["queue_name"] or q["queue_id"]
        names[("queue", q["queue_id"], "zh")] = q["queue_name_zh"] or q["queue_name"] or q["queue_id"]
    for s in _rows(con, "SELECT site_id, site_name FROM marts.dim_sites"):
        for lang in LANGS:
            names[("site", s["site_id"], lang)] = s["site_name"] or s["site_id"]
    return names


def _link(base: str, lang: str, day: date, scope_type: str, scope_id: str) -> str:
    query = {"lang": lang, "grain": "day", "period": day.isoformat()}
    if scope_type in ("queue", "site"):
        query[scope_type] = scope_id
    return f"{base}/?{urlencode(query)}"


def build(paths: Paths, base_url: str = DEFAULT_APP_URL, day: date | None = None) -> list[Digest]:
    """The digests of `day` (default: the last day the data covers), one per owner role with
    something to act on and per language its recipients read (English without recipients)."""
    snapshot = current_snapshot(paths)
    if snapshot is None:
        return []
    with duckdb.connect(str(snapshot), read_only=True) as con:
        if day is None:
            day = con.execute("SELECT max(data_through) FROM marts.kpi_values").fetchone()[0]
            if day is None:
                return []
        values = _rows(con, f"""
            SELECT v.kpi, c.label, c.label_zh, v.scope_type, v.scope_id, v.value, v.unit, v.target, v.direction,
                   v.status, v.owner_role, v.owner_role_zh, v.first_action, v.first_action_zh, c.display_order,
                   v.certified
            FROM marts.kpi_values AS v JOIN marts.kpi_catalogue AS c USING (kpi)
            WHERE v.grain = 'day' AND v.period_start = ? AND v.status IN ('missed', 'at_risk')
              AND v.owner_role IS NOT NULL AND v.scope_type IN {DIGEST_SCOPES}
            ORDER BY v.status = 'at_risk', c.display_order, v.scope_type <> 'all', v.scope_id
            """, [day])
        signals = _rows(con, f"""
            SELECT s.kpi, c.label, c.label_zh, s.scope_type, s.scope_id, s.value, c.unit, s.signal_rules,
                   v.owner_role, v.owner_role_zh, v.first_action, v.first_action_zh, v.certified
            FROM marts.spc_points AS s
            JOIN marts.kpi_catalogue AS c USING (kpi)
            JOIN marts.kpi_values AS v
              ON v.kpi = s.kpi AND v.grain = s.grain AND v.period_start = s.period_start
             AND v.scope_type = s.scope_type AND v.scope_id = s.scope_id
            WHERE s.is_signal AND s.grain = 'day' AND s.period_start = ? AND v.owner_role IS NOT NULL
              AND s.scope_type IN {DIGEST_SCOPES}
            ORDER BY c.display_order, s.scope_type <> 'all', s.scope_id
            """, [day]) if _has(con, "marts", "spc_points") else []
        recipients = _rows(con, "SELECT owner_role, email, lang FROM reference.owner_recipients ORDER BY email") \
            if _has(con, "reference", "owner_recipients") else []
        names = _scope_names(con)
        currency = _currency(con)

    digests = []
    for role in dict.fromkeys(r["owner_role"] for r in values + signals):
        mine = [r for r in recipients if r["owner_role"] == role]
        langs = sorted({r["lang"] for r in mine if r["lang"] in LANGS}) or ["en"]
        for lang in langs:
            items = [_item("missed" if r["status"] == "missed" else "at_risk", r, lang, day, base_url, names, currency)
                     for r in values if r["owner_role"] == role]
            items += [_item("signal", r, lang, day, base_url, names, currency)
                      for r in signals if r["owner_role"] == role]
            digests.append(_render(role, lang, day, items, [r for r in values + signals if r["owner_role"] == role],
                                   tuple(r["email"] for r in mine if r["lang"] == lang or
                                         (lang == "en" and r["lang"] not in LANGS))))
    return digests


def _zh(row: dict, column: str, lang: str) -> str:
    return (row.get(f"{column}_zh") if lang == "zh" else None) or row.get(column) or ""


def _item(kind: str, row: dict, lang: str, day: date, base_url: str, names: dict, currency: str | None) -> Item:
    text = TEXT[lang]
    scope_type, scope_id = row["scope_type"], row["scope_id"]
    if scope_type == "all":
        scope = text["centre"]
    else:
        scope = text[scope_type].format(name=names.get((scope_type, scope_id, lang), scope_id))
    if kind == "signal":
        rules = [text.get(f"rule_{r.strip().removeprefix('rule_')}", r) for r in (row["signal_rules"] or "").split(",")
                 if r.strip()]
        target = text["signal_target"].format(rules="; ".join(rules))
    else:
        op = "≤" if row["direction"] == "lower_is_better" else "≥"
        target = f"{op} {format_value(row['target'], row['unit'], currency)}"
    return Item(kind=kind, label=_zh(row, "label", lang), scope=scope,
                value=format_value(row["value"], row["unit"], currency), target=target,
                first_action=_zh(row, "first_action", lang), link=_link(base_url, lang, day, scope_type, scope_id),
                certified=bool(row["certified"]))


def _render(role: str, lang: str, day: date, items: list[Item], rows: list[dict], recipients: tuple[str, ...]) -> Digest:
    text = TEXT[lang]
    role_label = _zh(rows[0], "owner_role", lang) if rows else role
    day_text = day_label(day, lang)
    subject = text["subject"].format(day=day_text, n=len(items), role=role_label)
    html = _ENV.from_string(TEMPLATE).render(
        lang=lang, subject=subject, text=text, items=items, colours=COLOURS,
        intro=text["intro"].format(role=role_label, day=day_text), footer=text["footer"].format(day=day_text))
    return Digest(role=role, lang=lang, day=day, subject=subject, html=html, items=tuple(items),
                  recipients=recipients)


def write(digests: list[Digest], paths: Paths) -> list[Path]:
    """Each digest as HTML under reports/digests/<day>/, replacing that day's earlier ones."""
    written = []
    for digest in digests:
        folder = paths.reports / "digests" / digest.day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / digest.file_name
        tmp = target.with_suffix(".tmp")
        tmp.write_text(digest.html, encoding="utf-8")
        os.replace(tmp, target)
        written.append(target)
    return written


def send(digests: list[Digest], smtp: SmtpSettings) -> int:
    """Send each digest to its recipients over one SMTP session; returns the messages sent."""
    to_send = [d for d in digests if d.recipients]
    if not to_send:
        return 0
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
    try:
        if smtp.security == "starttls":
            server.starttls(context=context)
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        for digest in to_send:
            message = EmailMessage()
            message["Subject"] = digest.subject
            message["From"] = smtp.sender
            message["To"] = ", ".join(digest.recipients)
            message["Date"] = formatdate(localtime=False)
            message["Message-ID"] = make_msgid(domain="ccq")
            message.set_content(_plain_text(digest))
            message.add_alternative(digest.html, subtype="html")
            server.send_message(message)
    finally:
        server.quit()
    return len(to_send)


def _plain_text(digest: Digest) -> str:
    """The same items for mail readers that show no HTML."""
    text = TEXT[digest.lang]
    lines = [digest.subject, ""]
    for item in digest.items:
        flag = "" if item.certified else f" ({text['not_certified']})"
        lines.append(f"{text[item.kind]}{flag}: {item.label} · {item.scope} · {item.value} · {item.target}")
        if item.first_action:
            lines.append(f"  {text['first_action']}: {item.first_action}")
        lines.append(f"  {item.link}")
    return "\n".join(lines) + "\n"
