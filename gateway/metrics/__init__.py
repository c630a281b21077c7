"""Prometheus metrics: aggregated across processes, counted where they happen, and the
business's queues read from the database at scrape time."""
