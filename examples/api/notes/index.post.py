from lib import notes

from nitro import HTTPError, define_handler, define_route_meta, set_response_status, use_runtime_config

define_route_meta(
    openapi={
        "responses": {
            201: {
                "description": "The note, as stored",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}},
            },
            409: {"description": "The store is full (runtime config `max_notes`)"},
        }
    }
)


@define_handler
async def handler(event, note: notes.NewNote) -> notes.Note:
    """Add a note.

    The body is validated by the `NewNote` model: a bad body is a 400 listing the issues.
    """
    if len(notes.NOTES) >= use_runtime_config().max_notes:
        raise HTTPError(409, "Too many notes")
    set_response_status(event, 201)
    return notes.add(note)
