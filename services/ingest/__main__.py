"""Run the ingest service: `python -m services.ingest`."""

from services.ingest.config import IngestSettings
from shared.service import serve
from shared.settings import get_settings

serve("services.ingest.app:create_app", get_settings(IngestSettings))
