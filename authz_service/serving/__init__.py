"""Running the app: gunicorn options and workers, request reading, access log, policy watch, backup."""
