from nitro import define_handler

calls = []


@define_handler
def handler(event):
    calls.append(event.path)
    return {"calls": len(calls)}
