"""Layer 7: the method interface, what methods build from, the method catalog, UniBridge (``unibridge/``)."""
