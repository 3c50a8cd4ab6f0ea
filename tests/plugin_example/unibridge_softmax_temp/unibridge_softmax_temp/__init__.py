"""UniBridge with a temperature on the harmony softmax: a unibridge-bench plugin package.

Its entry points (pyproject.toml) register the method ``unibridge_softmax_temp``
(:class:`unibridge_softmax_temp.method.TemperedUniBridge`) and the table ``source_weights``
(:func:`unibridge_softmax_temp.tables.source_weights_table`).
"""
