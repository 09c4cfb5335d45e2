"""duban's web front end: pages and the REST API (/api/v1) on the workflow library."""
