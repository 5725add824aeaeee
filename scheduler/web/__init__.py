"""The web console: :func:`scheduler.web.app.create_app` builds the ASGI application ``relsync serve`` runs."""
