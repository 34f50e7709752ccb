from django.apps import AppConfig


class SynthregConfig(AppConfig):
    name = "synthreg"
