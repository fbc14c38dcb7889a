"""The registry server: the Flask app, its API blueprints and the web UI."""
