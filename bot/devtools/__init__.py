"""Development and test tools: never mounted in production (SPEC §4)."""
