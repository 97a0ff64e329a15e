from nitro import define_handler, html, use_runtime_config


@define_handler
async def handler(event):
    return html(
        """<!doctype html><html><head><title>{name}</title><link rel="stylesheet" href="/style.css"></head>
<body><h1>{name}</h1>
<p><a href="/login">Sign in</a> to try sessions.</p>
<p>Try the API:</p>
<pre>curl -X POST localhost:3000/api/notes -H 'content-type: application/json' -d '{{"title": "hi"}}'
curl localhost:3000/api/notes
curl localhost:3000/api/notes/1</pre></body></html>""",
        name=use_runtime_config().app_name,
    )
