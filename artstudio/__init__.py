"""Artstudio: a painting application with local generative models beside the brush."""

__version__ = "0.1.0"
APP_NAME = "Artstudio"
