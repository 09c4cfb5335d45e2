"""The directory: departments, users, delegations, name matching, import, mail recipients."""
