"""One router per area of the app; :data:`ROUTERS` is what :func:`mujun.web.create_app` includes."""

from mujun.web.routes import (
    admin,
    cleanup,
    cycle,
    diff,
    enterprise,
    exports,
    health,
    leader,
    login,
    map,
    objections,
    overview,
    registers,
    results,
    schemes,
    selfcheck,
    sensitivity,
    strategy,
    tiers,
    units,
)

ROUTERS = [
    m.router
    for m in (
        login,
        overview,
        results,
        enterprise,
        units,
        map,
        leader,
        schemes,
        health,
        exports,
        strategy,
        cleanup,
        tiers,
        registers,
        cycle,
        selfcheck,
        objections,
        sensitivity,
        diff,
        admin,
    )
]
