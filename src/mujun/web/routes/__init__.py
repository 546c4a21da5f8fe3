"""One router per area of the app; :data:`ROUTERS` is what :func:`mujun.web.create_app` includes."""

from mujun.web.routes import (
    admin,
    cleanup,
    cycle,
    diff,
    enterprise,
    exports,
    health,
    health_upload,
    leader,
    login,
    map,
    objections,
    overview,
    quarantine,
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
        quarantine,
        health_upload,
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
