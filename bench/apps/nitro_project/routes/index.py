from nitro import define_handler


@define_handler
async def handler(event):
    return {"hello": "world"}
