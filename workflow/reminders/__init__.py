"""Reminders: the daily sweep (sweep.py), its locks (lock.py), the service (service.py)."""

# Short names of the reminder kinds, for one-line summaries (`remind run`, the demo).
KIND_LABELS = {"before": "即将到期", "due_today": "今日到期", "overdue": "逾期",
               "escalation": "升级", "review_waiting": "待审核"}
