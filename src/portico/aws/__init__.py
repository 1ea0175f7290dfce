"""AWS wire protocols: botocore-model-driven parsing and serialization, SigV4, errors."""
