"""One router per area of the app; :data:`ROUTERS` is what :func:`mujun.web.create_app` includes."""

from mujun.web.routes import enterprise, exports, health, overview, results, schemes, units

ROUTERS = [m.router for m in (overview, results, enterprise, units, schemes, health, exports)]
