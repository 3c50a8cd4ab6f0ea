"""Layer 6: the stages every method shares: monolingual corpus, full fine-tuning, evaluation."""
