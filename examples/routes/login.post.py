from lib.auth import check_password, session_options

from nitro import (
    define_handler,
    define_route_meta,
    read_body,
    redirect,
    require_content_type,
    use_session,
)

define_route_meta(
    openapi={
        "summary": "Sign in (the form on /login)",
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"user": {"type": "string"}, "password": {"type": "string"}},
                    }
                }
            }
        },
        "responses": {
            303: {"description": "To /account when signed in, else back to /login?error=1"},
            400: {"description": "No content type"},
            415: {"description": "Not a form"},
        },
    }
)


@define_handler
async def handler(event):
    require_content_type(event, ["application/x-www-form-urlencoded", "multipart/form-data"])
    form = await read_body(event) or {}  # an empty body reads as None
    user, password = str(form.get("user", "")), str(form.get("password", ""))
    if not check_password(user, password):
        return redirect("/login?error=1", 303)
    session = await use_session(event, **session_options())
    await session.update({"user": user})
    return redirect("/account", 303)
