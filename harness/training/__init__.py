"""Layer 5: what every training stage shares: Trainer arguments, callbacks, kept checkpoints."""
