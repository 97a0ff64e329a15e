from lib.notes import NOTES

from nitro import define_handler


@define_handler
async def handler(event):
    return {"notes": list(NOTES.values())}
