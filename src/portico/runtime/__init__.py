"""Execution environments and the Lambda Runtime API."""

from portico.runtime.config import FunctionConfig, RuntimeSettings
from portico.runtime.invocation import InvocationResult
from portico.runtime.invoker import Runtime

__all__ = ["FunctionConfig", "InvocationResult", "Runtime", "RuntimeSettings"]
