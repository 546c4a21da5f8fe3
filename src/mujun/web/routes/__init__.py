"""One router per area of the app; :data:`ROUTERS` is what :func:`mujun.web.create_app` includes."""

from mujun.web.routes import (
    cleanup,
    enterprise,
    exports,
    health,
    overview,
    registers,
    results,
    schemes,
    strategy,
    tiers,
    units,
)

ROUTERS = [
    m.router
    for m in (overview, results, enterprise, units, schemes, health, exports, strategy, cleanup, tiers, registers)
]
