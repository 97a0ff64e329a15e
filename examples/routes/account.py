from lib.auth import session_options

from nitro import define_handler, define_route_meta, html, redirect, use_session

define_route_meta(openapi={"responses": {303: {"description": "To /login when not signed in"}}})


@define_handler
async def handler(event):
    session = await use_session(event, **session_options())
    user = session.data.get("user")
    if user is None:
        return redirect("/login", 303)
    return html(
        """<!doctype html><html><head><title>Account</title><link rel="stylesheet" href="/style.css"></head>
<body><h1>Hello, {user}</h1><p>Your session: <code>{id}</code>.</p>
<form method="post" action="/logout"><button>Sign out</button></form></body></html>""",
        user=user,
        id=session.id,
    )
