from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from generators import registry

        from jobs import checks  # noqa: F401  (registers system checks)

        # Plugins join the built-ins once, then the registry is frozen for this process.
        registry.load_plugins()
        registry.freeze()
