"""furusato's core: the rules (`domain`), the database (`store`) and its side of the rules
(`services`), identity verification, signed codes, delivery through the outbox, the LINE
gateway and translations. Nothing here imports `conversations`, `handlers`, `web`, `jobs`
or `cli`, which sit above it (docs/architecture.md)."""
