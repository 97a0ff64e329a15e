import os

from nitro.config import define_nitro_config

websocket = {"max_message_size": 1024}
if os.environ.get("WS_REDIS_URL"):
    websocket["redis_url"] = "{{WS_REDIS_URL}}"
    websocket["channel_prefix"] = os.environ["WS_CHANNEL_PREFIX"]

config = define_nitro_config(
    websocket=websocket,
    route_rules={"/old-chat/**": {"redirect": "/chat/**"}},
)
