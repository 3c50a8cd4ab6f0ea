"""Layer 8: from a suite to stage graphs, the checks of ``validate``, ``fetch``, and what a suite costs."""
