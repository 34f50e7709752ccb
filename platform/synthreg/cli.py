"""`synthreg` console script: Django's manage.py, usable from any directory."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreg.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
