"""What runs inside a function's process.

Everything in this package is imported by execution environments, so it uses the standard
library only (a unit test checks this). The host imports `frames` for the shared wire format.
"""
