"""The runtime-agnostic core: app, event, router, handlers, errors, hooks, utilities.

Rule: nothing in `nitro.core` imports `nitro.adapters`, `nitro.storage_drivers`,
`nitro.sql_connectors`, `nitro.config`, `nitro.runtime`, `nitro.bundle`,
`nitro.presets` or `nitro.cli`. Drivers, connectors and presets are found by name in registries
and imported lazily; platforms are reached only through ASGI.
"""
