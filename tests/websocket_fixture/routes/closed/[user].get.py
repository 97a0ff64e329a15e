"""What the chat room's close hook recorded for a user (read by the tests)."""

from nitro import define_handler, use_storage


@define_handler
async def handler(event):
    return await use_storage("data").get_item(f"closed:{event.params['user']}")
