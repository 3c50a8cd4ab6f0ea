"""Layer 3: the typed suite file, its jobs and ``--only`` selection."""
