from django.apps import AppConfig
from django.conf import settings


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: Django imports apps.py before any model can be (checks reads job types).
        from generators import registry
        from jobs import checks  # noqa: F401  (registers system checks)
        from jobs.types import JOB_TYPES

        # The deployment's own generators and job types join the built-ins and plugins, then the
        # registries are frozen.
        for dotted_path in settings.SYNTHREG_GENERATORS:
            registry.register_path(dotted_path)
        registry.freeze()
        for dotted_path in settings.SYNTHREG_JOB_TYPES:
            JOB_TYPES.register_path(dotted_path)
        JOB_TYPES.freeze()
