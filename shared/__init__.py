"""Handoff's own small common library: configuration, database, outbox and events,
auth context, error codes, logging and the test harness. No business logic lives here."""
