"""AWS Secrets Manager: secrets with versions and staging labels, values sealed at rest.

provider.py   operations: members checked (validation.py), results shaped (shapes.py)
service.py    the domain, in store transactions: create, put, update, delete, restore, ...
stages.py     how staging labels move when a version is added
crypto.py     AES-GCM sealing under <data-dir>/secrets.key
models.py     secrets, versions and sealed values as records
"""
