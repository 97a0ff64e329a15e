"""The OpenAPI 3.1 document of an app's routes and its docs page (``/_docs``).

`paths` maps router notation to OpenAPI paths, `operation` reads a handler's
signature and docstring, `schemas` turns types into JSON Schemas (pydantic),
`document` puts them together with each route's ``define_route_meta``, `serve`
adds ``/_openapi.json`` and ``/_docs`` to an app, `docs_page` serves Swagger UI.
Nothing here is imported unless the app documents itself.
"""
