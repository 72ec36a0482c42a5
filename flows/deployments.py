"""The deployments, defined once: the latest reporting year on a schedule, and a parameterised backfill.

Two routes run them, from this one definition:

* `xxgk serve` registers them on the server named by PREFECT_API_URL and runs their flow runs in
  its own process (`prefect.serve`), as `ingest/latest-year-serve` and `backfill/backfill-serve`;
* `prefect deploy --all` reads `prefect.yaml` (rendered from `DEPLOYMENTS` by
  `xxgk deployments --write`; a test keeps the committed file equal to the rendering) and registers
  `ingest/latest-year` and `backfill/backfill` on the `xxgk` process work pool, for
  `prefect worker start --pool xxgk`.

The routes' names differ on purpose: each registering the other's names would replace its
deployments (a served deployment has no pull step and no work pool; a worker given one cannot find
the code). The worker route's pull step is `flows.deployments.enter_checkout`: it finds the code
through the `flows` package the worker's Python imports (the project installed in the worker's
environment), so no environment variable has to be set when deploying or running; a worker whose
Python has no checkout gets that reason, not a `FileNotFoundError`.

Schedules are in Asia/Shanghai: daily at 06:30 in the reporting season (January to March, when
reports appear), weekly on Mondays at 06:30 otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tasks.errors import SettingsError
from tasks.settings import DEFAULT_CATALOGUE, DEFAULT_DATA_DIR, SITES_LIMIT

TIMEZONE: Final = "Asia/Shanghai"
SEASON_CRON: Final = "30 6 * 1-3 *"  # daily, January to March
OFF_SEASON_CRON: Final = "30 6 * 4-12 1"  # Mondays, April to December
WORK_POOL: Final = "xxgk"
SERVE_SUFFIX: Final = "-serve"
PREFECT_YAML: Final = Path(__file__).resolve().parents[1] / "prefect.yaml"


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One deployment as both routes register it."""

    name: str
    flow: str  # the flow's function name in flows/ingest.py (also its Prefect name)
    description: str
    crons: tuple[str, ...] = ()
    tags: tuple[str, ...] = ("xxgk",)
    concurrency_limit: int = 1  # one run of a deployment at a time: a year is published as one unit
    collision: str = "ENQUEUE"  # what a run that finds the limit taken does (CANCEL_NEW: give up)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def entrypoint(self) -> str:
        return f"flows/ingest.py:{self.flow}"


DEPLOYMENTS: Final = (
    DeploymentSpec("latest-year", "ingest",
                   "Ingest the latest reporting year (daily January–March, weekly otherwise).",
                   crons=(SEASON_CRON, OFF_SEASON_CRON), collision="CANCEL_NEW"),  # a run already does it
    DeploymentSpec("backfill", "backfill",
                   "Ingest a range of past reporting years; completed years are skipped unless force.",
                   tags=("xxgk", "backfill")),
)


def _parameters(spec: DeploymentSpec, catalogue: str, data_dir: str) -> dict[str, Any]:
    return {"catalogue": catalogue, "data_dir": data_dir, **spec.parameters}


def build_deployments(catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR) -> list[Any]:
    """The `xxgk serve` deployments (`RunnerDeployment`s named `<name>-serve`)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.schedules import Cron

    from flows import ingest as flows

    return [
        getattr(flows, spec.flow).to_deployment(
            name=spec.name + SERVE_SUFFIX, description=spec.description,
            schedules=[Cron(c, timezone=TIMEZONE) for c in spec.crons],
            parameters=_parameters(spec, catalogue, data_dir),
            concurrency_limit=ConcurrencyLimitConfig(limit=spec.concurrency_limit,
                                                     collision_strategy=spec.collision),
            tags=[*spec.tags, "serve"],
        )
        for spec in DEPLOYMENTS
    ]


def render_prefect_yaml(catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR) -> str:
    """prefect.yaml for `prefect deploy --all`, from `DEPLOYMENTS` (the worker route)."""
    import prefect
    import yaml

    deployments = [
        {"name": spec.name, "entrypoint": spec.entrypoint, "description": spec.description,
         "parameters": _parameters(spec, catalogue, data_dir),
         "schedules": [{"cron": c, "timezone": TIMEZONE} for c in spec.crons],
         "concurrency_limit": {"limit": spec.concurrency_limit, "collision_strategy": spec.collision},
         "tags": list(spec.tags),
         "work_pool": {"name": WORK_POOL}}
        for spec in DEPLOYMENTS
    ]
    body = {"name": "xxgk", "prefect-version": prefect.__version__, "build": None, "push": None,
            "pull": [{"flows.deployments.enter_checkout": {}}], "deployments": deployments}
    head = (
        "# Rendered from flows/deployments.py by `xxgk deployments --write`: edit that file, not this one.\n"
        "# The worker route (names differ from `xxgk serve`'s, so the two never replace each other):\n"
        f"#   prefect work-pool create {WORK_POOL} --type process\n"
        "#   prefect --no-prompt deploy --all\n"
        f"#   prefect worker start --pool {WORK_POOL}\n"
    )
    return head + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=120)


def ensure_sites_limit() -> None:
    """Create the global concurrency limit `xxgk-sites` (1 slot) on the current API if it is missing.

    Every top-level ingest or backfill run holds its slot while it runs (flows/ingest.py), so two
    runs — two deployments, two workers, a manual backfill beside the schedule — never fetch from
    the government sites at the same time; within a run, the per-host gate and host-affine
    batches keep each host's limits. `xxgk serve` and the worker route's pull step create it.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(SITES_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=SITES_LIMIT, limit=1))


def enter_checkout() -> dict[str, str]:
    """Pull step of the worker route: work in the checkout whose `flows` package this Python imports.

    Prefect runs it in the flow-run process before loading `flows/ingest.py`; the checkout is the
    one the worker's environment installed (`pip install -e .`), wherever it is on that machine.
    """
    root = Path(__file__).resolve().parents[1]
    if not (root / "flows" / "ingest.py").is_file() or not (root / "tasks").is_dir():
        raise SettingsError(
            f"no xxgk checkout at {root} (flows/ingest.py is missing): install the project in the "
            "worker's Python from a checkout (pip install -e /path/to/xxgk) and start the worker again")
    os.chdir(root)
    ensure_sites_limit()
    return {"directory": str(root)}


def serve_deployments(catalogue: str = DEFAULT_CATALOGUE, data_dir: str = DEFAULT_DATA_DIR) -> None:
    """Serve until SIGTERM/Ctrl-C. Schedules are not paused on the way out (that needs the API, and
    with the API down it hangs the shutdown): runs falling due meanwhile wait as Late, and when serve
    is back the first runs and the rest of `latest-year-serve` are cancelled (CANCEL_NEW)."""
    from prefect import serve

    ensure_sites_limit()
    serve(*build_deployments(catalogue, data_dir), limit=1, pause_on_shutdown=False)
