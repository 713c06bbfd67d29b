"""Upstream simulator: a seeded org tree and the switch/CRM/QA events of its business days.

`org` builds the tree, `generator` the events, `sinks` sends them (ingest over
HTTP, Kafka, NDJSON), `cli` is the `garden-sim` command.
"""
