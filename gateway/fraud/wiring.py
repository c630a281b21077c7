"""One blocklist per process: the API, the back office and the jobs share its matcher."""

from __future__ import annotations

import functools

from gateway.core.crypto import Cipher
from gateway.fraud.imports import BlocklistImports
from gateway.fraud.matcher import Matcher
from gateway.fraud.mirror import BlocklistMirror
from gateway.fraud.service import BlocklistService
from settings import get_settings


@functools.cache
def blocklist_service() -> BlocklistService:
    return BlocklistService(Cipher(get_settings().keys), BlocklistMirror(Matcher()))


@functools.cache
def blocklist_imports() -> BlocklistImports:
    return BlocklistImports(blocklist_service())
