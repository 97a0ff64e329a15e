"""One module per storage driver under test, named like the driver (`azure-blob` ->
`azure_blob.py`). Each defines::

    async def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]

returning driver options for a fresh, empty namespace (a unique key prefix,
bucket or table), starting the backend service on first use (once per session,
stopped with `request.config.add_cleanup`) and calling `helpers.require_service`
when it cannot be reached.
"""
