from nitro.config import define_nitro_config

config = define_nitro_config(
    runtime_config={
        "app_name": "nitro notes",
        "max_notes": 100,
        "session_password": "",  # NITRO_SESSION_PASSWORD (32+ characters) in production
    },
    public_assets=[{"dir": "public", "max_age": 3600}],
)
