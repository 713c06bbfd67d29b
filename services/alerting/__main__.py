"""Run the alerting service: `python -m services.alerting`."""

from services.alerting.config import AlertingSettings
from shared.service import serve
from shared.settings import get_settings

serve("services.alerting.app:create_app", get_settings(AlertingSettings))
