"""Behavioural parameters of the demo centre: call types, menus, categories, people, forms.

Everything the generator draws from lives here so that the shape of the demo data can be
read (and tuned) in one place. Durations are seconds.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallType:
    share: float  # share of inbound calls whose intent is this queue
    talk_median: float
    talk_sigma: float
    hold_p: float  # share of answered calls with at least one hold
    acw_median: float
    patience_median: float  # lognormal caller patience in queue
    self_serve: float  # share served in the IVR while the queue is open
    ivr_hangup: float
    resolve_p: float  # chance a handled contact resolves the issue
    identified_p: float  # caller identified in the IVR
    # (weekday open, weekday close, saturday, sunday) local hours; None = closed
    hours: tuple[tuple[float, float], tuple[float, float], tuple[float, float] | None]
    transfer_p: float
    transfer_to: tuple[str, ...]
    overflow_to: str | None = None
    overflow_after: int = 0


OFFICE = ((7.0, 21.0), (8.0, 18.0), (9.0, 17.0))
LONG = ((7.0, 23.0), (7.0, 23.0), (8.0, 22.0))
ALWAYS = ((0.0, 24.0), (0.0, 24.0), (0.0, 24.0))

CALL_TYPES: dict[str, CallType] = {
    "general": CallType(0.34, 190, 0.65, 0.18, 30, 170, 0.20, 0.035, 0.86, 0.80, OFFICE, 0.06,
                        ("Q_BILLING", "Q_TECH", "Q_RETENTION")),
    "billing": CallType(0.26, 260, 0.60, 0.28, 40, 200, 0.24, 0.035, 0.76, 0.84, OFFICE, 0.03,
                        ("Q_GENERAL", "Q_RETENTION"), "Q_GENERAL", 300),
    "technical": CallType(0.20, 430, 0.70, 0.45, 55, 260, 0.10, 0.04, 0.64, 0.78, OFFICE, 0.04,
                          ("Q_BILLING", "Q_GENERAL")),
    "premium": CallType(0.08, 280, 0.55, 0.22, 35, 110, 0.05, 0.02, 0.84, 0.97, LONG, 0.03,
                        ("Q_TECH", "Q_BILLING"), "Q_GENERAL", 60),
    "retention": CallType(0.06, 460, 0.60, 0.30, 60, 220, 0.0, 0.03, 0.70, 0.88, OFFICE, 0.02,
                          ("Q_BILLING",), "Q_BILLING", 240),
    "cards": CallType(0.06, 170, 0.45, 0.12, 25, 150, 0.30, 0.02, 0.91, 0.90, ALWAYS, 0.02,
                      ("Q_GENERAL",), "Q_GENERAL", 90),
}

SHORT_ABANDON_SHARE = 0.03
PATIENCE_SIGMA = 0.9
HOLD_MEDIAN, HOLD_SIGMA = 50.0, 0.7
ACW_SIGMA = 0.5
SECONDARY_DELAY = 10  # seconds an agent must be idle before taking a secondary-skill call
RNA_P = 0.03  # a ringing agent does not pick up
REDIAL_P = 0.35  # abandoned caller dials again within the hour
OUTBOUND_P = 0.25  # agent places an outbound call in an idle gap of 4+ minutes
BLOCKED_P, BLOCKED_PEAK_P = 0.002, 0.012
ABSENCE_MEAN = 0.045
ANNUAL_LEAVE = 0.075  # mean share of agents on a week's holiday (not scheduled)
TRAINING_P = 1 / 45  # chance a working agent attends a course on a given day
PT_SHARE = 0.2
FT_HOURS, PT_HOURS = 37.5, 20.0
TEAM_SIZE = 12
STAFFING_RATIO = 1.02  # required agent-hours / available agent-hours at season 1
SL_PLAN_TARGET = 0.80

# Service numbers dialled; which one is the intent's front door.
SERVICE_NUMBERS = {
    "main": "+441615550100",
    "premium": "+442075550200",
    "cards": "+441615550300",
}
FRONT_DOOR = {"general": "main", "billing": "main", "technical": "main", "retention": "main",
              "premium": "premium", "cards": "cards"}

# IVR menu paths by intent: (to agent, self served, hang-up)
MENUS = {
    "general": ("main>general>agent", "main>general>faq", "main>general"),
    "billing": ("main>billing>agent", "main>billing>balance", "main>billing"),
    "technical": ("main>technical>agent", "main>technical>faq", "main>technical"),
    "premium": ("premium>verify>agent", "premium>verify>balance", "premium>verify"),
    "retention": ("main>account>cancel>agent", "main>account>balance", "main>account"),
    "cards": ("cards>block>agent", "cards>block>auto", "cards"),
}
CLOSED_SELF, CLOSED_HANGUP, ERROR_PATH = "main>closed>balance", "main>closed", "main>error"

# CRM: case categories per call type (weights) and the reasons an agent can pick in each.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "ACCOUNT": ("Update personal details", "Account access", "Statement request", "Change of address"),
    "GENERAL_INFO": ("Product information", "Opening hours", "Price enquiry"),
    "BILLING": ("Bill higher than expected", "Payment not received", "Refund request",
                "Direct debit change", "Payment arrangement"),
    "TECH_FAULT": ("No service", "Intermittent connection", "Slow speed", "Outage enquiry"),
    "DEVICE": ("Device setup", "Device fault", "Software update"),
    "PREMIUM_SERVICES": ("Upgrade request", "Dedicated manager request", "Travel benefits"),
    "CANCELLATION": ("Cancel contract", "Price match request", "Moving home"),
    "CARD_LOSS": ("Lost card", "Stolen card", "Card not received", "Suspicious transaction"),
}
CATEGORY_MIX: dict[str, dict[str, float]] = {
    "general": {"ACCOUNT": 0.55, "GENERAL_INFO": 0.35, "BILLING": 0.10},
    "billing": {"BILLING": 0.9, "ACCOUNT": 0.1},
    "technical": {"TECH_FAULT": 0.6, "DEVICE": 0.4},
    "premium": {"PREMIUM_SERVICES": 0.4, "ACCOUNT": 0.3, "BILLING": 0.2, "TECH_FAULT": 0.1},
    "retention": {"CANCELLATION": 1.0},
    "cards": {"CARD_LOSS": 1.0},
}
COMPLAINT_CATEGORIES = ("LONG_WAIT", "UNRESOLVED_ISSUE", "TRANSFERRED_AROUND", "AGENT_CONDUCT",
                        "BILLING_ERROR", "PRODUCT_FAULT", "POLICY")

# QA form: (item_id, name, weight, max_score, critical, not-applicable rule)
QA_FORM_ID = "FORM-VOICE-V1"
QA_ITEMS = (
    ("GREETING", "Greeting and identification", 5.0, 5.0, False, None),
    ("VERIFY", "Security verification", 10.0, 1.0, True, None),
    ("DISCOVERY", "Needs discovery", 15.0, 10.0, False, None),
    ("KNOWLEDGE", "Accurate information", 20.0, 10.0, False, None),
    ("HOLD", "Hold etiquette", 10.0, 5.0, False, "no_hold"),
    ("EMPATHY", "Empathy and tone", 15.0, 10.0, False, None),
    ("COMPLIANCE", "Compliance disclosures", 10.0, 1.0, True, "info_only"),
    ("CLOSE", "Summary and close", 15.0, 5.0, False, None),
)

# Courses: (course_id, name, minutes) ; induction is five full days for new hires.
INDUCTION = ("IND-101", "New hire induction")
COURSES = (
    ("PRD-201", "Product update", 90),
    ("SFT-301", "Soft skills: empathy and de-escalation", 90),
    ("CMP-401", "Compliance refresher", 60),
    ("SYS-110", "CRM system update", 60),
)
TRAINING_QUALITY_GAIN = 0.03

STAFF_QUESTIONS = ("ESAT-01", "ESAT-02", "ESAT-03", "ESAT-04", "ESAT-05")

HOURLY_COST = {"LON": 31.40, "MAN": 27.90}  # loaded cost of a paid agent hour, GBP
FIXED_PER_SEAT, FIXED_PER_SITE = 410.0, 18000.0

FIRST_NAMES = (
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Grace",
    "Leo", "Freya", "Arthur", "Lily", "Oscar", "Emily", "Charlie", "Sophie", "Jacob", "Chloe",
    "Mohammed", "Aisha", "Priya", "Ravi", "Fatima", "Omar", "Zofia", "Piotr", "Siobhan", "Declan",
    "Megan", "Rhys", "Ellie", "Kwame", "Ngozi", "Chinedu", "Ana", "João", "Chloé", "Zoë",
)
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Ahmed",
    "Kowalski", "Nowak", "O'Brien", "Murphy", "Okafor", "Mensah", "Singh", "Hughes", "Edwards", "Clarke",
)
CHINESE_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴")
CHINESE_GIVEN = ("芳", "伟", "敏", "静", "强", "磊", "洋", "艳", "军", "娜", "秀英", "建华", "晓明", "丽娟")
CHINESE_SHARE = 0.15
