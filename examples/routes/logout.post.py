from lib.auth import session_options

from nitro import clear_session, define_handler, redirect


@define_handler
async def handler(event):
    await clear_session(event, **session_options())
    return redirect("/login", 303)
