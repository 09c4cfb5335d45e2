"""Reminders: the daily sweep and its locks."""
