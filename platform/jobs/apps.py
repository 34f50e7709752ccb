from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import import_string


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: Django imports apps.py before any model can be (checks reads job types).
        from generators import registry
        from jobs import checks  # noqa: F401  (registers system checks)

        # Plugins join the built-ins once, then the registry is frozen for this process.
        registry.load_plugins()
        for dotted_path in settings.SYNTHREG_GENERATORS:
            registry.register(import_string(dotted_path), source=dotted_path)
        registry.freeze()
