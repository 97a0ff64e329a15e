from lib.auth import check_password, session_options

from nitro import define_handler, read_body, redirect, require_content_type, use_session


@define_handler
async def handler(event):
    require_content_type(event, ["application/x-www-form-urlencoded", "multipart/form-data"])
    form = await read_body(event)
    user, password = str(form.get("user", "")), str(form.get("password", ""))
    if not check_password(user, password):
        return redirect("/login?error=1", 303)
    session = await use_session(event, **session_options())
    await session.update({"user": user})
    return redirect("/account", 303)
