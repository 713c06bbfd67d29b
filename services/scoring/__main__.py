"""Run the scoring service: `python -m services.scoring`."""

from services.scoring.config import ScoringSettings
from shared.service import serve
from shared.settings import get_settings

serve("services.scoring.app:create_app", get_settings(ScoringSettings))
