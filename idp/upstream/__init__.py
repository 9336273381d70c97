"""Federation plug-ins (SATOSA backends): the upstream identity providers the IdP is a client of.

``base`` (the contract), ``oidc`` (any OpenID provider, by discovery), ``pivot`` (the one identity
record they all map into), ``registry`` (the providers declared in config/), ``sandbox`` (local
demo providers).
"""
