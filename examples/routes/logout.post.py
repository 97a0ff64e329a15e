from lib.auth import session_options

from nitro import clear_session, define_handler, define_route_meta, redirect

define_route_meta(openapi={"summary": "Sign out", "responses": {303: {"description": "To /login"}}})


@define_handler
async def handler(event):
    await clear_session(event, **session_options())
    return redirect("/login", 303)
