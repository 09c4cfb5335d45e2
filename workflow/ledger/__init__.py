"""The ledger (台账): rows, totals and lights computed from the database."""
