"""E-mail: templates and rendering, the outbox and its dispatcher, mail backends.

This package knows nothing of the workflow: callers pass plain values in (a
MailConfig, a context dict), so `workflow` depends on it and never the reverse.
"""
