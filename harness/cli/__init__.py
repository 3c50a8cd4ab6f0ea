"""Layer 13: the ``unibridge-bench`` commands: parse, call, print."""
