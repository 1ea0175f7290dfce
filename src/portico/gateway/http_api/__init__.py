"""HTTP APIs (API Gateway v2), served: compiled route tables, authorizers, integrations."""
