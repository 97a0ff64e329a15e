from nitro import define_handler


@define_handler
async def handler(event):
    return {"id": event.params["id"]}
