"""One NotificationService per process: the HTTP app builds it and registers it here (the
in-process worker uses the same); a worker process of its own builds it from settings."""

from __future__ import annotations

from gateway.core.crypto import Cipher
from gateway.notifications.service import NotificationService
from settings import Settings, get_settings

_service: NotificationService | None = None


def build_notifications(settings: Settings, cipher: Cipher) -> NotificationService:
    """The service, and the process's own from now on."""
    global _service
    _service = NotificationService(settings, cipher)
    return _service


def notification_service() -> NotificationService:
    if _service is not None:
        return _service
    settings = get_settings()
    return build_notifications(settings, Cipher(settings.keys))
