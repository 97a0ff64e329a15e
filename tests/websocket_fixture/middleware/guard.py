from nitro import HTTPError, define_middleware


@define_middleware
def guard(event):
    if event.headers.get("x-block"):
        raise HTTPError(403, "blocked by middleware")
    event.context.via_middleware = True
