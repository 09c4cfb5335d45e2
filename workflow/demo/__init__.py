"""The demo: a whole plan year replayed through the services."""
