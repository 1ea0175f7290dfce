"""One package per AWS service: plain domain operations, no HTTP (the protocol layer in
`portico.aws` turns requests into calls and results into responses).

Each service package offers a factory `(ServiceContext) -> ServiceProvider`; `PROVIDERS`
in `portico.services.registry` lists them and `create_app` builds them all.
"""
