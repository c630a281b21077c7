"""Settings every test run shares; set before any gateway module reads them."""

import os
import tempfile

from tests.emulators import free_port

_data_dir = tempfile.mkdtemp(prefix="bg-test-data-")
os.environ["BG_DATA_DIR"] = _data_dir
os.environ["BG_MODE"] = "sandbox"
os.environ["BG_LOG_LEVEL"] = "INFO"
os.environ["BG_LOG_FORMAT"] = "json"
# Tests fire many requests with one key; the limiter has a test of its own with a small budget.
os.environ["BG_RATE_LIMIT_PER_MINUTE"] = "1000000"
os.environ["BG_STAFF_SIGN_INS_PER_MINUTE"] = "1000000"
# The in-process app's sandbox Zuora: tests that need it serve an emulator on this port.
os.environ["BG_ZUORA_EMULATOR_PORT"] = str(free_port())
os.environ["BG_STRIPE_EMULATOR_PORT"] = str(free_port())
# Notification endpoints in tests point at receivers on loopback.
os.environ.setdefault("BG_NOTIFICATION_ALLOWED_HOSTS", "127.0.0.1")

# Database, app and live-server fixtures, shared by tests/integration and tests/browser.
pytest_plugins = ["tests.database", "tests.emulators", "tests.drills"]
