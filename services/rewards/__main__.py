"""Run the rewards service: `python -m services.rewards`."""

from services.rewards.config import RewardsSettings
from shared.service import serve
from shared.settings import get_settings

serve("services.rewards.app:create_app", get_settings(RewardsSettings))
