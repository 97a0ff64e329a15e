from lib import notes

from nitro import HTTPError, define_handler, set_response_status, use_runtime_config


@define_handler
async def handler(event, note: notes.NewNote):
    if len(notes.NOTES) >= use_runtime_config().max_notes:
        raise HTTPError(409, "Too many notes")
    set_response_status(event, 201)
    return notes.add(note)
