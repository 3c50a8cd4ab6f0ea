"""UniBridge's five stages (PAPER.md).

Vocabulary search, embedding initialisation, language adaptation, task adapters, multi-source
inference.
"""
