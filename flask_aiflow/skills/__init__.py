"""Skills: the hook specs, the registry, candidates and their ranking, helpers for skill authors."""
