"""The Synthreg Django project. Importing it loads the Celery app, so tasks bind to it."""

from synthreg.celery import app as celery_app

__all__ = ["celery_app"]
