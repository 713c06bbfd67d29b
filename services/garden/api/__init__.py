"""The garden API: routers by resource."""

from fastapi import APIRouter

from services.garden.api.campaigns import router as campaigns
from services.garden.api.gardens import router as gardens
from services.garden.api.harvest import router as harvest
from services.garden.api.leaderboards import router as leaderboards
from services.garden.api.settings import router as settings
from services.garden.api.timeline import router as timeline

routers: tuple[APIRouter, ...] = (
    gardens,
    timeline,
    harvest,
    leaderboards,
    campaigns,
    settings,
)
