"""Layer 10: running a plan: the runner, executors, result records and a workdir's integrity."""
