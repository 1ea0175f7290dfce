"""API Gateway v2 (HTTP APIs): the control plane."""
