"""Assignments moving through the state machine: the engine (fire), its event chain,
attachments, the mail it enqueues, and the reads of assignments."""
