"""Fixtures live in tests/fixtures/, one module per real component."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.keyring_service",
    "tests.fixtures.vault_server",
]
