"""Portico: AWS Lambda-style functions behind an API gateway, self-hosted."""

__version__ = "0.1.0"
