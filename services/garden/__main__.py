"""Run the garden service: `python -m services.garden`."""

from services.garden.config import GardenSettings
from shared.service import serve
from shared.settings import get_settings

serve("services.garden.app:create_app", get_settings(GardenSettings))
