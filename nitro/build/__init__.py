"""Building: scanning a project into a manifest (pure), assembling its app, and the
output steps presets share."""
