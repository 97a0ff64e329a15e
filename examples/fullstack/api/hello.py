from nitro import define_handler, get_query, use_runtime_config


@define_handler
async def handler(event):
    name = get_query(event).get("name", "world")
    return {"message": f"{use_runtime_config().greeting}, {name}!"}
