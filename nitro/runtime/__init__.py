"""Start-up: what an app runs before its first request, built or not.

`load_app` reads the build's manifest (or, without a build, scans the project:
`nitro dev`, `nitro.testing`), loads the config, and makes the `NitroApp` with its
storage, databases and tasks. A preset's entry module calls it; nothing here knows
a platform. The scan lives here, not in `nitro.bundle`, because start-up without a
build needs it; the build runs the same scan once and writes its result.
"""
