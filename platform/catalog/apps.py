from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_generators(sender, **kwargs) -> None:
    from catalog.generator_rows import sync_all_generators

    sync_all_generators()


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import checks  # noqa: F401  (registers system checks)
        from catalog.formats import register_configured

        register_configured()

        # Built-in and plugin generators show in the catalog after every migrate.
        post_migrate.connect(_sync_generators, sender=self)
