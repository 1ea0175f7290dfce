"""Imported, then forgotten, by each spare environment: so that importing a function's
module finds the import machinery's pages already copied."""

from __future__ import annotations

WARM = True
