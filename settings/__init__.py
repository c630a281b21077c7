"""Typed settings from the environment: the one place that knows every knob."""

from settings.model import Mode, PlanTier, Settings, SettingsError, get_settings, reset_settings

__all__ = ["Mode", "PlanTier", "Settings", "SettingsError", "get_settings", "reset_settings"]
