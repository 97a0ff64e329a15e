"""Request and response utilities, one module per HTTP concern (h3's `utils/`)."""
