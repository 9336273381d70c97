"""Code that the identity provider and every portal really share.

This package imports nothing from ``idp`` or ``portals``: it is the floor they both stand on
(configuration, storage setup, the relying-party glue, the outbox, i18n, the page frame).
"""
