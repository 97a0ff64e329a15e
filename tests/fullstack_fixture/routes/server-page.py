from nitro import define_handler, html


@define_handler
def handler(event):
    return html("<h1>a nitro route</h1>")
