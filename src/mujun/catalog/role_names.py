"""The account roles' identifiers (``catalog/roles.yaml`` gives each its pages, scope and disclosure).

A module with no imports: ``mujun --help`` lists ``users add --role`` with these, and importing
:mod:`mujun.catalog.roles` would load pydantic (about 0.17 s of a start-up whose target is 0.5 s).
"""

ROLE_NAMES = ("admin", "analyst", "department", "county", "town", "leader", "enterprise")
