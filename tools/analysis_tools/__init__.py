"""Analysis tools and their modules (training curves, encoder probes, token statistics)."""
