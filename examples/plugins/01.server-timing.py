import time

from nitro import define_plugin


@define_plugin
def plugin(nitro_app):
    def add_timing(event, response):
        started = event.context.get("started")
        if started is not None:
            response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"

    nitro_app.hooks.hook("response", add_timing)
