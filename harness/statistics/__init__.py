"""Statistics over the per-example counts result records carry (:mod:`harness.tasks.metrics`).

* :mod:`~harness.statistics.counts`: a record's counts as an array; several seeds stacked.
* :mod:`~harness.statistics.bootstrap`: 95 % percentile intervals by bootstrap over test examples.
* :mod:`~harness.statistics.paired`: approximate randomisation between two methods.
* :mod:`~harness.statistics.multiple`: Holm–Bonferroni over the languages of a table.
* :mod:`~harness.statistics.verdict`: consistent / inconclusive / differs, from the interval of
  Δ = ours − paper against a margin.
* :mod:`~harness.report.annotate`: the report's use of them (intervals, marks, verdicts).

Nothing here reads the cache or runs a model: everything comes from ``results.jsonl``.
"""
