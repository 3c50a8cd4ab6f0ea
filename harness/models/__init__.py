"""Layer 4: backbones, models with adapters, task heads, SentencePiece reading, the tiny tokenizers."""
