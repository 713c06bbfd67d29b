"""The garden API: routers by resource."""

from fastapi import APIRouter

routers: tuple[APIRouter, ...] = ()
