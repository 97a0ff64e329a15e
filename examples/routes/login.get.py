from nitro import define_handler, get_query, html


@define_handler
async def handler(event):
    failed = get_query(event).get("error") == "1"
    return html(
        """<!doctype html><html><head><title>Sign in</title><link rel="stylesheet" href="/style.css"></head>
<body><h1>Sign in</h1>{message}
<form method="post" action="/login">
  <label>User <input name="user" autocomplete="username" value="demo"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form><p>Try <code>demo</code> / <code>demo-password</code>.</p></body></html>""",
        message="Wrong user or password." if failed else "",
    )
