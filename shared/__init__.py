"""Mechanisms every Cầu Nối service uses: events, broker topology, outbox, inbox, settings, database,
metrics and logging. Nothing domain-specific lives here."""
