"""Layer 12: the paper's tables beside ours, figures, ``report.html`` and ``run.json``; never runs a model."""
