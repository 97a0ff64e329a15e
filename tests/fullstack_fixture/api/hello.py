from nitro import define_handler


@define_handler
def handler(event):
    return {"message": "Hello from nitro"}
