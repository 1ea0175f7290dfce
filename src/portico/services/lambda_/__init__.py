"""The Lambda API: functions, versions, invocation (more to come: aliases, layers, URLs)."""
