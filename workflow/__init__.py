"""The engine: decides. Depends on states/, db/ and notifications/, never on the CLI."""
