"""What alert evaluation adds to an assessment create: the same creates with
the rules on and off (ALERTS_ENABLED), alternating create by create in rounds
in one run.

Target (issue #21): alerts on / off <= 1.10 (the median of the rounds). The
wounds are followed weekly-ish, up to about 50 assessments each by the end.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from tests.bench.bench_records import _assessment_body
from tests.bench.common import env_int, make_app

N_WOUNDS = 20
ROUND = 40
ROUNDS = env_int("BENCH_ALERT_ROUNDS", 12)


def run(results: list[dict]) -> None:
    app = make_app(WEBHOOK_AUTODELIVER=False)
    from tests.factories import Factory

    factory = Factory(app)
    clinic = factory.clinic("Bench Alerts Clinic")
    nurse = factory.actor("nurse", clinic)
    onset = datetime.now(UTC) - timedelta(days=400)
    wounds = []
    for i in range(N_WOUNDS):
        pid = nurse.post(
            "/api/v1/patients",
            json={
                "mrn": f"BA{i}",
                "given_name": "Bench",
                "family_name": "Alerts",
                "birth_date": "1950-01-01",
                "sex": "female",
            },
        ).json["id"]
        wounds.append(
            nurse.post(
                f"/api/v1/patients/{pid}/wounds",
                json={
                    "body_site": "axilla",
                    "laterality": "left",
                    "in_skin_fold": True,
                    "etiology": "radiation_ulcer",
                    "onset_date": onset.date().isoformat(),
                },
            ).json["id"]
        )
    n = 0

    def create(on: bool) -> float:
        """One assessment create (the next wound in turn), alerts on or off: its time."""
        nonlocal n
        app.config["ALERTS_ENABLED"] = on
        wid = wounds[n % N_WOUNDS]
        body = _assessment_body(0, onset + timedelta(hours=6 * n))
        n += 1
        started = time.perf_counter()
        r = nurse.post(f"/api/v1/wounds/{wid}/assessments", json=body)
        took = time.perf_counter() - started
        assert r.status_code == 201, r.json
        return took

    for _ in range(ROUND):  # warm both paths
        create(True)
        create(False)
    ratios = []
    for _ in range(ROUNDS):
        # The two sides alternate create by create, which goes first swapping
        # every pair: a slow spell of this shared machine lands on both sides
        # alike instead of on one side's half of the round.
        took = {True: 0.0, False: 0.0}
        for i in range(ROUND // 2):
            for on in (True, False) if i % 2 == 0 else (False, True):
                took[on] += create(on)
        ratios.append(took[True] / took[False])
    app.config["ALERTS_ENABLED"] = True
    print(
        f"   assessment create, alerts on / off over {len(ratios)} rounds: min {min(ratios):.3f},"
        f" median {statistics.median(ratios):.3f}, max {max(ratios):.3f}"
    )
    results += [
        {
            "name": "assessment_create_alerts_on_vs_off_median",
            "value": statistics.median(ratios),
            "unit": "ratio",
            "target": 1.10,
            "better": "lower",
        },
        {
            "name": "assessment_create_alerts_on_vs_off_max",
            "value": max(ratios),
            "unit": "ratio",
            "target": None,
            "better": "lower",
        },
    ]
